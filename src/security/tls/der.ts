/**
 * A minimal DER reader (ITU-T X.690, Distinguished Encoding Rules): exactly what the
 * libp2p TLS certificate needs (`specs/tls.md`, "Peer Authentication"), nothing more.
 * The encoder is `der-encode.ts`.
 *
 * Decoding is strict DER, because every certificate we must read is produced by a DER
 * encoder (Go's `crypto/x509`, rust's `rcgen`, OpenSSL, ours): definite lengths only,
 * minimal length octets, low tag numbers only, minimal INTEGERs, booleans 0x00/0xFF.
 * Anything else is an `ERR_INVALID_MESSAGE`.
 *
 * Pure code. Unlike the stream codecs of this project the reader is not incremental:
 * a certificate reaches us whole (node:tls hands over the complete DER after the
 * handshake), so short input is a truncated structure and an error, never "need more".
 * Every length is checked against the bytes actually present before it is used, and
 * nesting is bounded by {@link MAX_DER_DEPTH}, so hostile input costs at most one pass
 * over a buffer whose size the caller has already bounded.
 */
import { codes, Lp2pError } from '../../errors.js'

/** Universal tags (X.690 8.x) used by X.509 certificates here. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31
} as const

/** The identifier octet of a constructed, context-specific tag `[n]` (X.690 8.1.2). */
export function contextTag (n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError('context tag number must be 0..30')
  return 0xa0 | n
}

/**
 * Deepest nesting accepted. An X.509 certificate nests 6 levels at most (Certificate >
 * TBSCertificate > [3] > Extensions > Extension > fields, or a Name's
 * SEQUENCE > SET > SEQUENCE > value); 16 leaves room for extension contents we skip
 * without ever recursing into them, and bounds a hostile "nested SEQUENCE" input.
 */
export const MAX_DER_DEPTH = 16

/**
 * Longest OBJECT IDENTIFIER content accepted, in bytes. Real OIDs are 3-12 bytes (the
 * libp2p extension's 1.3.6.1.4.1.53594.1.1 is 10); 64 is generous and keeps the
 * dotted-string conversion cheap.
 */
export const MAX_OID_BYTES = 64

/**
 * Most length octets in a long-form length (X.690 8.1.3.5). Four octets describe up to
 * 4 GiB, far beyond any certificate; callers bound the whole input much lower anyway.
 */
const MAX_LENGTH_OCTETS = 4

/** One decoded element: its tag, the whole encoding, and its contents. */
export interface DerElement {
  readonly tag: number
  /** The complete TLV, exactly as received (what a signature covers). */
  readonly encoded: Uint8Array
  /** The contents octets. */
  readonly content: Uint8Array
}

function invalid (message: string): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_MESSAGE, `invalid DER: ${message}`)
}

/**
 * Reads a sequence of DER elements from a buffer (the whole input, or the contents of
 * a constructed element). Methods consume one element each and throw
 * `ERR_INVALID_MESSAGE` when the element is missing, truncated or not what was
 * expected; `what` names the field in the message.
 */
export class DerReader {
  readonly #buf: Uint8Array
  readonly #depth: number
  #pos = 0

  constructor (buf: Uint8Array, depth = 0) {
    if (depth > MAX_DER_DEPTH) throw invalid(`nesting deeper than ${MAX_DER_DEPTH} levels`)
    this.#buf = buf
    this.#depth = depth
  }

  /** True when every element has been read. */
  get done (): boolean {
    return this.#pos >= this.#buf.byteLength
  }

  /** The next element's identifier octet, or undefined at the end. */
  peekTag (): number | undefined {
    return this.done ? undefined : this.#buf[this.#pos]
  }

