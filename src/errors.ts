/**
 * The one error hierarchy of lp2p.
 *
 * Every error this library raises on purpose is an {@link Lp2pError} with a stable
 * `code` string that callers may match on (the message text may change between
 * versions; the code does not). Causes are chained with the standard `cause`
 * property, so `err.cause` tells which lower layer failed.
 *
 * At the API edge, a wrong argument type is a plain `TypeError` and a wrong value a
 * `RangeError`, as Node's own APIs do; those carry `code: 'ERR_INVALID_ARG_TYPE'` or
 * `'ERR_INVALID_ARG_VALUE'` too (see {@link invalidArgType}, {@link invalidArgValue}).
 */

/** All stable error codes. Add new ones here, never rename one. */
export const codes = {
  // --- wire / codecs -------------------------------------------------------------
  /** A varint was longer than allowed, not minimally encoded, or overflowed. */
  ERR_INVALID_VARINT: 'ERR_INVALID_VARINT',
  /** A length read from the wire exceeded the named limit for that field. */
  ERR_MESSAGE_TOO_LARGE: 'ERR_MESSAGE_TOO_LARGE',
  /** Bytes that do not decode as the expected message (protobuf, frame, payload). */
  ERR_INVALID_MESSAGE: 'ERR_INVALID_MESSAGE',

  // --- identity ------------------------------------------------------------------
  /** Key bytes that are not a valid key of the claimed type. */
  ERR_INVALID_KEY: 'ERR_INVALID_KEY',
  /** A key type this implementation does not know. */
  ERR_UNSUPPORTED_KEY_TYPE: 'ERR_UNSUPPORTED_KEY_TYPE',
  /** A string or byte form that is not a valid peer id. */
  ERR_INVALID_PEER_ID: 'ERR_INVALID_PEER_ID',
  /** A signature did not verify. */
  ERR_INVALID_SIGNATURE: 'ERR_INVALID_SIGNATURE',
  /** A key file that cannot be read or parsed. */
  ERR_INVALID_KEY_FILE: 'ERR_INVALID_KEY_FILE',
  /** A data directory (identity, peer store) that cannot be created or used. */
  ERR_DATA_DIR: 'ERR_DATA_DIR',

  // --- signed envelopes and peer records (RFC 0002, RFC 0003) --------------------
  /**
   * A signed envelope that verifies but does not hold a valid peer record: another
   * payload type, or a record of another peer than the key that signed it.
   */
  ERR_INVALID_PEER_RECORD: 'ERR_INVALID_PEER_RECORD',

  // --- peer store ------------------------------------------------------------------
  /** The persistent peer store's files cannot be read as a peer store; the message names the path. */
  ERR_PEER_STORE_CORRUPT: 'ERR_PEER_STORE_CORRUPT',
  /** The persistent peer store cannot be opened (held by another process, permissions); names the path. */
  ERR_PEER_STORE_UNAVAILABLE: 'ERR_PEER_STORE_UNAVAILABLE',
  /** A per-peer collection of the peer store (metadata keys, tags) is full. */
  ERR_TOO_MANY_ENTRIES: 'ERR_TOO_MANY_ENTRIES',

  // --- multistream-select --------------------------------------------------------
  /** No protocol both sides support; or the remote broke the negotiation rules. */
  ERR_NEGOTIATION_FAILED: 'ERR_NEGOTIATION_FAILED',
  /** The remote proposed more protocols than we allow on one channel. */
  ERR_TOO_MANY_PROPOSALS: 'ERR_TOO_MANY_PROPOSALS',

  // --- security ------------------------------------------------------------------
  /** The security handshake failed (bad message, bad signature, decryption failure). */
  ERR_HANDSHAKE_FAILED: 'ERR_HANDSHAKE_FAILED',
  /** The remote authenticated as a different peer than the one we dialed. */
  ERR_UNEXPECTED_PEER: 'ERR_UNEXPECTED_PEER',
  /** An encrypted message failed authentication after the handshake. */
  ERR_DECRYPTION_FAILED: 'ERR_DECRYPTION_FAILED',

  // --- private networks (pnet.md) ------------------------------------------------
  /** A pre-shared key (or key file) that is not a valid `/key/swarm/psk/1.0.0/` key. */
  ERR_INVALID_PSK: 'ERR_INVALID_PSK',
  /**
   * The remote is not in our private network: it holds another pre-shared key, or
   * none (its first bytes did not decrypt to the multistream header, or it closed
   * the connection before they came).
   */
  ERR_PNET_MISMATCH: 'ERR_PNET_MISMATCH',
  /** A private network was configured with a transport that brings its own security (QUIC). */
  ERR_PNET_UNSUPPORTED_TRANSPORT: 'ERR_PNET_UNSUPPORTED_TRANSPORT',

  // --- muxers and streams --------------------------------------------------------
  /** The remote violated the muxer protocol (unknown stream, window overrun, ...). */
  ERR_MUXER_PROTOCOL: 'ERR_MUXER_PROTOCOL',
  /** The stream was reset by the remote. */
  ERR_STREAM_RESET: 'ERR_STREAM_RESET',
  /**
   * A stream's reader fell behind a muxer without flow control (mplex) by more than
   * the stream's receive buffer, so the stream was reset.
   */
  ERR_STREAM_BUFFER_FULL: 'ERR_STREAM_BUFFER_FULL',
  /** A stream limit (per connection, per protocol, unacknowledged) was reached. */
  ERR_TOO_MANY_STREAMS: 'ERR_TOO_MANY_STREAMS',
  /** The muxer or connection is closed or closing; no new streams. */
  ERR_MUXER_CLOSED: 'ERR_MUXER_CLOSED',
  /** The remote sent GoAway with an error code, or our side went away. */
  ERR_GO_AWAY: 'ERR_GO_AWAY',
  /** A keep-alive ping went unanswered. */
  ERR_KEEP_ALIVE_TIMEOUT: 'ERR_KEEP_ALIVE_TIMEOUT',

  // --- transports and connections ------------------------------------------------
  /** No transport can dial or listen on this multiaddr. */
  ERR_NO_TRANSPORT: 'ERR_NO_TRANSPORT',
  /** A multiaddr that is malformed or unusable here. */
  ERR_INVALID_MULTIADDR: 'ERR_INVALID_MULTIADDR',
  /** The transport failed to connect (refused, unreachable, reset). */
  ERR_TRANSPORT_DIAL_FAILED: 'ERR_TRANSPORT_DIAL_FAILED',
  /**
   * The transport cannot run here: its native engine is not installed for this
   * platform (QUIC). The message names the missing package.
   */
  ERR_TRANSPORT_UNAVAILABLE: 'ERR_TRANSPORT_UNAVAILABLE',
  /** Listening failed (address in use, permission). */
  ERR_LISTEN_FAILED: 'ERR_LISTEN_FAILED',
  /** The connection upgrade failed; `cause` tells which step. */
  ERR_UPGRADE_FAILED: 'ERR_UPGRADE_FAILED',
  /** The connection closed while an operation was in flight. */
  ERR_CONNECTION_CLOSED: 'ERR_CONNECTION_CLOSED',
  /**
   * The connection has been silent too long and did not answer a liveness probe in
   * time: no stream is handed out on it (it may still heal; keep-alive decides).
   */
  ERR_CONNECTION_STALE: 'ERR_CONNECTION_STALE',
  /** Every address of a dial failed; see `errors`. */
  ERR_ALL_DIALS_FAILED: 'ERR_ALL_DIALS_FAILED',
  /** We have no address to dial for this peer. */
  ERR_NO_ADDRESSES: 'ERR_NO_ADDRESSES',
  /** The address (or every address) is in dial backoff after recent failures; `force` skips it. */
  ERR_DIAL_BACKOFF: 'ERR_DIAL_BACKOFF',
  /** The address's class (public IPv6, UDP) is black-holed: recent dials of it all failed. */
  ERR_DIAL_BLACK_HOLE: 'ERR_DIAL_BLACK_HOLE',
  /** Too many dials pending on this node: the dial queue is full. */
  ERR_DIAL_QUEUE_FULL: 'ERR_DIAL_QUEUE_FULL',
  /** A dial to ourselves. */
  ERR_DIALED_SELF: 'ERR_DIALED_SELF',
  /** A connection was refused by a limit or a gater. */
  ERR_CONNECTION_DENIED: 'ERR_CONNECTION_DENIED',
  /** The remote does not support a protocol we asked for on a stream. */
  ERR_UNSUPPORTED_PROTOCOL: 'ERR_UNSUPPORTED_PROTOCOL',

  // --- generic -------------------------------------------------------------------
  /** An operation did not finish in time. */
  ERR_TIMEOUT: 'ERR_TIMEOUT',
  /** An operation was aborted through its AbortSignal. */
  ERR_ABORTED: 'ERR_ABORTED',
  /** The node is not started (or already stopped). */
  ERR_NOT_STARTED: 'ERR_NOT_STARTED',
  /** A handler is already registered for this protocol. */
  ERR_HANDLER_EXISTS: 'ERR_HANDLER_EXISTS',
  /** The remote's response to a protocol (ping, identify, perf) is wrong. */
  ERR_PROTOCOL_VIOLATION: 'ERR_PROTOCOL_VIOLATION',
  /** A command line the CLI cannot run: unknown command or option, missing or extra argument. */
  ERR_USAGE: 'ERR_USAGE',
  /** Argument type or value errors at the API edge (TypeError / RangeError). */
  ERR_INVALID_ARG_TYPE: 'ERR_INVALID_ARG_TYPE',
  ERR_INVALID_ARG_VALUE: 'ERR_INVALID_ARG_VALUE'
} as const

