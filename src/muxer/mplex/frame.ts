/**
 * mplex framing (`specs/mplex.md`, "Message format"): every message is
 *
 *     header (uvarint: streamId << 3 | flag) | length (uvarint) | `length` bytes
 *
 * Pure code: prefix encode/decode and an incremental decoder that takes chunks cut at
 * any boundary. The decoder never buffers a body: it hands out views (`subarray`) of
 * the chunks it was given, so a message costs no copy however the transport split it.
 */
import { codes, Lp2pError } from '../../errors.js'
import { decodeUvarint, uvarintLength, writeUvarint } from '../../wire/varint.js'

/** Message flags (mplex.md, "Flag Values"). 7 is unassigned. */
export const Flag = {
  NewStream: 0,
  MessageReceiver: 1,
  MessageInitiator: 2,
  CloseReceiver: 3,
  CloseInitiator: 4,
  ResetReceiver: 5,
  ResetInitiator: 6
} as const
export type Flag = (typeof Flag)[keyof typeof Flag]

/**
 * "up to 1MiB per message" (mplex.md, "Writing to a stream"). go-mplex and
 * rust-libp2p reject longer messages, and go-mplex and js-libp2p send messages this
 * long, so it is both what we accept by default and the most we ever send.
 */
export const SPEC_MAX_MESSAGE_SIZE = 1024 * 1024

/**
 * The largest stream id we accept or allocate: 2^50 - 1, the largest whose header
 * (`id * 8 + 7`) is still a safe JavaScript integer. The spec allows 60 bits
 * (mplex.md, "Message format"), but every implementation counts ids up from 0 per
 * connection, so no peer gets near 2^50 (js-libp2p-mplex already decodes the id with
 * a 32-bit shift). A larger header is rejected as an invalid varint.
 */
export const MAX_STREAM_ID = 2 ** 50 - 1

/**
 * The longest header + length prefix we read: two varints of at most 9 bytes each
 * (the unsigned-varint maximum, `specs/unsigned-varint.md`). A prefix split across
 * chunks is gathered in a buffer of this size.
 */
export const MAX_PREFIX_LENGTH = 18

export interface FrameHeader {
  readonly flag: Flag
  readonly streamId: number
  /** Body length: the data of a Message, the name of a NewStream, else normally 0. */
  readonly length: number
}

/** True for flags sent by the side that opened the stream (2, 4, 6; and NewStream). */
export function sentByInitiator (flag: Flag): boolean {
  return (flag & 1) === 0
}

/** Bytes the prefix of this message takes. */
export function prefixLength (streamId: number, length: number): number {
  return uvarintLength(streamId * 8 + 7) + uvarintLength(length)
}

/** Writes the header and length varints at `offset`; returns the bytes written. */
export function writePrefix (buf: Uint8Array, offset: number, flag: Flag, streamId: number, length: number): number {
  const n = writeUvarint(streamId * 8 + flag, buf, offset)
  return n + writeUvarint(length, buf, offset + n)
}

/** Encodes one whole message into a new array (tests and one-off messages). */
export function encodeFrame (flag: number, streamId: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!Number.isInteger(flag) || flag < 0 || flag > Flag.ResetInitiator) throw new RangeError(`invalid mplex flag ${flag}`)
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > MAX_STREAM_ID) throw new RangeError(`invalid stream id ${streamId}`)
  const out = new Uint8Array(prefixLength(streamId, body.byteLength) + body.byteLength)
  const n = writePrefix(out, 0, flag as Flag, streamId, body.byteLength)
  out.set(body, n)
  return out.subarray(0, n + body.byteLength)
}

/**
 * Decodes a prefix from `buf[offset, end)`: the header and length, and the bytes they
 * took, or undefined when more bytes are needed. Throws `ERR_INVALID_VARINT` for a
 * malformed varint, `ERR_MUXER_PROTOCOL` for flag 7 (as soon as the header is read,
 * before its length arrives) and `ERR_MESSAGE_TOO_LARGE` above `maxMessageSize`.
 */
export function decodePrefix (buf: Uint8Array, offset: number, end: number, maxMessageSize: number): { header: FrameHeader, size: number } | undefined {
  const view = end === buf.byteLength ? buf : buf.subarray(0, end)
  const h = decodeUvarint(view, offset)
  if (h === undefined) return undefined
  const flag = h.value % 8
  if (flag > Flag.ResetInitiator) {
    // Unassigned. rust-libp2p fails the connection on it, as we do; go-mplex resets
    // the stream; no implementation sends it.
    throw new Lp2pError(codes.ERR_MUXER_PROTOCOL, `unknown mplex flag ${flag}`)
  }
  const l = decodeUvarint(view, offset + h.length)
  if (l === undefined) return undefined
  if (l.value > maxMessageSize) {
    throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `mplex message of ${l.value} bytes exceeds the limit of ${maxMessageSize}`)
  }
  return {
    header: { flag: flag as Flag, streamId: (h.value - flag) / 8, length: l.value },
    size: h.length + l.length
  }
}

