/** Small byte helpers shared by the identity modules (pure). */
import { invalidArgType } from '../errors.js'

/** True when both byte arrays hold the same bytes. Not constant-time: use for public data. */
export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Throws a TypeError unless `value` is a Uint8Array (Buffers included). */
export function requireBytes (value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidArgType(name, 'a Uint8Array', value)
}

/**
 * The content of a DER SEQUENCE that spans all of `der` (X.690 section 8.1: tag 0x30,
 * a minimal definite length), or undefined. node:crypto (OpenSSL) ignores trailing
 * bytes after a key and tries several formats for one `type`; this check keeps key
 * parsing as strict as go-libp2p's.
 */
export function derSequenceContent (der: Uint8Array): Uint8Array | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined
  const first = der[1] as number
  let len: number
  let start: number
  if (first < 0x80) {
    len = first
    start = 2
  } else {
    const n = first & 0x7f
    // Keys here are below 64 KiB: at most 2 length bytes; the first must be non-zero.
    if (n === 0 || n > 2 || der.length < 2 + n || der[2] === 0) return undefined
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (der[2 + i] as number)
    if (len < 0x80) return undefined // the short form was required
    start = 2 + n
  }
  if (start + len !== der.length) return undefined
  return der.subarray(start)
}

/** True when `bytes` starts with `prefix`. */
export function startsWith (bytes: Uint8Array, prefix: readonly number[]): boolean {
  if (bytes.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}
