/**
 * The pure part of perf `/perf/1.0.0` (`specs/perf.md`, "Protocol"): the 8-byte
 * request header, the server's state machine and the client's download accounting.
 * No stream, no timer, no clock: bytes in, decisions out (GUIDE, "Architecture").
 *
 * The exchange, from the spec:
 * - client: send the response size as one big-endian uint64, then any number of
 *   upload bytes, then half-close; then read exactly the response size;
 * - server: read the uint64, read until the client's half-close ("MUST NOT be run
 *   concurrently" with the sending), send the requested number of bytes, close.
 *
 * "Zero is a valid number, so is the max uint64 value": the header can ask for up to
 * 2^64 - 1 bytes. What we send costs us CPU and bandwidth, not memory (the payload is
 * one fixed block sent again and again), so the bound on it is a policy, not a safety
 * limit: {@link PerfServerMachineOptions.maxResponseBytes}.
 */
import { codes, invalidArgValue, Lp2pError } from '../errors.js'

export const PERF_PROTOCOL = '/perf/1.0.0'

/** The request header: one big-endian uint64 (spec, "Protocol", client step 2). */
export const PERF_HEADER_LENGTH = 8

/** The largest response size the header can carry, 2^64 - 1 (spec: a valid request). */
export const PERF_MAX_U64 = (1n << 64n) - 1n

/**
 * Default {@link PerfServerMachineOptions.maxResponseBytes}: 1 TiB. A benchmark asks
 * for at most a few GiB (the libp2p perf runner uses 100 MiB to 1 GiB per run); 1 TiB
 * is about 15 minutes of sending at 10 Gbit/s, enough for any timed download and far
 * short of "forever". A server meant for timer-based downloads (the spec's request of
 * 2^64 - 1, then a reset) passes {@link PERF_MAX_U64}.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 1n << 40n

/** Encodes a perf request header: `downloadBytes` as a big-endian uint64. */
export function encodePerfHeader (downloadBytes: number | bigint): Uint8Array {
  const n = typeof downloadBytes === 'bigint' ? downloadBytes : BigInt(checkCount('downloadBytes', downloadBytes))
  if (n < 0n || n > PERF_MAX_U64) throw invalidArgValue('downloadBytes', 'must fit an unsigned 64-bit integer')
  const out = new Uint8Array(PERF_HEADER_LENGTH)
  new DataView(out.buffer).setBigUint64(0, n, false)
  return out
}

/** Throws a RangeError unless `n` is a non-negative safe integer; returns it. */
export function checkCount (name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw invalidArgValue(name, 'must be a non-negative safe integer')
  return n
}

/**
 * Response sizes at or above this are sent as "until the client stops reading": 2^53
 * bytes take 83 days at 10 Gbit/s, so a plain `number` counts every response that
 * can actually finish.
 */
const UNBOUNDED_FROM = BigInt(Number.MAX_SAFE_INTEGER)

export type PerfServerState =
  /** Waiting for (the rest of) the 8-byte header. */
  | { readonly phase: 'header', readonly have: number }
  /** Counting the upload until the client half-closes. */
  | { readonly phase: 'upload', readonly requested: bigint }
  /** Sending; `remaining` is Infinity for a response of 2^53 bytes or more. */
  | { readonly phase: 'download', readonly requested: bigint, readonly remaining: number }
  /** Everything requested was sent: close the stream. */
  | { readonly phase: 'done', readonly requested: bigint }
  /** The request was refused or broken; the driver resets the stream. */
  | { readonly phase: 'failed', readonly error: Lp2pError }

export interface PerfServerMachineOptions {
  /**
   * Largest response size served (bytes); a larger request is refused with
   * `ERR_MESSAGE_TOO_LARGE` before anything is sent. Default
   * {@link DEFAULT_MAX_RESPONSE_BYTES}; at most {@link PERF_MAX_U64}.
   */
  maxResponseBytes?: bigint
}

/**
 * The server side of one perf stream. The driver feeds it every inbound chunk
 * (`receive`) and the half-close (`receiveEnd`); once `state.phase` is `download` it
 * asks `take(blockSize)` how much to send next until `done`.
 */
export class PerfServerMachine {
  readonly #max: bigint
  readonly #header = new Uint8Array(PERF_HEADER_LENGTH)
  #state: PerfServerState = { phase: 'header', have: 0 }
  #uploaded = 0
  #sent = 0

