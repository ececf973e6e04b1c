/**
 * Protobuf subset, reading side (pure): {@link ProtobufReader} walks the fields of one
 * complete message. See `protobuf.ts` for the overview and examples.
 */
import { codes, invalidArgType, invalidArgValue, Lp2pError } from '../errors.js'

/** Wire types this subset reads and writes (encoding guide, "Message Structure"). */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LENGTH_DELIMITED: 2,
  FIXED32: 5
} as const
export type WireType = (typeof WireType)[keyof typeof WireType]

/**
 * Default `maxSize` of a reader: 64 KiB. Every message this stack decodes is far
 * smaller (a public key is at most ~1.1 KiB, a Noise payload must fit a 65535-byte
 * Noise message, noise.md "Wire Format"); callers with a tighter bound pass it.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 65536

/** Largest field number protobuf allows: 2^29 - 1 (encoding guide, "Message Structure"). */
export const MAX_FIELD_NUMBER = 0x1fffffff

/** A protobuf varint carries at most 64 bits: ceil(64 / 7) = 10 bytes. */
const MAX_PROTOBUF_VARINT_BYTES = 10

/** A tag is a uint32 (field number << 3 | wire type): at most ceil(32 / 7) = 5 bytes. */
const MAX_TAG_BYTES = 5

export interface ProtobufReaderOptions {
  /** Largest message accepted, in bytes (default {@link DEFAULT_MAX_MESSAGE_BYTES}). */
  maxSize?: number
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function invalid (message: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_MESSAGE, `invalid protobuf: ${message}`, cause !== undefined ? { cause } : undefined)
}

/** Walks the fields of one complete protobuf message. See the module comment. */
export class ProtobufReader {
  readonly #buf: Uint8Array
  readonly #end: number
  #pos = 0
  #field = 0
  #wireType: number = WireType.VARINT
  /** True while the current field's value has not been read (next() skips it). */
  #pending = false

