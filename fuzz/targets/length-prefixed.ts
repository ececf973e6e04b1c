/** Varint-length-prefixed messages (`specs/multistream-select-lpm-stream.md`; identify and others read them). */
import { LengthPrefixedDecoder } from '../../src/wire/length-prefixed.js'
import { chunks, defineTarget, invariant } from '../lib/target.js'

const MAX = 4096

export default defineTarget({
  name: 'length-prefixed',
  description: 'uvarint-length-prefixed message framing in arbitrary chunks, with a 4 KiB limit',
  run (data) {
    const d = new LengthPrefixedDecoder(MAX)
    for (const c of chunks(data)) {
      d.push(c)
      for (let m = d.next(); m !== undefined; m = d.next()) invariant(m.byteLength <= MAX, 'a message over the limit came out')
    }
  }
})
