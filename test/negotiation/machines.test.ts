import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DialerMachine } from '../../src/negotiation/dialer.js'
import { ListenerMachine, MAX_PROPOSALS } from '../../src/negotiation/listener.js'
import { encodeMessage, encodeMessages, MessageDecoder } from '../../src/negotiation/message.js'
import { split } from '../helpers/chunks.js'

const text = (b: Uint8Array | undefined): string[] => {
  if (b === undefined) return []
  const d = new MessageDecoder(64 * 1024)
  d.push(b)
  const out: string[] = []
  for (let m = d.next(); m !== undefined; m = d.next()) out.push(m)
  return out
}

function listener (protocols: string[], list = true): ListenerMachine {
  return new ListenerMachine({
    isSupported: (p) => protocols.includes(p),
    ...(list ? { list: () => protocols } : {})
  })
}

/** Runs a dialer against a listener in memory, re-chunking every transmission. */
function run (dialer: DialerMachine, lst: ListenerMachine, cuts: number[] = []): { rounds: number } {
  let toListener: Uint8Array | undefined = dialer.start()
  let rounds = 0
  while (toListener !== undefined && rounds < 100) {
    rounds++
    for (const part of split(toListener, cuts)) lst.receive(part)
    const answer = lst.takeOutput()
    if (answer === undefined) break
    for (const part of split(answer, cuts)) dialer.receive(part)
    toListener = dialer.takeOutput()
  }
  return { rounds }
}

describe('multistream-select machines', () => {
  it('agrees on the first protocol in one round trip (header and proposal together)', () => {
    const d = new DialerMachine(['/noise'])
    const first = d.start()
    assert.deepEqual(text(first), ['/multistream/1.0.0', '/noise'])
    const l = listener(['/noise'])
    l.receive(first)
    assert.deepEqual(text(l.takeOutput()), ['/multistream/1.0.0', '/noise'], 'header and answer share one buffer')
    assert.deepEqual(l.state, { kind: 'done', protocol: '/noise' })
  })

  it('follows na to the next proposal (the connections spec diagram: tls rejected, noise accepted)', () => {
    const d = new DialerMachine(['/tls/1.0.0', '/noise'])
    const l = listener(['/noise'])
    const { rounds } = run(d, l)
    assert.equal(rounds, 2)
    assert.deepEqual(d.state, { kind: 'done', protocol: '/noise' })
    assert.deepEqual(l.state, { kind: 'done', protocol: '/noise' })
  })

  it('agrees under any chunking and any preference order (property)', () => {
    const all = ['/a/1', '/b/1', '/c/1', '/d/1']
    fc.assert(fc.property(fc.shuffledSubarray(all, { minLength: 1 }), fc.subarray(all), fc.array(fc.nat(), { maxLength: 10 }), (mine, theirs, cuts) => {
      const d = new DialerMachine(mine)
      const l = listener(theirs)
      run(d, l, cuts)
      const expected = mine.find((p) => theirs.includes(p))
      if (expected === undefined) {
        assert.equal(d.state.kind, 'failed')
        assert.equal(d.state.kind === 'failed' && d.state.error.code, 'ERR_UNSUPPORTED_PROTOCOL')
      } else {
        assert.deepEqual(d.state, { kind: 'done', protocol: expected })
        assert.deepEqual(l.state, { kind: 'done', protocol: expected })
      }
    }))
  })

  it('hands over bytes that follow the agreement (lazy dialer data, listener data)', () => {
    const d = new DialerMachine(['/echo/1.0.0'])
    const l = listener(['/echo/1.0.0'])
    const lazy = Uint8Array.from([...d.start(), 0xde, 0xad])
    l.receive(lazy)
    assert.equal(l.state.kind, 'done')
    assert.deepEqual([...l.takeRemaining()], [0xde, 0xad])
    const answer = Uint8Array.from([...(l.takeOutput() as Uint8Array), 0xbe, 0xef])
    d.receive(answer)
    assert.deepEqual(d.state, { kind: 'done', protocol: '/echo/1.0.0' })
    assert.deepEqual([...d.takeRemaining()], [0xbe, 0xef])
  })

  it('lets the header arrive separately (both sides send it at once)', () => {
    const l = listener(['/x'])
    l.receive(encodeMessage('/multistream/1.0.0'))
    assert.deepEqual(text(l.takeOutput()), ['/multistream/1.0.0'], 'answers the header without waiting for a proposal')
    l.receive(encodeMessage('/x'))
    assert.deepEqual(text(l.takeOutput()), ['/x'])
  })

  it('answers ls with the list, or na when listing is off', () => {
    const l = listener(['/a', '/b'])
    const q = new DialerMachine('ls')
    l.receive(q.start())
    q.receive(l.takeOutput() as Uint8Array)
    assert.deepEqual(q.state, { kind: 'listed', protocols: ['/a', '/b'] })
    assert.equal(l.state.kind, 'await-proposal', 'ls does not end the negotiation')

    const quiet = listener(['/a'], false)
    quiet.receive(encodeMessages(['/multistream/1.0.0', 'ls']))
    assert.deepEqual(text(quiet.takeOutput()), ['/multistream/1.0.0', 'na'])
  })

  it('fails on a wrong header, on both sides', () => {
    const l = listener(['/a'])
    l.receive(encodeMessage('/multistream/2.0.0'))
    assert.equal(l.state.kind === 'failed' && l.state.error.code, 'ERR_NEGOTIATION_FAILED')
    const d = new DialerMachine(['/a'])
    d.start()
    d.receive(encodeMessage('HTTP/1.1 200 OK'))
    assert.equal(d.state.kind === 'failed' && d.state.error.code, 'ERR_NEGOTIATION_FAILED')
  })

  it('fails on an answer that is neither the echo nor na', () => {
    const d = new DialerMachine(['/a'])
    d.start()
    d.receive(encodeMessages(['/multistream/1.0.0', '/b']))
    assert.equal(d.state.kind === 'failed' && d.state.error.code, 'ERR_NEGOTIATION_FAILED')
  })

  it('limits the number of proposals', () => {
    const l = listener([])
    const proposals = Array.from({ length: MAX_PROPOSALS + 1 }, (_, i) => `/p/${i}`)
    l.receive(encodeMessages(['/multistream/1.0.0', ...proposals]))
    assert.equal(l.state.kind === 'failed' && l.state.error.code, 'ERR_TOO_MANY_PROPOSALS')
  })

  it('fails when the remote ends mid-negotiation', () => {
    const l = listener(['/a'])
    l.receive(encodeMessage('/multistream/1.0.0'))
    assert.equal(l.receiveEnd().kind, 'failed')
    const d = new DialerMachine(['/a'])
    d.start()
    assert.equal(d.receiveEnd().kind, 'failed')
  })

  it('turns hostile bytes into a failed state, never an exception (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
      const l = listener(['/a'])
      l.receive(junk)
      const d = new DialerMachine(['/a'])
      d.start()
      d.receive(junk)
    }))
  })

  it('rejects invalid protocol ids at the API edge', () => {
    assert.throws(() => new DialerMachine([]), RangeError)
    assert.throws(() => new DialerMachine(['a\nb']), RangeError)
    assert.throws(() => new DialerMachine(['na']), RangeError)
  })
})
