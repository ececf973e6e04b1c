/** The protobuf subset reader (`src/wire/protobuf-reader.ts`), walking any message generically. */
import { ProtobufReader, WireType } from '../../src/wire/protobuf-reader.js'
import { defineTarget } from '../lib/target.js'

/** Reads every field, descending into length-delimited ones as sub-messages when they parse. */
function walk (r: ProtobufReader, depth: number): void {
  while (r.next() !== 0) {
    if (r.wireType === WireType.LENGTH_DELIMITED && depth < 4) {
      const bytes = r.bytes()
      try {
        walk(new ProtobufReader(bytes), depth + 1)
      } catch {
        // not a sub-message: it was a string or bytes field, read above
      }
    } else if (r.wireType === WireType.VARINT) {
      r.uint64()
    } else {
      r.skip()
    }
  }
}

export default defineTarget({
  name: 'protobuf',
  description: 'protobuf wire format (the subset every lp2p message uses): tags, varints, fixed and length-delimited fields',
  run (data) {
    walk(new ProtobufReader(data), 0)
  }
})