  constructor (buf: Uint8Array, options: ProtobufReaderOptions = {}) {
    if (!(buf instanceof Uint8Array)) throw invalidArgType('buf', 'a Uint8Array', buf)
    const maxSize = options.maxSize ?? DEFAULT_MAX_MESSAGE_BYTES
    if (!Number.isSafeInteger(maxSize) || maxSize < 0) throw invalidArgValue('maxSize', 'must be a non-negative safe integer')
    if (buf.length > maxSize) {
      throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `protobuf message of ${buf.length} bytes exceeds the limit of ${maxSize}`)
    }
    this.#buf = buf
    this.#end = buf.length
  }

  /** The current field number (0 before the first and after the last field). */
  get field (): number { return this.#field }

  /** The current field's wire type. */
  get wireType (): WireType { return this.#wireType as WireType }

  /**
   * Moves to the next field, skipping the current field's value if it was not read.
   * @returns the field number, or 0 at the end of the message.
   */
  next (): number {
    if (this.#pending) this.skip()
    if (this.#pos >= this.#end) {
      this.#field = 0
      return 0
    }
    const start = this.#pos
    const tag = this.#varintNumber()
    if (this.#pos - start > MAX_TAG_BYTES || tag > 0xffffffff) throw invalid(`tag at offset ${start} exceeds 32 bits`)
    const field = Math.floor(tag / 8)
    const wireType = tag % 8
    if (field === 0) throw invalid(`field number 0 at offset ${start}`)
    if (wireType === 3 || wireType === 4) throw invalid(`field ${field} is a group (wire type ${wireType}), which is not supported`)
    if (wireType !== 0 && wireType !== 1 && wireType !== 2 && wireType !== 5) {
      throw invalid(`field ${field} has unknown wire type ${wireType}`)
    }
    this.#field = field
    this.#wireType = wireType
    this.#pending = true
    return field
  }

  /** Skips the current field's value (called by next() when the value was not read). */
  skip (): void {
    if (!this.#pending) return
    switch (this.#wireType) {
      case WireType.VARINT: this.#varintBig(); break
      case WireType.FIXED64: this.#advance(8); break
      case WireType.FIXED32: this.#advance(4); break
      default: this.#lengthDelimited(); break
    }
    this.#pending = false
  }

  /** A varint value (uint32, uint64, enum) that must fit in 2^53 - 1. */
  uint (): number {
    this.#take(WireType.VARINT)
    return this.#varintNumber()
  }

  /** A varint value as the full unsigned 64 bits. */
  uint64 (): bigint {
    this.#take(WireType.VARINT)
    return this.#varintBig()
  }

  /** An int32 (or enum) varint; negative values arrive sign-extended to 10 bytes. */
  int32 (): number {
    this.#take(WireType.VARINT)
    return Number(BigInt.asIntN(32, this.#varintBig()))
  }

  /** An int64 varint, two's complement. */
  int64 (): bigint {
    this.#take(WireType.VARINT)
    return BigInt.asIntN(64, this.#varintBig())
  }

  /** A bool varint: any non-zero value is true, as protobuf parsers do. */
  bool (): boolean {
    this.#take(WireType.VARINT)
    return this.#varintBig() !== 0n
  }

  /** A fixed32 (little-endian, unsigned). */
  fixed32 (): number {
    this.#take(WireType.FIXED32)
    const p = this.#advance(4)
    const b = this.#buf
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16)) + (b[p + 3] as number) * 0x1000000
  }

  /** A fixed64 (little-endian, unsigned). */
  fixed64 (): bigint {
    this.#take(WireType.FIXED64)
    const p = this.#advance(8)
    const b = this.#buf
    let v = 0n
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[p + i] as number)
    return v
  }

  /** A bytes field: a zero-copy subarray of the input. Copy it to keep it past the input's life. */
  bytes (): Uint8Array {
    this.#take(WireType.LENGTH_DELIMITED)
    return this.#lengthDelimited()
  }

  /** A string field; invalid UTF-8 is ERR_INVALID_MESSAGE. */
  string (): string {
    const field = this.#field
    const bytes = this.bytes()
    try {
      return utf8.decode(bytes)
    } catch (err) {
      throw invalid(`field ${field} is not valid UTF-8`, err)
    }
  }

  /** An embedded message: a reader over its bytes (already bounded by this message). */
  message (): ProtobufReader {
    const bytes = this.bytes()
    return new ProtobufReader(bytes, { maxSize: bytes.length })
  }

  #take (expected: WireType): void {
    if (!this.#pending) throw invalid(this.#field === 0 ? 'no current field: call next() first' : `field ${this.#field} was already read`)
    if (this.#wireType !== expected) {
      throw invalid(`field ${this.#field} has wire type ${this.#wireType}, expected ${expected}`)
    }
    this.#pending = false
  }

  /** Moves past `n` bytes and returns where they start. */
  #advance (n: number): number {
    const p = this.#pos
    if (n > this.#end - p) throw invalid(`field ${this.#field} runs past the end of the message (needs ${n} bytes, ${this.#end - p} left)`)
    this.#pos = p + n
    return p
  }

  #lengthDelimited (): Uint8Array {
    const len = this.#varintNumber()
    const p = this.#advance(len)
    return this.#buf.subarray(p, p + len)
  }

  /** Reads a varint that must be a safe integer. Non-minimal encodings are legal protobuf. */
  #varintNumber (): number {
    const b = this.#buf
    let pos = this.#pos
    let value = 0
    let scale = 1
    for (let i = 0; i < MAX_PROTOBUF_VARINT_BYTES; i++) {
      if (pos >= this.#end) throw invalid('truncated varint')
      const byte = b[pos++] as number
      value += (byte & 0x7f) * scale
      if (byte < 0x80) {
        if (i === MAX_PROTOBUF_VARINT_BYTES - 1 && byte > 1) throw invalid('varint overflows 64 bits')
        // Rounding is monotone, so a true value >= 2^53 never sums below 2^53.
        if (value > Number.MAX_SAFE_INTEGER) throw invalid(`varint in field ${this.#field} exceeds 2^53 - 1; read it with uint64()`)
        this.#pos = pos
        return value
      }
      scale *= 128
    }
    throw invalid(`varint longer than ${MAX_PROTOBUF_VARINT_BYTES} bytes`)
  }

  #varintBig (): bigint {
    const b = this.#buf
    let pos = this.#pos
    let value = 0n
    for (let i = 0; i < MAX_PROTOBUF_VARINT_BYTES; i++) {
      if (pos >= this.#end) throw invalid('truncated varint')
      const byte = b[pos++] as number
      value |= BigInt(byte & 0x7f) << BigInt(7 * i)
      if (byte < 0x80) {
        if (i === MAX_PROTOBUF_VARINT_BYTES - 1 && byte > 1) throw invalid('varint overflows 64 bits')
        this.#pos = pos
        return value
      }
    }
    throw invalid(`varint longer than ${MAX_PROTOBUF_VARINT_BYTES} bytes`)
  }
}