  /** Reads the next element, whatever its tag. */
  next (what: string): DerElement {
    const buf = this.#buf
    const start = this.#pos
    if (start >= buf.byteLength) throw invalid(`${what}: missing`)
    const tag = buf[start] as number
    // High tag numbers (low five bits all set, X.690 8.1.2.4) never occur in X.509.
    if ((tag & 0x1f) === 0x1f) throw invalid(`${what}: high tag numbers are not supported`)
    let off = start + 1
    if (off >= buf.byteLength) throw invalid(`${what}: truncated length`)
    const first = buf[off++] as number
    let length: number
    if (first < 0x80) {
      length = first
    } else {
      const n = first & 0x7f
      // 0x80 is BER's indefinite length, which DER forbids (X.690 10.1).
      if (n === 0) throw invalid(`${what}: indefinite length`)
      if (n > MAX_LENGTH_OCTETS) throw invalid(`${what}: length of ${n} octets`)
      if (off + n > buf.byteLength) throw invalid(`${what}: truncated length`)
      length = 0
      for (let i = 0; i < n; i++) length = length * 256 + (buf[off + i] as number)
      off += n
      // DER: the shortest form (X.690 10.1): no leading zero octet, no long form < 128.
      if (buf[off - n] === 0 || length < 0x80) throw invalid(`${what}: non-minimal length`)
    }
    if (length > buf.byteLength - off) throw invalid(`${what}: truncated (needs ${length} bytes, ${buf.byteLength - off} left)`)
    const end = off + length
    this.#pos = end
    return { tag, encoded: buf.subarray(start, end), content: buf.subarray(off, end) }
  }

  /** Reads the next element and checks its tag. */
  expect (tag: number, what: string): DerElement {
    const el = this.next(what)
    if (el.tag !== tag) throw invalid(`${what}: expected tag 0x${hex(tag)}, got 0x${hex(el.tag)}`)
    return el
  }

  /** Reads a constructed element (SEQUENCE, SET, `[n]`) and returns a reader over it. */
  enter (tag: number, what: string): DerReader {
    if ((tag & 0x20) === 0) throw new RangeError('enter() needs a constructed tag')
    return new DerReader(this.expect(tag, what).content, this.#depth + 1)
  }

  sequence (what: string): DerReader {
    return this.enter(Tag.SEQUENCE, what)
  }

  /** INTEGER contents (two's complement, big-endian), checked for minimal encoding. */
  integer (what: string): Uint8Array {
    const c = this.expect(Tag.INTEGER, what).content
    if (c.byteLength === 0) throw invalid(`${what}: empty INTEGER`)
    // X.690 8.3.2: the first nine bits must not be all zeros or all ones.
    if (c.byteLength > 1) {
      const b0 = c[0] as number
      const b1 = c[1] as number
      if ((b0 === 0x00 && (b1 & 0x80) === 0) || (b0 === 0xff && (b1 & 0x80) !== 0)) {
        throw invalid(`${what}: non-minimal INTEGER`)
      }
    }
    return c
  }

  /** A small non-negative INTEGER (version numbers). */
  smallInteger (what: string): number {
    const c = this.integer(what)
    if (c.byteLength > 4 || ((c[0] as number) & 0x80) !== 0) throw invalid(`${what}: out of range`)
    let v = 0
    for (const b of c) v = v * 256 + b
    return v
  }

  oid (what: string): string {
    return decodeOid(this.expect(Tag.OID, what).content, what)
  }

  octetString (what: string): Uint8Array {
    return this.expect(Tag.OCTET_STRING, what).content
  }

  /** BIT STRING contents without the unused-bits octet; only whole octets are accepted. */
  bitString (what: string): Uint8Array {
    const c = this.expect(Tag.BIT_STRING, what).content
    if (c.byteLength === 0) throw invalid(`${what}: empty BIT STRING`)
    if (c[0] !== 0) throw invalid(`${what}: BIT STRING with ${c[0] as number} unused bits`)
    return c.subarray(1)
  }

  boolean (what: string): boolean {
    const c = this.expect(Tag.BOOLEAN, what).content
    // DER (X.690 11.1): FALSE is 0x00 and TRUE is 0xFF, one octet.
    if (c.byteLength !== 1 || (c[0] !== 0x00 && c[0] !== 0xff)) throw invalid(`${what}: invalid BOOLEAN`)
    return c[0] === 0xff
  }

  null (what: string): void {
    if (this.expect(Tag.NULL, what).content.byteLength !== 0) throw invalid(`${what}: NULL with contents`)
  }

  /** UTCTime or GeneralizedTime, in milliseconds since the epoch. */
  time (what: string): number {
    const el = this.next(what)
    if (el.tag === Tag.UTC_TIME) return decodeTime(el.content, false, what)
    if (el.tag === Tag.GENERALIZED_TIME) return decodeTime(el.content, true, what)
    throw invalid(`${what}: expected a time, got tag 0x${hex(el.tag)}`)
  }

  /** Checks that nothing follows the elements read so far. */
  end (what: string): void {
    if (!this.done) throw invalid(`${what}: ${this.#buf.byteLength - this.#pos} unexpected trailing bytes`)
  }
}

function hex (n: number): string {
  return n.toString(16).padStart(2, '0')
}

/** Dotted-decimal form of OID contents (X.690 8.19). */
export function decodeOid (c: Uint8Array, what = 'OID'): string {
  if (c.byteLength === 0) throw invalid(`${what}: empty OID`)
  if (c.byteLength > MAX_OID_BYTES) throw invalid(`${what}: OID longer than ${MAX_OID_BYTES} bytes`)
  if (((c[c.byteLength - 1] as number) & 0x80) !== 0) throw invalid(`${what}: truncated OID`)
  const arcs: number[] = []
  let value = 0
  let started = false
  for (const b of c) {
    // X.690 8.19.2: each subidentifier is minimal, so it never starts with 0x80.
    if (!started && b === 0x80) throw invalid(`${what}: non-minimal OID arc`)
    started = true
    value = value * 128 + (b & 0x7f)
    if (value > Number.MAX_SAFE_INTEGER / 128) throw invalid(`${what}: OID arc too large`)
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        // The first subidentifier packs two arcs (X.690 8.19.4).
        const first = value < 40 ? 0 : value < 80 ? 1 : 2
        arcs.push(first, value - first * 40)
      } else {
        arcs.push(value)
      }
      value = 0
      started = false
    }
  }
  return arcs.join('.')
}

