/**
 * yamux framing (`specs/yamux.md`, "Framing"): a 12-byte big-endian header
 *
 *     Version (8) | Type (8) | Flags (16) | StreamID (32) | Length (32)
 *
 * followed, for Data frames only, by `Length` payload bytes. For Window Update the
 * length is a window delta, for Ping an opaque value, for Go Away an error code.
 *
 * Pure code: header encode/decode and an incremental decoder that takes chunks cut at
 * any boundary. The decoder never buffers a payload: it hands out views
 * (`subarray`) of the chunks it was given, so a Data frame costs no copy and no
 * allocation beyond its header object, however the transport split it.
 */
import { codes, Lp2pError } from '../../errors.js'

/** "At the current time, the field is always set to 0" (yamux.md, "Version Field"). */
export const YAMUX_VERSION = 0
/** 1 + 1 + 2 + 4 + 4 bytes (yamux.md, "Framing"). */
export const HEADER_LENGTH = 12

/** Message types (yamux.md, "Type Field"). */
export const FrameType = {
  Data: 0,
  WindowUpdate: 1,
  Ping: 2,
  GoAway: 3
} as const
export type FrameType = (typeof FrameType)[keyof typeof FrameType]

/** Flag bits (yamux.md, "Flag Field"). Other bits are ignored on receipt. */
export const Flag = {
  SYN: 0x1,
  ACK: 0x2,
  FIN: 0x4,
  RST: 0x8
} as const

/** Go Away error codes (yamux.md, "Session termination"). */
export const GoAwayCode = {
  Normal: 0,
  ProtocolError: 1,
  InternalError: 2
} as const

/** The largest value of the 32-bit StreamID and Length fields. */
export const MAX_UINT32 = 0xffff_ffff

export interface FrameHeader {
  readonly type: FrameType
  readonly flags: number
  readonly streamId: number
  /** Data: payload length; Window Update: delta; Ping: opaque; Go Away: code. */
  readonly length: number
}

/** Writes a header at `offset` of `buf` (which must have 12 bytes there). */
export function writeHeader (buf: Uint8Array, offset: number, type: number, flags: number, streamId: number, length: number): void {
  buf[offset] = YAMUX_VERSION
  buf[offset + 1] = type
  buf[offset + 2] = flags >>> 8
  buf[offset + 3] = flags
  buf[offset + 4] = streamId >>> 24
  buf[offset + 5] = streamId >>> 16
  buf[offset + 6] = streamId >>> 8
  buf[offset + 7] = streamId
  buf[offset + 8] = length >>> 24
  buf[offset + 9] = length >>> 16
  buf[offset + 10] = length >>> 8
  buf[offset + 11] = length
}

/** Encodes one header into a new 12-byte array (tests and one-off frames). */
export function encodeHeader (header: FrameHeader): Uint8Array {
  checkHeaderFields(header)
  const out = new Uint8Array(HEADER_LENGTH)
  writeHeader(out, 0, header.type, header.flags, header.streamId, header.length)
  return out
}

function checkHeaderFields (h: FrameHeader): void {
  if (!Number.isInteger(h.type) || h.type < 0 || h.type > 0xff) throw new RangeError(`invalid frame type ${h.type}`)
  if (!Number.isInteger(h.flags) || h.flags < 0 || h.flags > 0xffff) throw new RangeError(`invalid flags ${h.flags}`)
  if (!Number.isInteger(h.streamId) || h.streamId < 0 || h.streamId > MAX_UINT32) throw new RangeError(`invalid stream id ${h.streamId}`)
  if (!Number.isInteger(h.length) || h.length < 0 || h.length > MAX_UINT32) throw new RangeError(`invalid length ${h.length}`)
}

/**
 * Reads the header at `offset` (12 bytes must be there) and checks what can be checked
 * without session state: the version and the type. Throws `ERR_MUXER_PROTOCOL`.
 */
export function decodeHeader (buf: Uint8Array, offset = 0): FrameHeader {
  const version = buf[offset] as number
  if (version !== YAMUX_VERSION) {
    throw new Lp2pError(codes.ERR_MUXER_PROTOCOL, `unsupported yamux version ${version}`)
  }
  const type = buf[offset + 1] as number
  if (type > FrameType.GoAway) {
    throw new Lp2pError(codes.ERR_MUXER_PROTOCOL, `unknown yamux frame type ${type}`)
  }
  return {
    type: type as FrameType,
    flags: ((buf[offset + 2] as number) << 8) | (buf[offset + 3] as number),
    streamId: readUint32(buf, offset + 4),
    length: readUint32(buf, offset + 8)
  }
}

function readUint32 (buf: Uint8Array, o: number): number {
  // `* 2 ** 24` rather than `<< 24`: a shift would make values >= 2^31 negative.
  return (buf[o] as number) * 0x100_0000 + (((buf[o + 1] as number) << 16) | ((buf[o + 2] as number) << 8) | (buf[o + 3] as number))
}

