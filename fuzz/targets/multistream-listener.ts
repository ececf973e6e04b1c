/** The multistream-select listener machine (`specs/multistream-select.md`) reading a dialer's proposals. */
import { ListenerMachine } from '../../src/negotiation/listener.js'
import { chunks, defineTarget } from '../lib/target.js'

const SUPPORTED = new Set(['/noise', '/yamux/1.0.0', '/ipfs/id/1.0.0'])

export default defineTarget({
  name: 'multistream-listener',
  description: 'multistream-select listener machine (proposals, ls) fed arbitrary dialer bytes in arbitrary chunks',
  run (data) {
    const m = new ListenerMachine({ isSupported: (p) => SUPPORTED.has(p), list: () => [...SUPPORTED] })
    for (const c of chunks(data)) {
      const s = m.receive(c)
      m.takeOutput()
      if (s.kind === 'failed') throw s.error
      if (s.kind === 'done') break
    }
    const end = m.receiveEnd()
    if (end.kind === 'failed') throw end.error
    m.takeRemaining()
  }
})
