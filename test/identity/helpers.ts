/** Shared helpers for the identity tests. */
import { isLp2pError, type ErrorCode } from '../../src/errors.js'

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
export const code = (c: ErrorCode) => (e: unknown): boolean => isLp2pError(e, c)

/** Flips one bit of a copy of `b`. */
export function flip (b: Uint8Array, bit: number): Uint8Array {
  const out = Uint8Array.from(b)
  const i = Math.floor(bit / 8) % out.length
  out[i] = (out[i] as number) ^ (1 << (bit % 8))
  return out
}