/**
 * Incremental decoder. Feed chunks with {@link push}; pull with {@link next}, which
 * returns:
 * - a {@link FrameHeader} when a prefix is complete; a body of `length` bytes follows
 *   in the next calls;
 * - a `Uint8Array` piece of the current body (a view of a pushed chunk, never a
 *   copy), at most `maxPiece` bytes; {@link bodyRemaining} is 0 after the last piece;
 * - `undefined` when more bytes are needed.
 *
 * Invalid input throws an `Lp2pError` and the decoder stays failed. Short input never
 * throws. The decoder holds the chunks pushed and not yet pulled, plus a partial
 * prefix of at most {@link MAX_PREFIX_LENGTH} bytes.
 */
export class FrameDecoder {
  readonly #maxMessageSize: number
  #chunks: Uint8Array[] = []
  /** Read position in `#chunks[0]`. */
  #offset = 0
  /** A prefix split across chunks is gathered here (allocated on first need). */
  #partial: Uint8Array | undefined
  #partialLength = 0
  #remaining = 0
  #error: Lp2pError | undefined

  /** `maxMessageSize`: the longest body accepted, checked as soon as the length is read. */
  constructor (maxMessageSize: number) {
    this.#maxMessageSize = maxMessageSize
  }

  /** Body bytes of the current message not yet returned by {@link next}. */
  get bodyRemaining (): number {
    return this.#remaining
  }

  /** Bytes pushed and not yet pulled (including a partial prefix). */
  get bufferedBytes (): number {
    let n = this.#partialLength - this.#offset
    for (const c of this.#chunks) n += c.byteLength
    return n
  }

  push (chunk: Uint8Array): void {
    if (chunk.byteLength > 0 && this.#error === undefined) this.#chunks.push(chunk)
  }

  next (maxPiece = Infinity): FrameHeader | Uint8Array | undefined {
    if (this.#error !== undefined) throw this.#error
    const chunk = this.#chunks[0]
    if (chunk === undefined) return undefined
    if (this.#remaining > 0) return this.#body(chunk, maxPiece)
    if (this.#partialLength === 0) {
      // Fast path: the whole prefix is in the first chunk.
      const r = this.#decode(chunk, this.#offset, chunk.byteLength)
      if (r !== undefined) {
        this.#advance(chunk, r.size)
        return this.#start(r.header)
      }
    }
    return this.#gatherPrefix()
  }

  #body (chunk: Uint8Array, maxPiece: number): Uint8Array | undefined {
    const start = this.#offset
    const n = Math.min(chunk.byteLength - start, this.#remaining, maxPiece)
    if (n <= 0) return undefined
    this.#remaining -= n
    this.#advance(chunk, n)
    return start === 0 && n === chunk.byteLength ? chunk : chunk.subarray(start, start + n)
  }

  /**
   * Slow path: the prefix spans chunks. Bytes are copied into `#partial` only as far as
   * the prefix goes: each chunk's bytes are tried first and consumed once we know
   * they belong to the prefix.
   */
  #gatherPrefix (): FrameHeader | undefined {
    const partial = this.#partial ??= new Uint8Array(MAX_PREFIX_LENGTH)
    for (;;) {
      const chunk = this.#chunks[0]
      if (chunk === undefined) return undefined
      const n = Math.min(chunk.byteLength - this.#offset, MAX_PREFIX_LENGTH - this.#partialLength)
      const before = this.#partialLength
      partial.set(chunk.subarray(this.#offset, this.#offset + n), before)
      const r = this.#decode(partial, 0, before + n)
      if (r !== undefined) {
        this.#partialLength = 0
        this.#advance(chunk, r.size - before)
        return this.#start(r.header)
      }
      this.#partialLength += n
      this.#advance(chunk, n)
    }
  }

  #decode (buf: Uint8Array, offset: number, end: number): { header: FrameHeader, size: number } | undefined {
    try {
      return decodePrefix(buf, offset, end, this.#maxMessageSize)
    } catch (err) {
      this.#error = err as Lp2pError
      this.#chunks = []
      this.#partialLength = 0
      this.#offset = 0
      throw err
    }
  }

  #start (header: FrameHeader): FrameHeader {
    this.#remaining = header.length
    return header
  }

  #advance (chunk: Uint8Array, n: number): void {
    this.#offset += n
    if (this.#offset === chunk.byteLength) {
      // Drained: a fresh array rather than shift(), which would keep the emptied
      // array's capacity for the life of an idle connection (as in yamux/frame.ts).
      if (this.#chunks.length === 1) this.#chunks = []
      else this.#chunks.shift()
      this.#offset = 0
    }
  }
}