export type ErrorCode = (typeof codes)[keyof typeof codes]

export interface Lp2pErrorOptions {
  cause?: unknown
}

/** Base class of every error lp2p raises on purpose. */
export class Lp2pError extends Error {
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: Lp2pErrorOptions) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined)
    this.code = code
  }

  override get name (): string {
    return 'Lp2pError'
  }
}

/** An operation that ran out of time. */
export class TimeoutError extends Lp2pError {
  constructor (message: string, options?: Lp2pErrorOptions) {
    super(codes.ERR_TIMEOUT, message, options)
  }

  override get name (): string {
    return 'TimeoutError'
  }
}

/** An operation aborted by its AbortSignal; `cause` is the signal's reason. */
export class AbortError extends Lp2pError {
  constructor (message = 'the operation was aborted', options?: Lp2pErrorOptions) {
    super(codes.ERR_ABORTED, message, options)
  }

  override get name (): string {
    return 'AbortError'
  }
}

/** One address of a failed dial: the address (a Multiaddr), a short reason, the error. */
export interface DialAddressFailure {
  address: { toString: () => string }
  /** `refused`, `unreachable`, `timeout`, `wrong-peer`, `upgrade-failed`, `denied`, `backed-off`, `black-holed`, `no-transport`, `not-tried`, `aborted`, `error`. */
  reason: string
  error: Error
}

