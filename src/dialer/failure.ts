/**
 * Why one address of a dial failed (pure): a short reason read from the error's code
 * and cause chain, for the aggregate error (`DialError`), the peer store's last dial
 * outcome, and the CLI's dial timeline.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { codes, DialError, Lp2pError } from '../errors.js'

export type FailureReason =
  /** The remote host answered with a TCP reset / ICMP port unreachable. */
  | 'refused'
  /** No route, network down, host unreachable. */
  | 'unreachable'
  /** The attempt, or the whole dial, ran out of time. */
  | 'timeout'
  /** The remote authenticated as another peer than the one dialed. */
  | 'wrong-peer'
  /** The connection was made but its upgrade failed. */
  | 'upgrade-failed'
  /** The remote, a limit or a gater refused the connection. */
  | 'denied'
  /** Not dialed: in backoff after earlier failures. */
  | 'backed-off'
  /** Not dialed: its address class is black-holed. */
  | 'black-holed'
  /** Not dialed: no transport of this node can dial it. */
  | 'no-transport'
  /** Not dialed: the dial ended (timeout) before its turn. */
  | 'not-tried'
  /** Aborted by the caller or the node stopping. */
  | 'aborted'
  | 'error'

export interface DialFailure {
  addr: Multiaddr
  reason: FailureReason
  error: Error
}

/** The most failures a dial error lists in its message (go-libp2p caps its DialError at 16 too). */
export const MAX_LISTED_FAILURES = 16

export function failureReason (err: Error): FailureReason {
  const sys = systemCode(err)
  if (sys === 'ECONNREFUSED') return 'refused'
  if (sys === 'ENETUNREACH' || sys === 'EHOSTUNREACH' || sys === 'ENETDOWN' || sys === 'EHOSTDOWN' ||
    sys === 'EADDRNOTAVAIL' || sys === 'ENOTFOUND' || sys === 'EAI_AGAIN') return 'unreachable'
  const code = err instanceof Lp2pError ? err.code : undefined
  switch (code) {
    case codes.ERR_TIMEOUT: return 'timeout'
    case codes.ERR_UNEXPECTED_PEER: return 'wrong-peer'
    case codes.ERR_DIAL_BACKOFF: return 'backed-off'
    case codes.ERR_DIAL_BLACK_HOLE: return 'black-holed'
    case codes.ERR_NO_TRANSPORT: return 'no-transport'
    case codes.ERR_CONNECTION_DENIED: return 'denied'
    case codes.ERR_ABORTED: return 'aborted'
  }
  if (err.name === 'UpgradeError') return 'upgrade-failed'
  return 'error'
}

/** The first `code` of a Node system error (`ECONNREFUSED`, ...) in the cause chain. */
function systemCode (err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code) && !code.startsWith('ERR_')) return code
  }
  return undefined
}

/**
 * The error of a dial that failed everywhere: one address tried and nothing else
 * known gives that address's own error (its code stays what callers match on);
 * anything more gives a {@link DialError} listing every address and why, coded
 * `ERR_TIMEOUT` when the whole dial ran out of time, else `ERR_ALL_DIALS_FAILED`.
 */
export function dialFailedError (target: string, failures: readonly DialFailure[], end?: Error): Error {
  const only = failures[0]
  if (failures.length === 1 && only !== undefined && end === undefined) return only.error
  const lines = failures.slice(0, MAX_LISTED_FAILURES).map((f) => `${f.addr.toString()}: ${f.reason} (${describe(f.error)})`)
  if (failures.length > MAX_LISTED_FAILURES) lines.push(`and ${failures.length - MAX_LISTED_FAILURES} more`)
  const head = end !== undefined ? `dial of ${target} failed: ${end.message}` : `all ${failures.length} addresses of ${target} failed`
  const code = end instanceof Lp2pError && end.code === codes.ERR_TIMEOUT ? codes.ERR_TIMEOUT : codes.ERR_ALL_DIALS_FAILED
  return new DialError(`${head}: ${lines.join('; ')}`, failures.map((f) => f.error), failures.map((f) => ({ address: f.addr, reason: f.reason, error: f.error })), code)
}

function describe (err: Error): string {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message
}