  constructor (options: PerfServerMachineOptions = {}) {
    const max = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    if (typeof max !== 'bigint' || max < 0n || max > PERF_MAX_U64) {
      throw invalidArgValue('maxResponseBytes', 'must be a bigint from 0 to 2^64 - 1')
    }
    this.#max = max
  }

  get state (): PerfServerState {
    return this.#state
  }

  /** Upload bytes received after the header. */
  get uploaded (): number {
    return this.#uploaded
  }

  /** Response bytes handed out by `take`. */
  get sent (): number {
    return this.#sent
  }

  /**
   * An inbound chunk. Returns the new state; `failed` when the header asks for more
   * than `maxResponseBytes`. Bytes after the header are counted and dropped.
   */
  receive (chunk: Uint8Array): PerfServerState {
    const s = this.#state
    if (s.phase === 'header') {
      const n = Math.min(PERF_HEADER_LENGTH - s.have, chunk.byteLength)
      this.#header.set(chunk.subarray(0, n), s.have)
      const have = s.have + n
      if (have < PERF_HEADER_LENGTH) {
        this.#state = { phase: 'header', have }
        return this.#state
      }
      const requested = new DataView(this.#header.buffer).getBigUint64(0, false)
      if (requested > this.#max) {
        return this.#fail(new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE,
          `perf request for ${requested} bytes is over the limit of ${this.#max}`))
      }
      this.#state = { phase: 'upload', requested }
      this.#uploaded += chunk.byteLength - n
      return this.#state
    }
    if (s.phase === 'upload') {
      this.#uploaded += chunk.byteLength
      return s
    }
    if (s.phase === 'failed') return s
    // Data after the half-close cannot happen on a well-behaved stream.
    return this.#fail(new Lp2pError(codes.ERR_PROTOCOL_VIOLATION, 'perf data after the client half-closed'))
  }

  /** The client half-closed. Returns `download` (or `done` for a zero-byte request). */
  receiveEnd (): PerfServerState {
    const s = this.#state
    if (s.phase === 'header') {
      return this.#fail(new Lp2pError(codes.ERR_PROTOCOL_VIOLATION,
        `perf stream ended after ${s.have} of the ${PERF_HEADER_LENGTH} header bytes`))
    }
    if (s.phase !== 'upload') return s
    const remaining = s.requested >= UNBOUNDED_FROM ? Infinity : Number(s.requested)
    this.#state = remaining === 0 ? { phase: 'done', requested: s.requested } : { phase: 'download', requested: s.requested, remaining }
    return this.#state
  }

  /**
   * How many bytes to send next, at most `max`; 0 when nothing is left to send (or not
   * yet: before the half-close). Counts them as sent.
   */
  take (max: number): number {
    const s = this.#state
    if (s.phase !== 'download' || max <= 0) return 0
    const n = Math.min(max, s.remaining)
    const remaining = s.remaining - n
    this.#sent += n
    this.#state = remaining === 0 ? { phase: 'done', requested: s.requested } : { phase: 'download', requested: s.requested, remaining }
    return n
  }

  #fail (error: Lp2pError): PerfServerState {
    this.#state = { phase: 'failed', error }
    return this.#state
  }
}

/**
 * The client's check of the response: exactly the requested number of bytes, then the
 * server's close. More is a violation as soon as it arrives (we stop reading a server
 * that sends without bound); fewer is one at the end.
 */
export class PerfDownloadAccount {
  readonly expected: number
  #received = 0

  constructor (expected: number) {
    this.expected = checkCount('downloadBytes', expected)
  }

  get received (): number {
    return this.#received
  }

  /** Counts `n` bytes. @throws Lp2pError ERR_PROTOCOL_VIOLATION past the request. */
  add (n: number): void {
    this.#received += n
    if (this.#received > this.expected) {
      throw new Lp2pError(codes.ERR_PROTOCOL_VIOLATION,
        `perf server sent more than the ${this.expected} bytes requested`)
    }
  }

  /** The server closed. @throws Lp2pError ERR_PROTOCOL_VIOLATION when bytes are missing. */
  end (): void {
    if (this.#received !== this.expected) {
      throw new Lp2pError(codes.ERR_PROTOCOL_VIOLATION,
        `perf server closed after ${this.#received} of the ${this.expected} bytes requested`)
    }
  }
}
