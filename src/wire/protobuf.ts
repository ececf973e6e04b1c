/**
 * A small protobuf subset (pure): the wire format of
 * https://protobuf.dev/programming-guides/encoding/ for the few, tiny messages libp2p
 * exchanges (`PublicKey`/`PrivateKey` of peer-ids.md, the Noise handshake payload of
 * noise.md, Identify, signed envelopes of RFC 0002).
 *
 * Reading: a {@link ProtobufReader} walks the fields of ONE complete message whose
 * length the framing layer already delimited. Values are read lazily; a field whose
 * value the caller does not read is skipped by the next {@link ProtobufReader.next}.
 *
 * ```ts
 * const r = new ProtobufReader(bytes, { maxSize: 4096 })
 * for (let f = r.next(); f !== 0; f = r.next()) {
 *   if (f === 1) type = r.uint()
 *   else if (f === 2) data = r.bytes()      // zero-copy subarray of `bytes`
 *   // any other field is skipped (or rejected by the caller)
 * }
 * ```
 *
 * Writing: a {@link ProtobufWriter} records fields in call order (proto2 semantics:
 * every field called is written, zero values included), then `finish()` sizes the
 * whole message once and fills one buffer.
 *
 * ```ts
 * const bytes = new ProtobufWriter().uint(1, 1).bytes(2, raw).finish()
 * ```
 *
 * Errors: malformed input (truncated value, a length running past the end, a bad wire
 * type, a group, field number 0, a varint over 10 bytes, a value too large for the
 * accessor) throws `Lp2pError` `ERR_INVALID_MESSAGE`; input over the reader's
 * `maxSize` throws `ERR_MESSAGE_TOO_LARGE`. Bad arguments to the writer are
 * `RangeError`/`TypeError`. Nothing else is ever thrown.
 */
import { codes, invalidArgType, invalidArgValue, Lp2pError } from '../errors.js'
import { uvarintLength, writeUvarint } from './varint.js'

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

// --- writer ----------------------------------------------------------------------

/** Kinds of recorded fields; the wire type follows from the kind. */
const Kind = { Uint: 0, Big: 1, Fixed32: 2, Fixed64: 3, Bytes: 4, String: 5, Message: 6 } as const
type Kind = (typeof Kind)[keyof typeof Kind]

const utf8Encoder = new TextEncoder()

const TWO_64 = 1n << 64n

/** Builds one message: records fields, then sizes once and fills one buffer. */
export class ProtobufWriter {
  readonly #kinds: Kind[] = []
  readonly #fields: number[] = []
  readonly #values: Array<number | bigint | Uint8Array | string | ProtobufWriter> = []
  /** UTF-8 lengths of string values, computed when recorded. */
  readonly #strLens: number[] = []

  /** A varint field (uint32, uint64, enum, non-negative int) from a safe integer. */
  uint (field: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw invalidArgValue('value', `must be a non-negative safe integer, got ${String(value)}`)
    return this.#push(Kind.Uint, field, value)
  }

  /** A varint field from a bigint in [0, 2^64). */
  uint64 (field: number, value: bigint): this {
    if (typeof value !== 'bigint') throw invalidArgType('value', 'a bigint', value)
    if (value < 0n || value >= TWO_64) throw invalidArgValue('value', 'must be in [0, 2^64)')
    return this.#push(Kind.Big, field, value)
  }

  /** An int32/enum field; negative values are sign-extended to 10 bytes as protobuf requires. */
  int32 (field: number, value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw invalidArgValue('value', 'must be an int32')
    return value >= 0 ? this.#push(Kind.Uint, field, value) : this.#push(Kind.Big, field, BigInt.asUintN(64, BigInt(value)))
  }

  /** A bool field (varint 0 or 1). */
  bool (field: number, value: boolean): this {
    return this.#push(Kind.Uint, field, value ? 1 : 0)
  }

  /** A fixed32 field from an unsigned 32-bit integer. */
  fixed32 (field: number, value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalidArgValue('value', 'must be a uint32')
    return this.#push(Kind.Fixed32, field, value)
  }

  /** A fixed64 field from a bigint in [0, 2^64). */
  fixed64 (field: number, value: bigint): this {
    if (typeof value !== 'bigint') throw invalidArgType('value', 'a bigint', value)
    if (value < 0n || value >= TWO_64) throw invalidArgValue('value', 'must be in [0, 2^64)')
    return this.#push(Kind.Fixed64, field, value)
  }

  /** A bytes field. The bytes are copied at finish(), not before: do not mutate them until then. */
  bytes (field: number, value: Uint8Array): this {
    if (!(value instanceof Uint8Array)) throw invalidArgType('value', 'a Uint8Array', value)
    return this.#push(Kind.Bytes, field, value)
  }

  /** A string field, UTF-8 encoded (lone surrogates become U+FFFD, as TextEncoder does). */
  string (field: number, value: string): this {
    if (typeof value !== 'string') throw invalidArgType('value', 'a string', value)
    this.#strLens.push(utf8Length(value))
    return this.#push(Kind.String, field, value)
  }

