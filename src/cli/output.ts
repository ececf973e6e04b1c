/** Output helpers for the CLI: one error line with its code on stderr, JSON lines. */
import { CommanderError } from 'commander'
import { codes, isLp2pError, Lp2pError } from '../errors.js'

/** commander's exits that are not errors: help and version were printed. */
const COMMANDER_EXITS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version', 'commander.executeSubCommandAsync'])

/**
 * commander's own errors (`commander.invalidArgument`, `commander.unknownOption`, ...)
 * as lp2p errors with stable codes: a user sees `lp2p: ERR_USAGE: ...` like every
 * other error, never commander's codes.
 */
export function fromCommanderError (err: CommanderError): Lp2pError | undefined {
  if (COMMANDER_EXITS.has(err.code)) return undefined
  const message = err.message.replace(/^error: /, '')
  if (err.code === 'commander.invalidArgument') return new Lp2pError(codes.ERR_INVALID_ARG_VALUE, message)
  return new Lp2pError(codes.ERR_USAGE, `${message} (see lp2p --help)`)
}

/** Prints `lp2p: ERR_CODE: message` (and the cause chain, briefly) and sets exit code 1. */
export function reportError (err: unknown): void {
  if (err instanceof CommanderError) {
    const mapped = fromCommanderError(err)
    if (mapped === undefined) {
      process.exitCode = err.exitCode
      return
    }
    err = mapped
  }
  const parts: string[] = []
  let e: unknown = err
  for (let depth = 0; e !== undefined && depth < 4; depth++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code
      parts.push(typeof code === 'string' && depth === 0 ? `${code}: ${e.message}` : e.message)
      e = e.cause
    } else {
      parts.push(String(e))
      break
    }
  }
  // The first message usually already quotes its cause; repeat only what it does not.
  const line = parts.filter((p, i) => i === 0 || !(parts[0] as string).includes(p)).join(' <- ')
  process.stderr.write(`lp2p: ${isLp2pError(err) || (err as { code?: unknown })?.code !== undefined ? '' : 'error: '}${line}\n`)
  process.exitCode = 1
}

export function jsonLine (value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

/** Resolves at the first SIGINT or SIGTERM (then both handlers are removed). */
export async function untilSignal (): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
