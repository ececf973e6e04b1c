/**
 * Protobuf subset, writing side (pure): {@link ProtobufWriter} records fields, then
 * sizes the message once and fills one buffer. See `protobuf.ts` for the overview.
 */
import { invalidArgType, invalidArgValue } from '../errors.js'
import { MAX_FIELD_NUMBER, WireType } from './protobuf-reader.js'
import { uvarintLength, writeUvarint } from './varint.js'

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
