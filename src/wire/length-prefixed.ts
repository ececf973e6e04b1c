/**
 * Varint length-prefixed messages (the framing of Identify, and of most libp2p
 * request/response protocols). Pure and incremental, like every decoder here.
 */
import { codes, Lp2pError } from '../errors.js'
import { decodeUvarint, uvarintLength, writeUvarint } from './varint.js'
import { ByteAccumulator } from './bytes.js'

/** Prefixes `msg` with its varint length. */
export function encodeLengthPrefixed (msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(uvarintLength(msg.length) + msg.length)
  out.set(msg, writeUvarint(msg.length, out, 0))
  return out
}

export class LengthPrefixedDecoder {
  readonly #maxLength: number
  readonly #input = new ByteAccumulator()

  /** @param maxLength largest message accepted; a longer prefix is ERR_MESSAGE_TOO_LARGE. */
  constructor (maxLength: number) {
    this.#maxLength = maxLength
  }

  /** Bytes buffered and not yet returned. */
  get buffered (): number {
    return this.#input.buffered
  }

  push (chunk: Uint8Array): void {
    this.#input.push(chunk)
  }

  /** Removes and returns every byte not returned by `next` (what follows the last message). */
  takeRemaining (): Uint8Array {
    return this.#input.takeRemaining()
  }

  /**
   * The next complete message, or undefined when more bytes are needed.
   * @throws Lp2pError ERR_INVALID_VARINT or ERR_MESSAGE_TOO_LARGE
   */
  next (): Uint8Array | undefined {
    // A length up to 2^28 fits 4 varint bytes; limits here are far smaller.
    const buf = this.#input.buf
    const vi = decodeUvarint(buf, this.#input.offset, 4)
    if (vi === undefined) return undefined
    if (vi.value > this.#maxLength) {
      throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `message of ${vi.value} bytes exceeds the limit of ${this.#maxLength}`)
    }
    const start = this.#input.offset + vi.length
    const end = start + vi.value
    if (end > buf.length) return undefined
    this.#input.advanceTo(end)
    return buf.subarray(start, end)
  }
}
