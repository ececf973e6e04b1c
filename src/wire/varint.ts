/**
 * Multiformats unsigned varint (`specs/unsigned-varint.md`): 7 bits per byte, least
 * significant group first, high bit set on every byte but the last.
 *
 * Rules enforced on decode (spec, "Practical maximum of 9 bytes" and "minimally
 * encoded"):
 * - at most {@link MAX_VARINT_BYTES} bytes (63 bits); callers may pass a smaller
 *   maximum when their field cannot need more (the spec allows a smaller maximum);
 * - the encoding must be minimal: a final byte of 0x00 after a continuation is
 *   rejected;
 * - values above `Number.MAX_SAFE_INTEGER` are rejected, because every varint lp2p
 *   reads is a length, a code or a stream id, and none of them needs 2^53.
 *
 * Pure and incremental: short input returns `undefined` ("need more bytes"), never
 * an exception. Malformed input throws `ERR_INVALID_VARINT`.
 */
import { codes, Lp2pError } from '../errors.js'

/** Spec maximum: 9 bytes carry 63 bits. */
export const MAX_VARINT_BYTES = 9

/** A decoded varint: its value and how many bytes it took. */
export interface DecodedVarint {
  value: number
  length: number
}

/**
 * Decodes one unsigned varint at `offset`.
 *
 * @returns the value and its encoded length, or `undefined` when `buf` ends before
 *   the varint does (more bytes are needed).
 * @throws Lp2pError `ERR_INVALID_VARINT` when the varint is longer than `maxBytes`,
 *   not minimally encoded, or larger than `Number.MAX_SAFE_INTEGER`.
 */
export function decodeUvarint (buf: Uint8Array, offset = 0, maxBytes = MAX_VARINT_BYTES): DecodedVarint | undefined {
  // Fast path: one byte (every multistream message below 128 bytes, most lengths).
  if (offset < buf.length) {
    const b0 = buf[offset] as number
    if (b0 < 0x80) return { value: b0, length: 1 }
  }
  let value = 0
  let scale = 1
  const limit = Math.min(buf.length, offset + maxBytes)
  for (let i = offset; i < limit; i++) {
    const b = buf[i] as number
    value += (b & 0x7f) * scale
    if (b < 0x80) {
      const length = i - offset + 1
      if (b === 0 && length > 1) {
        throw new Lp2pError(codes.ERR_INVALID_VARINT, 'varint is not minimally encoded')
      }
      if (value > Number.MAX_SAFE_INTEGER) {
        throw new Lp2pError(codes.ERR_INVALID_VARINT, 'varint exceeds the largest safe integer')
      }
      return { value, length }
    }
    scale *= 128
  }
  if (buf.length - offset >= maxBytes) {
    throw new Lp2pError(codes.ERR_INVALID_VARINT, `varint longer than ${maxBytes} bytes`)
  }
  return undefined
}

/** Number of bytes the varint encoding of `value` takes. */
export function uvarintLength (value: number): number {
  if (value < 0x80) return 1
  if (value < 0x4000) return 2
  if (value < 0x200000) return 3
  if (value < 0x10000000) return 4
  let n = 4
  let v = Math.floor(value / 0x10000000)
  while (v > 0) {
    n++
    v = Math.floor(v / 128)
  }
  return n
}

/**
 * Writes the varint of `value` into `buf` at `offset` and returns the number of bytes
 * written. `buf` must have room for {@link uvarintLength}(value) bytes.
 *
 * @throws RangeError for negative, fractional or unsafe values.
 */
export function writeUvarint (value: number, buf: Uint8Array, offset = 0): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`varint value must be a non-negative safe integer, got ${value}`)
  }
  let i = offset
  while (value >= 0x80) {
    buf[i++] = (value % 128) | 0x80
    value = Math.floor(value / 128)
  }
  buf[i++] = value
  return i - offset
}

/** Encodes `value` as a new varint byte array. */
export function encodeUvarint (value: number): Uint8Array {
  const out = new Uint8Array(uvarintLength(value))
  writeUvarint(value, out, 0)
  return out
}