export interface FrameDecoderOptions {
  /**
   * The longest Data payload accepted, whatever the stream. A Data frame can never be
   * longer than the receive window we granted, which is at most the session's
   * `maxStreamWindow`; anything longer is a protocol error, reported as soon as the
   * header is read (before any of the payload arrives).
   */
  maxDataLength: number
}

/**
 * Incremental decoder. Feed chunks with {@link push}; pull with {@link next}, which
 * returns:
 * - a {@link FrameHeader} when a header is complete. For a Data frame with a
 *   non-zero length, the payload follows in the next calls;
 * - a `Uint8Array` piece of the current Data frame's payload (a view of a pushed
 *   chunk, never a copy). {@link payloadRemaining} is 0 after the last piece;
 * - `undefined` when more bytes are needed.
 *
 * Invalid input (version, type, oversize Data length) throws an `Lp2pError` and the
 * decoder stays failed. Short input never throws. The decoder holds at most the
 * chunks pushed and not yet pulled plus an 11-byte partial header.
 */
export class FrameDecoder {
  readonly #maxDataLength: number
  #chunks: Uint8Array[] = []
  /** Read position in `#chunks[0]`. */
  #offset = 0
  /** A header split across chunks is gathered here (allocated on first need). */
  #partial: Uint8Array | undefined
  #partialLength = 0
  #remaining = 0
  #error: Lp2pError | undefined

  constructor (options: FrameDecoderOptions) {
    this.#maxDataLength = options.maxDataLength
  }

  /** Payload bytes of the current Data frame not yet returned by {@link next}. */
  get payloadRemaining (): number {
    return this.#remaining
  }

  /** Bytes pushed and not yet pulled (including a partial header). */
  get bufferedBytes (): number {
    let n = this.#partialLength - this.#offset
    for (const c of this.#chunks) n += c.byteLength
    return n
  }

  push (chunk: Uint8Array): void {
    if (chunk.byteLength > 0) this.#chunks.push(chunk)
  }

  next (): FrameHeader | Uint8Array | undefined {
    if (this.#error !== undefined) throw this.#error
    const chunk = this.#chunks[0]
    if (chunk === undefined) return undefined
    if (this.#remaining > 0) return this.#payload(chunk)
    const available = chunk.byteLength - this.#offset
    if (this.#partialLength === 0 && available >= HEADER_LENGTH) {
      // Fast path: the whole header is in the first chunk.
      const header = this.#check(decodeOrFail(this, chunk, this.#offset))
      this.#advance(chunk, HEADER_LENGTH)
      return header
    }
    return this.#gatherHeader()
  }

  #payload (chunk: Uint8Array): Uint8Array {
    const start = this.#offset
    const n = Math.min(chunk.byteLength - start, this.#remaining)
    this.#remaining -= n
    this.#advance(chunk, n)
    return start === 0 && n === chunk.byteLength ? chunk : chunk.subarray(start, start + n)
  }

  #gatherHeader (): FrameHeader | undefined {
    const partial = this.#partial ??= new Uint8Array(HEADER_LENGTH)
    while (this.#partialLength < HEADER_LENGTH) {
      const chunk = this.#chunks[0]
      if (chunk === undefined) return undefined
      const n = Math.min(chunk.byteLength - this.#offset, HEADER_LENGTH - this.#partialLength)
      partial.set(chunk.subarray(this.#offset, this.#offset + n), this.#partialLength)
      this.#partialLength += n
      this.#advance(chunk, n)
    }
    this.#partialLength = 0
    return this.#check(decodeOrFail(this, partial, 0))
  }

  #check (header: FrameHeader): FrameHeader {
    if (header.type === FrameType.Data) {
      if (header.length > this.#maxDataLength) {
        throw this.fail(new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE,
          `yamux Data frame of ${header.length} bytes exceeds the limit of ${this.#maxDataLength}`))
      }
      this.#remaining = header.length
    }
    return header
  }

  #advance (chunk: Uint8Array, n: number): void {
    this.#offset += n
    if (this.#offset === chunk.byteLength) {
      // Drained: a fresh array rather than shift(), which would keep the emptied
      // array's capacity for the life of an idle connection.
      if (this.#chunks.length === 1) this.#chunks = []
      else this.#chunks.shift()
      this.#offset = 0
    }
  }

  /** Puts the decoder in the failed state; returns the error to throw. @internal */
  fail (err: Lp2pError): Lp2pError {
    this.#error = err
    this.#chunks = []
    return err
  }
}

function decodeOrFail (decoder: FrameDecoder, buf: Uint8Array, offset: number): FrameHeader {
  try {
    return decodeHeader(buf, offset)
  } catch (err) {
    throw decoder.fail(err as Lp2pError)
  }
}