/**
 * A dial that failed on every address (or ran out of time). `failures` lists each
 * address with why it failed, in the order they failed (addresses ruled out before
 * dialing first); `errors` holds their errors in the same order. The message lists
 * the first 16.
 */
export class DialError extends Lp2pError {
  readonly errors: readonly Error[]
  readonly failures: readonly DialAddressFailure[]

  /**
   * @param code `ERR_ALL_DIALS_FAILED`, or `ERR_TIMEOUT` when the whole dial ran out
   *   of time before every address had failed.
   */
  constructor (message: string, errors: readonly Error[], failures: readonly DialAddressFailure[] = [], code: ErrorCode = codes.ERR_ALL_DIALS_FAILED) {
    super(code, message, { cause: errors[errors.length - 1] })
    this.errors = errors
    this.failures = failures
  }

  override get name (): string {
    return 'DialError'
  }
}

/** The steps of a connection upgrade (`connections/README.md`, "Upgrading Connections"). */
export type UpgradeStep = 'private-network' | 'security-negotiation' | 'security-handshake' | 'muxer-negotiation' | 'muxer'

/**
 * A failed connection upgrade. `step` tells which step failed; `code` is the code of
 * the underlying error when it has one (so a wrong remote peer stays
 * `ERR_UNEXPECTED_PEER`), else `ERR_UPGRADE_FAILED`; `cause` is that error.
 */
export class UpgradeError extends Lp2pError {
  readonly step: UpgradeStep
  readonly direction: 'inbound' | 'outbound'

  constructor (step: UpgradeStep, direction: 'inbound' | 'outbound', cause: unknown) {
    const code = cause instanceof Lp2pError ? cause.code : codes.ERR_UPGRADE_FAILED
    const detail = cause instanceof Error ? cause.message : String(cause)
    super(code, `${direction} upgrade failed at ${step}: ${detail}`, { cause })
    this.step = step
    this.direction = direction
  }

  override get name (): string {
    return 'UpgradeError'
  }
}

/** True when `err` is an {@link Lp2pError}, optionally with the given code. */
export function isLp2pError (err: unknown, code?: ErrorCode): err is Lp2pError {
  return err instanceof Lp2pError && (code === undefined || err.code === code)
}

/** A `TypeError` for an argument of the wrong type, with Node's stable code. */
export function invalidArgType (name: string, expected: string, actual: unknown): TypeError {
  const err = new TypeError(`"${name}" must be ${expected}, got ${describe(actual)}`)
  Object.defineProperty(err, 'code', { value: codes.ERR_INVALID_ARG_TYPE, enumerable: true })
  return err
}

/** A `RangeError` for an argument with a wrong value, with Node's stable code. */
export function invalidArgValue (name: string, reason: string): RangeError {
  const err = new RangeError(`"${name}" ${reason}`)
  Object.defineProperty(err, 'code', { value: codes.ERR_INVALID_ARG_VALUE, enumerable: true })
  return err
}

/** Turns an AbortSignal's state into the error to throw, keeping its reason as cause. */
export function abortErrorFrom (signal: AbortSignal): AbortError {
  return new AbortError('the operation was aborted', { cause: signal.reason })
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Uint8Array) return 'a Uint8Array'
  return typeof value
}
