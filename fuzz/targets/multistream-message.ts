/** multistream-select messages (`specs/multistream-select.md`): varint-length-prefixed, `\n`-terminated. */
import { decodeLsResponse, MessageDecoder } from '../../src/negotiation/message.js'
import { chunks, defineTarget } from '../lib/target.js'

export default defineTarget({
  name: 'multistream-message',
  description: 'multistream-select message framing (multistream-select.md) in arbitrary chunks, and ls responses',
  maxAllocation: 4 * 1024 * 1024,
  run (data) {
    const d = new MessageDecoder()
    for (const c of chunks(data)) {
      d.push(c)
      for (let m = d.next(); m !== undefined; m = d.next()) { /* each message */ }
    }
    decodeLsResponse(data)
  }
})
