/** Option parsers shared by the CLI's commands (commander calls them with the raw text). */
import { InvalidArgumentError } from 'commander'

export function positiveInt (v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer')
  return n
}

export function nonNegativeInt (v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer')
  return n
}