  /** An embedded message, given as a writer (sized at finish()) or as encoded bytes. */
  message (field: number, value: ProtobufWriter | Uint8Array): this {
    if (value instanceof Uint8Array) return this.bytes(field, value)
    if (!(value instanceof ProtobufWriter)) throw invalidArgType('value', 'a ProtobufWriter or Uint8Array', value)
    if (value === this) throw invalidArgValue('value', 'cannot embed a message in itself')
    return this.#push(Kind.Message, field, value)
  }

  /** A repeated bytes field: one entry per value, in order. */
  repeatedBytes (field: number, values: Iterable<Uint8Array>): this {
    for (const v of values) this.bytes(field, v)
    return this
  }

  /** A repeated string field: one entry per value, in order. */
  repeatedString (field: number, values: Iterable<string>): this {
    for (const v of values) this.string(field, v)
    return this
  }

  /** The encoded size of the message in bytes. */
  get byteLength (): number {
    let n = 0
    let s = 0
    const kinds = this.#kinds
    for (let i = 0; i < kinds.length; i++) {
      n += uvarintLength((this.#fields[i] as number) * 8)
      const v = this.#values[i]
      switch (kinds[i]) {
        case Kind.Uint: n += uvarintLength(v as number); break
        case Kind.Big: n += bigVarintLength(v as bigint); break
        case Kind.Fixed32: n += 4; break
        case Kind.Fixed64: n += 8; break
        case Kind.Bytes: n += lengthPrefixed((v as Uint8Array).length); break
        case Kind.String: n += lengthPrefixed(this.#strLens[s++] as number); break
        default: n += lengthPrefixed((v as ProtobufWriter).byteLength); break
      }
    }
    return n
  }

  /** Encodes the message into a new buffer of exactly {@link byteLength} bytes. */
  finish (): Uint8Array {
    const out = new Uint8Array(this.byteLength)
    const end = this.writeTo(out, 0)
    if (end !== out.length) throw new Error(`protobuf writer size mismatch: ${end} != ${out.length}`)
    return out
  }

  /** Writes the message at `offset` of `buf` (which must have room) and returns the end offset. */
  writeTo (buf: Uint8Array, offset: number): number {
    let p = offset
    let s = 0
    const kinds = this.#kinds
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[i] as Kind
      const v = this.#values[i]
      p += writeUvarint((this.#fields[i] as number) * 8 + wireTypeOf(kind), buf, p)
      switch (kind) {
        case Kind.Uint: p += writeUvarint(v as number, buf, p); break
        case Kind.Big: p = writeBigVarint(v as bigint, buf, p); break
        case Kind.Fixed32: {
          let x = v as number
          for (let k = 0; k < 4; k++) { buf[p++] = x & 0xff; x = Math.floor(x / 256) }
          break
        }
        case Kind.Fixed64: {
          let x = v as bigint
          for (let k = 0; k < 8; k++) { buf[p++] = Number(x & 0xffn); x >>= 8n }
          break
        }
        case Kind.Bytes: {
          const b = v as Uint8Array
          p += writeUvarint(b.length, buf, p)
          buf.set(b, p)
          p += b.length
          break
        }
        case Kind.String: {
          const len = this.#strLens[s++] as number
          p += writeUvarint(len, buf, p)
          const { written } = utf8Encoder.encodeInto(v as string, buf.subarray(p, p + len))
          if (written !== len) throw new Error('protobuf writer: UTF-8 length mismatch')
          p += len
          break
        }
        default: {
          const m = v as ProtobufWriter
          p += writeUvarint(m.byteLength, buf, p)
          p = m.writeTo(buf, p)
          break
        }
      }
    }
    return p
  }

  #push (kind: Kind, field: number, value: number | bigint | Uint8Array | string | ProtobufWriter): this {
    if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD_NUMBER) {
      throw invalidArgValue('field', `must be an integer in [1, ${MAX_FIELD_NUMBER}], got ${String(field)}`)
    }
    this.#kinds.push(kind)
    this.#fields.push(field)
    this.#values.push(value)
    return this
  }
}

function wireTypeOf (kind: Kind): number {
  switch (kind) {
    case Kind.Uint: case Kind.Big: return WireType.VARINT
    case Kind.Fixed32: return WireType.FIXED32
    case Kind.Fixed64: return WireType.FIXED64
    default: return WireType.LENGTH_DELIMITED
  }
}

function lengthPrefixed (len: number): number {
  return uvarintLength(len) + len
}

function bigVarintLength (v: bigint): number {
  let n = 1
  while (v >= 0x80n) { v >>= 7n; n++ }
  return n
}

function writeBigVarint (v: bigint, buf: Uint8Array, p: number): number {
  while (v >= 0x80n) {
    buf[p++] = Number(v & 0x7fn) | 0x80
    v >>= 7n
  }
  buf[p++] = Number(v)
  return p
}

/** UTF-8 byte length of a JS string, counting lone surrogates as U+FFFD (3 bytes). */
export function utf8Length (s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) { n += 4; i++ } else n += 3
    } else n += 3
  }
  return n
}
