/**
 * ECDSA signature encodings shared by secp256k1 and ECDSA keys (pure).
 *
 * libp2p sends ECDSA signatures as DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER,
 * s INTEGER }` (RFC 3279 section 2.2.3; peer-ids.md "Secp256k1" and "ECDSA"). The
 * decoder is strict DER (X.690 section 10): definite minimal lengths, minimal positive
 * integers, nothing trailing. That is what go-libp2p's parsers accept (Go's
 * `crypto/ecdsa` uses cryptobyte's strict DER; decred's `ParseDERSignature` likewise),
 * so no peer sends anything looser, and a single accepted encoding per (r, s) keeps
 * signature bytes unambiguous. Range checks (1 <= r, s < n) are the caller's, since
 * they depend on the curve.
 */

/** Largest DER signature accepted: P-521 needs 2 * (2 + 67) + 3 = 141 bytes; round up. */
export const MAX_DER_SIGNATURE_BYTES = 160

export interface EcdsaSignature {
  r: bigint
  s: bigint
}

/** Big-endian unsigned bytes to a bigint. */
export function bytesToBigInt (b: Uint8Array): bigint {
  let hex = ''
  for (let i = 0; i < b.length; i++) hex += (b[i] as number).toString(16).padStart(2, '0')
  return hex.length === 0 ? 0n : BigInt('0x' + hex)
}

/** A non-negative bigint to exactly `length` big-endian bytes (it must fit). */
export function bigIntToBytes (n: bigint, length: number): Uint8Array {
  const hex = n.toString(16).padStart(length * 2, '0')
  if (hex.length > length * 2) throw new RangeError(`integer does not fit in ${length} bytes`)
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** Decodes a strict DER ECDSA signature; undefined when it is not one. */
export function decodeDerSignature (sig: Uint8Array): EcdsaSignature | undefined {
  if (sig.length < 8 || sig.length > MAX_DER_SIGNATURE_BYTES || sig[0] !== 0x30) return undefined
  let p = 1
  let len = sig[p++] as number
  if (len === 0x81) {
    len = sig[p++] as number
    if (len < 0x80) return undefined // the short form was required
  } else if (len > 0x7f) {
    return undefined
  }
  if (p + len !== sig.length) return undefined
  const r = readInteger(sig, p)
  if (r === undefined) return undefined
  const s = readInteger(sig, r.end)
  if (s === undefined || s.end !== sig.length) return undefined
  return { r: r.value, s: s.value }
}

function readInteger (b: Uint8Array, p: number): { value: bigint, end: number } | undefined {
  if (p + 2 > b.length || b[p] !== 0x02) return undefined
  const len = b[p + 1] as number
  if (len === 0 || len > 0x7f || p + 2 + len > b.length) return undefined
  const body = b.subarray(p + 2, p + 2 + len)
  const first = body[0] as number
  if (first >= 0x80) return undefined // negative
  if (first === 0 && len > 1 && (body[1] as number) < 0x80) return undefined // not minimal
  return { value: bytesToBigInt(body), end: p + 2 + len }
}

/** Encodes (r, s) as minimal DER. */
export function encodeDerSignature (r: bigint, s: bigint): Uint8Array {
  const rb = derIntegerBody(r)
  const sb = derIntegerBody(s)
  const content = 4 + rb.length + sb.length
  const header = content < 0x80 ? 2 : 3
  const out = new Uint8Array(header + content)
  let p = 0
  out[p++] = 0x30
  if (content >= 0x80) out[p++] = 0x81
  out[p++] = content
  out[p++] = 0x02
  out[p++] = rb.length
  out.set(rb, p)
  p += rb.length
  out[p++] = 0x02
  out[p++] = sb.length
  out.set(sb, p)
  return out
}

function derIntegerBody (n: bigint): Uint8Array {
  let hex = n.toString(16)
  if (hex.length % 2 === 1) hex = '0' + hex
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = '00' + hex
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** The fixed-width r || s form (IEEE P1363) node:crypto verifies with `dsaEncoding: 'ieee-p1363'`. */
export function toP1363 (sig: EcdsaSignature, scalarBytes: number): Uint8Array {
  const out = new Uint8Array(2 * scalarBytes)
  out.set(bigIntToBytes(sig.r, scalarBytes), 0)
  out.set(bigIntToBytes(sig.s, scalarBytes), scalarBytes)
  return out
}
