/** The multistream-select dialer machine (`specs/multistream-select.md`) reading a listener's answers. */
import { DialerMachine } from '../../src/negotiation/dialer.js'
import { chunks, defineTarget } from '../lib/target.js'

export default defineTarget({
  name: 'multistream-dialer',
  description: 'multistream-select dialer machine (two proposals, or an ls query) fed arbitrary answers in arbitrary chunks',
  run (data) {
    const m = new DialerMachine((data[0] ?? 0) % 3 === 0 ? 'ls' : ['/noise', '/tls/1.0.0'])
    m.start()
    for (const c of chunks(data)) {
      const s = m.receive(c)
      m.takeOutput()
      if (s.kind === 'failed') throw s.error
      if (s.kind === 'done' || s.kind === 'listed') break
    }
    const end = m.receiveEnd()
    if (end.kind === 'failed') throw end.error
    m.takeRemaining()
  }
})
