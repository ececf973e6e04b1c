/**
 * The DER encoder (ITU-T X.690, Distinguished Encoding Rules) for the libp2p TLS
 * certificate: just the types a certificate needs, always in the shortest form DER
 * prescribes (X.690 10-11). Its counterpart, the strict reader, is `der.ts`.
 *
 * Pure code.
 */
import { Tag, contextTag } from './der.js'
import { concatBytes } from '../../wire/bytes.js'

const DIGITS = /^[0-9]+$/

/** A TLV with the shortest length form (X.690 10.1). */
export function tlv (tag: number, content: Uint8Array): Uint8Array {
  const n = content.byteLength
  let header: number[]
  if (n < 0x80) {
    header = [tag, n]
  } else {
    const octets: number[] = []
    for (let v = n; v > 0; v = Math.floor(v / 256)) octets.unshift(v & 0xff)
    header = [tag, 0x80 | octets.length, ...octets]
  }
  const out = new Uint8Array(header.length + n)
  out.set(header, 0)
  out.set(content, header.length)
  return out
}

export function encodeSequence (...parts: Uint8Array[]): Uint8Array {
  return tlv(Tag.SEQUENCE, concatBytes(parts))
}

/** A SET of already-sorted (or single) elements; DER orders SET OF contents. */
export function encodeSet (...parts: Uint8Array[]): Uint8Array {
  return tlv(Tag.SET, concatBytes(parts))
}

/** `[n] EXPLICIT` wrapping of already-encoded elements. */
export function encodeExplicit (n: number, ...parts: Uint8Array[]): Uint8Array {
  return tlv(contextTag(n), concatBytes(parts))
}

/** A non-negative INTEGER from a bigint or from unsigned big-endian magnitude bytes. */
export function encodeInteger (value: bigint | Uint8Array): Uint8Array {
  let mag: Uint8Array
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError('only non-negative integers are encoded')
    let h = value.toString(16)
    if (h.length % 2 === 1) h = '0' + h
    mag = Uint8Array.from(Buffer.from(h, 'hex'))
  } else {
    mag = value
  }
  let i = 0
  while (i < mag.byteLength - 1 && mag[i] === 0) i++
  mag = mag.subarray(i)
  if (mag.byteLength === 0) mag = new Uint8Array(1)
  // A set top bit would read as negative: prefix a zero octet (X.690 8.3.3).
  if (((mag[0] as number) & 0x80) !== 0) return tlv(Tag.INTEGER, concatBytes([new Uint8Array(1), mag]))
  return tlv(Tag.INTEGER, mag)
}

export function encodeOid (dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => {
    if (!DIGITS.test(s)) throw new RangeError(`invalid OID ${dotted}`)
    return Number(s)
  })
  if (arcs.length < 2 || (arcs[0] as number) > 2 || ((arcs[0] as number) < 2 && (arcs[1] as number) >= 40)) {
    throw new RangeError(`invalid OID ${dotted}`)
  }
  const out: number[] = []
  const subs = [(arcs[0] as number) * 40 + (arcs[1] as number), ...arcs.slice(2)]
  for (const v of subs) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`invalid OID ${dotted}`)
    const bytes = [v % 128]
    for (let r = Math.floor(v / 128); r > 0; r = Math.floor(r / 128)) bytes.unshift(0x80 | (r % 128))
    out.push(...bytes)
  }
  return tlv(Tag.OID, Uint8Array.from(out))
}

export function encodeOctetString (bytes: Uint8Array): Uint8Array {
  return tlv(Tag.OCTET_STRING, bytes)
}

/** A BIT STRING of whole octets (zero unused bits). */
export function encodeBitString (bytes: Uint8Array): Uint8Array {
  return tlv(Tag.BIT_STRING, concatBytes([new Uint8Array(1), bytes]))
}

export function encodeBoolean (value: boolean): Uint8Array {
  return tlv(Tag.BOOLEAN, Uint8Array.of(value ? 0xff : 0x00))
}

export function encodeUtf8String (s: string): Uint8Array {
  return tlv(Tag.UTF8_STRING, new TextEncoder().encode(s))
}

export function encodePrintableString (s: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)) throw new RangeError('not a PrintableString')
  return tlv(Tag.PRINTABLE_STRING, new TextEncoder().encode(s))
}

/**
 * A certificate time (RFC 5280 4.1.2.5): UTCTime for 1950-2049, GeneralizedTime
 * otherwise; whole seconds (milliseconds are truncated), in UTC.
 */
export function encodeTime (ms: number): Uint8Array {
  const d = new Date(Math.floor(ms / 1000) * 1000)
  const year = d.getUTCFullYear()
  if (!Number.isFinite(ms) || year < 0 || year > 9999) throw new RangeError('time out of the encodable range')
  const p2 = (n: number): string => String(n).padStart(2, '0')
  const rest = p2(d.getUTCMonth() + 1) + p2(d.getUTCDate()) + p2(d.getUTCHours()) +
    p2(d.getUTCMinutes()) + p2(d.getUTCSeconds()) + 'Z'
  if (year >= 1950 && year < 2050) {
    return tlv(Tag.UTC_TIME, new TextEncoder().encode(p2(year % 100) + rest))
  }
  return tlv(Tag.GENERALIZED_TIME, new TextEncoder().encode(String(year).padStart(4, '0') + rest))
}
