/**
 * SECIO message framing (`specs/secio.md`, "Message framing" and "Secure Message
 * Framing"): every message, handshake or encrypted packet, is preceded by its length
 * as an unsigned 32-bit big-endian integer, and "should always be inferior to
 * 0x800000 (or 8MiB)".
 *
 * Pure and incremental (GUIDE rule 1): `push` chunks of any size, then `next` until it
 * returns `undefined` ("need more bytes"). Chunks are kept as they came; a frame that
 * lies inside one chunk is returned as a view of it, a frame spread over several is
 * joined once, when its last byte is in (never re-copied per chunk). What is held is
 * bounded by one frame (`maxLength`) plus the last chunk.
 */
import { codes, Lp2pError } from '../../errors.js'

/** Bytes of the length prefix. */
export const SECIO_LENGTH_PREFIX_BYTES = 4

/** The spec's ceiling: every message is shorter than 0x800000 bytes (8 MiB). */
export const SECIO_MAX_MESSAGE_BYTES = 0x800000 - 1

export class SecioFrameDecoder {
  /** Largest frame accepted; a longer prefix is ERR_MESSAGE_TOO_LARGE. Changes apply to the next prefix. */
  maxLength: number
  /** Smallest frame accepted; a shorter prefix is ERR_INVALID_MESSAGE (a packet holds at least its MAC). */
  minLength = 0
  readonly #queue: Uint8Array[] = []
  /** Index in `#queue` of the first chunk with unread bytes, and the read offset in it. */
  #first = 0
  #offset = 0
  #buffered = 0
  /** Length of the frame whose prefix was read, -1 while waiting for a prefix. */
  #pending = -1

  constructor (maxLength: number) {
    if (!Number.isInteger(maxLength) || maxLength < 0 || maxLength > SECIO_MAX_MESSAGE_BYTES) {
      throw new RangeError(`maxLength must be an integer in [0, ${SECIO_MAX_MESSAGE_BYTES}]`)
    }
    this.maxLength = maxLength
  }

  /** True when a frame (or its prefix) has been started but is not complete. */
  get partial (): boolean {
    return this.#pending >= 0 || this.#buffered > 0
  }

  push (chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return
    this.#queue.push(chunk)
    this.#buffered += chunk.byteLength
  }

  /**
   * The next whole frame (without its prefix), or undefined when more bytes are
   * needed. Throws ERR_MESSAGE_TOO_LARGE / ERR_INVALID_MESSAGE for a length out of
   * bounds; the decoder is unusable after that.
   */
  next (): Uint8Array | undefined {
    if (this.#pending < 0) {
      if (this.#buffered < SECIO_LENGTH_PREFIX_BYTES) return undefined
      const prefix = this.#read(SECIO_LENGTH_PREFIX_BYTES)
      const length = ((prefix[0] as number) * 0x1000000) + (((prefix[1] as number) << 16) | ((prefix[2] as number) << 8) | (prefix[3] as number))
      if (length > this.maxLength) {
        throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `SECIO message of ${length} bytes exceeds the limit of ${this.maxLength}`)
      }
      if (length < this.minLength) {
        throw new Lp2pError(codes.ERR_INVALID_MESSAGE, `SECIO message of ${length} bytes is shorter than the minimum of ${this.minLength}`)
      }
      this.#pending = length
    }
    if (this.#buffered < this.#pending) return undefined
    const frame = this.#read(this.#pending)
    this.#pending = -1
    return frame
  }

  /** Every byte not returned yet, a started prefix included, as one buffer. */
  takeRemainder (): Uint8Array {
    const parts: Uint8Array[] = []
    if (this.#pending >= 0) {
      const prefix = Buffer.allocUnsafe(SECIO_LENGTH_PREFIX_BYTES)
      prefix.writeUInt32BE(this.#pending, 0)
      parts.push(prefix)
      this.#pending = -1
    }
    if (this.#buffered > 0) parts.push(this.#read(this.#buffered))
    return parts.length === 1 ? parts[0] as Uint8Array : Buffer.concat(parts)
  }

  /** Removes `n` (<= buffered) bytes from the front: a view when they sit in one chunk. */
  #read (n: number): Uint8Array {
    const head = this.#queue[this.#first] as Uint8Array | undefined
    if (n === 0 || head === undefined) return new Uint8Array(0)
    if (head.byteLength - this.#offset >= n) {
      const view = head.subarray(this.#offset, this.#offset + n)
      this.#consume(n)
      return view
    }
    const joined = Buffer.allocUnsafe(n)
    let at = 0
    while (at < n) {
      const chunk = this.#queue[this.#first] as Uint8Array
      const piece = chunk.subarray(this.#offset, this.#offset + Math.min(n - at, chunk.byteLength - this.#offset))
      joined.set(piece, at)
      at += piece.byteLength
      this.#consume(piece.byteLength)
    }
    return joined
  }

  /** Advances past `n` bytes of the current chunk (at most what is left of it). */
  #consume (n: number): void {
    this.#buffered -= n
    this.#offset += n
    if (this.#offset < (this.#queue[this.#first] as Uint8Array).byteLength) return
    this.#offset = 0
    this.#first++
    if (this.#first === this.#queue.length) {
      this.#queue.length = 0
      this.#first = 0
    } else if (this.#first >= 32) {
      this.#queue.splice(0, this.#first)
      this.#first = 0
    }
  }
}
