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
