/** Unsigned varints (`specs/unsigned-varint.md`): at most 9 bytes, minimal encoding only. */
import { decodeUvarint, encodeUvarint } from '../../src/wire/varint.js'
import { defineTarget, invariant } from '../lib/target.js'

export default defineTarget({
  name: 'varint',
  description: 'multiformats unsigned varint decoding (unsigned-varint.md): a value re-encodes to exactly the bytes read',
  run (data) {
    for (let off = 0; off < data.byteLength;) {
      const v = decodeUvarint(data, off)
      if (v === undefined) return // needs more bytes
      const again = encodeUvarint(v.value)
      invariant(Buffer.from(again).equals(data.subarray(off, off + v.length)), `varint at ${off} is not minimal or does not round-trip`)
      off += v.length
    }
  }
})
