/** Noise message framing (`specs/noise.md`, "Wire Format"): a 2-byte big-endian length, at most 65535. */
import { FrameDecoder } from '../../src/security/noise/frame-decoder.js'
import { chunks, defineTarget, invariant } from '../lib/target.js'

export default defineTarget({
  name: 'noise-frames',
  description: 'Noise length-prefixed message framing (noise.md, "Wire Format") in arbitrary chunks, transport minimum of 16 bytes',
  run (data) {
    const d = new FrameDecoder({ minLength: 16 })
    let taken = 0
    for (const c of chunks(data)) {
      d.push(c)
      for (let m = d.next(); m !== undefined; m = d.next()) taken += 2 + m.byteLength
    }
    invariant(taken + d.takeRemainder().byteLength === Math.max(0, data.byteLength - 1), 'bytes were lost or invented by the framing')
  }
})