const DIGITS = /^[0-9]+$/

/**
 * RFC 5280 4.1.2.5: UTCTime is `YYMMDDHHMMSSZ` (YY >= 50 means 19YY, else 20YY) and
 * GeneralizedTime `YYYYMMDDHHMMSSZ`; both in UTC with seconds and without fractions.
 */
function decodeTime (c: Uint8Array, generalized: boolean, what: string): number {
  const len = generalized ? 15 : 13
  if (c.byteLength !== len || c[len - 1] !== 0x5a /* Z */) throw invalid(`${what}: time not in the RFC 5280 form`)
  const digits = String.fromCharCode(...c.subarray(0, len - 1))
  if (!DIGITS.test(digits)) throw invalid(`${what}: time not in the RFC 5280 form`)
  let year: number
  let rest: string
  if (generalized) {
    year = Number(digits.slice(0, 4))
    rest = digits.slice(4)
  } else {
    const yy = Number(digits.slice(0, 2))
    year = yy >= 50 ? 1900 + yy : 2000 + yy
    rest = digits.slice(2)
  }
  const month = Number(rest.slice(0, 2))
  const day = Number(rest.slice(2, 4))
  const hour = Number(rest.slice(4, 6))
  const minute = Number(rest.slice(6, 8))
  const second = Number(rest.slice(8, 10))
  const ms = Date.UTC(year, month - 1, day, hour, minute, second)
  const d = new Date(ms)
  // Date.UTC rolls over (month 13, day 32, hour 24); a round trip rejects those. Note
  // Date.UTC maps years 0-99 to 1900-1999, which the round trip also catches.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day ||
      d.getUTCHours() !== hour || d.getUTCMinutes() !== minute || d.getUTCSeconds() !== second) {
    throw invalid(`${what}: not a valid date`)
  }
  return ms
}
