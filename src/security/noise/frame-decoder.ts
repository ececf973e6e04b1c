/**
 * Incremental decoder of the noise-libp2p framing (`specs/noise.md`, "Wire Format"):
 * each Noise message is preceded by its length as a 16-bit big-endian unsigned
 * integer, so no message exceeds 65535 bytes.
 *
 * Pure and incremental (GUIDE rule 1): `push` bytes in any pieces, then call `next`
 * until it returns `undefined` ("need more bytes"). A frame that lies inside one pushed
 * chunk is returned as a view of it, without copying; only a frame split across
 * chunks is assembled into a new buffer. What was pushed but not yet returned stays
 * bounded by one frame plus the last chunk, as long as the caller drains `next` after
 * each `push`.
 */
import { codes, Lp2pError } from '../../errors.js'
import { LENGTH_PREFIX_LENGTH, MAX_NOISE_MESSAGE_LENGTH } from './constants.js'

export interface FrameDecoderOptions {
  /**
   * Largest accepted message length. Default and ceiling 65535, the most the 2-byte
   * prefix can express and the Noise message limit (Noise §3). The handshake may set a
   * lower bound (`NoiseOptions.maxHandshakeMessageLength`).
   */
  maxLength?: number
  /**
   * Smallest accepted message length. A transport message holds at least the 16-byte
   * tag, so the transport decoder rejects anything shorter before trying to decrypt.
   */
  minLength?: number
}

export class FrameDecoder {
  readonly maxLength: number
  readonly minLength: number
  #chunks: Uint8Array[] = []
  /** Index of the first chunk still holding unread bytes. */
  #head = 0
  /** Read offset inside `#chunks[#head]`. */
  #offset = 0
  /** Unread bytes over all chunks. */
  #available = 0
  /** Length of the frame whose prefix was read, or -1 while reading a prefix. */
  #frameLength = -1

  constructor (options: FrameDecoderOptions = {}) {
    const maxLength = options.maxLength ?? MAX_NOISE_MESSAGE_LENGTH
    const minLength = options.minLength ?? 0
    if (!Number.isInteger(maxLength) || maxLength < 0 || maxLength > MAX_NOISE_MESSAGE_LENGTH) {
      throw new RangeError(`maxLength must be an integer in [0, ${MAX_NOISE_MESSAGE_LENGTH}]`)
    }
    if (!Number.isInteger(minLength) || minLength < 0 || minLength > maxLength) {
      throw new RangeError('minLength must be an integer in [0, maxLength]')
    }
    this.maxLength = maxLength
    this.minLength = minLength
  }

  /** Bytes pushed and not yet returned (including a prefix already parsed). */
  get buffered (): number {
    return this.#available + (this.#frameLength >= 0 ? LENGTH_PREFIX_LENGTH : 0)
  }

  /** True when a frame was started (prefix or part of one read) but is not complete. */
  get partial (): boolean {
    return this.#frameLength >= 0 || this.#available > 0
  }

  push (chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return
    this.#chunks.push(chunk)
    this.#available += chunk.byteLength
  }

  /**
   * The next complete message (without its prefix), or `undefined` when more bytes are
   * needed. Throws ERR_MESSAGE_TOO_LARGE for a length over `maxLength` and
   * ERR_INVALID_MESSAGE for one under `minLength`; the decoder is unusable after that.
   */
  next (): Uint8Array | undefined {
    if (this.#frameLength < 0) {
      if (this.#available < LENGTH_PREFIX_LENGTH) return undefined
      const length = (this.#readByte() << 8) | this.#readByte()
      if (length > this.maxLength) {
        throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `Noise message of ${length} bytes exceeds the limit of ${this.maxLength}`)
      }
      if (length < this.minLength) {
        throw new Lp2pError(codes.ERR_INVALID_MESSAGE, `Noise message of ${length} bytes is shorter than the minimum of ${this.minLength}`)
      }
      this.#frameLength = length
    }
    const length = this.#frameLength
    if (this.#available < length) return undefined
    this.#frameLength = -1
    return this.#take(length)
  }

  /**
   * Removes and returns every byte not yet returned by `next`, prefix included, as
   * one buffer (empty when nothing is left). The handshake uses it to hand bytes that
   * followed its last message to the transport phase.
   */
  takeRemainder (): Uint8Array {
    const parts: Uint8Array[] = []
    if (this.#frameLength >= 0) {
      parts.push(Uint8Array.of(this.#frameLength >> 8, this.#frameLength & 0xff))
      this.#frameLength = -1
    }
    if (this.#available > 0) parts.push(this.#take(this.#available))
    return parts.length === 1 ? parts[0] as Uint8Array : Buffer.concat(parts)
  }

  #readByte (): number {
    const chunk = this.#chunks[this.#head] as Uint8Array
    const byte = chunk[this.#offset] as number
    this.#advance(1)
    return byte
  }

  /** Removes `n <= #available` bytes from the front. */
  #take (n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0)
    const first = this.#chunks[this.#head] as Uint8Array
    const inFirst = first.byteLength - this.#offset
    if (n <= inFirst) {
      const view = first.subarray(this.#offset, this.#offset + n)
      this.#advance(n)
      return view
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.#chunks[this.#head] as Uint8Array
      const count = Math.min(chunk.byteLength - this.#offset, n - filled)
      out.set(chunk.subarray(this.#offset, this.#offset + count), filled)
      filled += count
      this.#advance(count)
    }
    return out
  }

  /** Moves the read position `n` bytes forward, inside the current chunk or to its end. */
  #advance (n: number): void {
    this.#offset += n
    this.#available -= n
    const chunk = this.#chunks[this.#head] as Uint8Array
    if (this.#offset < chunk.byteLength) return
    this.#head++
    this.#offset = 0
    if (this.#head === this.#chunks.length) {
      this.#chunks = []
      this.#head = 0
    } else if (this.#head > 64) {
      // Drop consumed slots now and then so the array does not grow with the stream.
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
  }
}
