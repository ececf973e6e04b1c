/** The perf server machine (`specs/perf.md`): an 8-byte big-endian request, an upload, then a download. */
import { PerfServerMachine } from '../../src/protocols/perf-machine.js'
import { chunks, defineTarget } from '../lib/target.js'

export default defineTarget({
  name: 'perf',
  description: 'perf server machine (perf.md): request header and upload in arbitrary chunks, the response bounded by maxResponseBytes',
  run (data) {
    const m = new PerfServerMachine({ maxResponseBytes: 1n << 20n })
    for (const c of chunks(data)) {
      const s = m.receive(c)
      if (s.phase === 'failed') throw s.error
    }
    const s = m.receiveEnd()
    if (s.phase === 'failed') throw s.error
    while (m.state.phase === 'download') if (m.take(65536) === 0) break
  }
})
