/**
 * The dial machine on a simulated clock: no sockets, no timers, time passed in.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { DialMachine, type DialAction, type DialMachineConfig } from '../../src/dialer/dial-machine.js'
import { scheduleDials } from '../../src/dialer/schedule.js'
import { AbortError, codes, Lp2pError, TimeoutError } from '../../src/errors.js'

const config: DialMachineConfig = { maxParallel: 8, attemptTimeout: 1000, dialTimeout: 5000 }
const refused = (): Error => new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, 'refused', { cause: Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' }) })

function machine (addrs: string[], cfg: Partial<DialMachineConfig> = {}, now = 0): DialMachine {
  return new DialMachine(scheduleDials(addrs.map((a) => ({ addr: multiaddr(a) }))), { ...config, ...cfg }, now)
}
const starts = (actions: DialAction[]): Array<[number, string]> =>
  actions.filter((a) => a.type === 'start').map((a) => [a.id, a.type === 'start' ? a.address.addr.toString() : ''])
const cancels = (actions: DialAction[]): Array<[number, string]> =>
  actions.filter((a) => a.type === 'cancel').map((a) => [a.id, a.type === 'cancel' ? a.why : ''])

const local = (n: number): string[] => Array.from({ length: n }, (_, i) => `/ip4/127.0.0.1/tcp/${i + 1}`)

describe('dial machine', () => {
  it('starts the first address at once and the next one a step later while the first is pending', () => {
    const m = machine(local(3))
    assert.deepEqual(starts(m.poll(0)), [[1, '/ip4/127.0.0.1/tcp/1']])
    assert.equal(m.nextTimeout(), 30)
    assert.deepEqual(m.poll(29), [])
    assert.deepEqual(starts(m.poll(30)), [[2, '/ip4/127.0.0.1/tcp/2'], [3, '/ip4/127.0.0.1/tcp/3']])
  })

  it('starts the next address at once when nothing is in flight, keeping the later gaps', () => {
    const m = machine(['/ip4/1.1.1.1/udp/1/quic-v1', '/ip4/1.1.1.1/tcp/1', '/ip4/1.1.1.1/tcp/1/ws'])
    assert.deepEqual(starts(m.poll(0)), [[1, '/ip4/1.1.1.1/udp/1/quic-v1']])
    m.attemptEnded(1, { ok: false, error: refused() })
    // TCP was due at 250; nothing in flight at 10, so it starts now...
    assert.deepEqual(starts(m.poll(10)), [[2, '/ip4/1.1.1.1/tcp/1']])
    // ...and WebSocket keeps its 250 ms gap after it.
    assert.equal(m.nextTimeout(), 260)
    assert.deepEqual(starts(m.poll(260)), [[3, '/ip4/1.1.1.1/tcp/1/ws']])
  })

  it('the first success wins, every other attempt is cancelled, late results are refused', () => {
    const m = machine(local(3))
    m.poll(0)
    m.poll(30)
    assert.equal(m.attemptEnded(2, { ok: true }), true)
    assert.equal(m.state, 'succeeded')
    assert.deepEqual(cancels(m.poll(31)), [[1, 'won-elsewhere'], [3, 'won-elsewhere']])
    assert.equal(m.attemptEnded(1, { ok: true }), false, 'a second connection is not the result')
    assert.equal(m.nextTimeout(), undefined)
  })

  it('fails once every address failed, with each failure listed in order', () => {
    const m = machine(local(2))
    m.poll(0)
    m.attemptEnded(1, { ok: false, error: refused() })
    assert.equal(m.state, 'running')
    m.poll(1)
    m.attemptEnded(2, { ok: false, error: new TimeoutError('t') })
    assert.equal(m.state, 'failed')
    assert.deepEqual(m.failures.map((f) => [f.addr.toString(), f.reason]), [['/ip4/127.0.0.1/tcp/1', 'refused'], ['/ip4/127.0.0.1/tcp/2', 'timeout']])
  })

  it('an attempt past attemptTimeout is cancelled as a timeout and the next address starts', () => {
    const m = machine(local(2), { attemptTimeout: 100 })
    m.poll(0)
    m.poll(30)
    assert.equal(m.nextTimeout(), 100)
    m.handleTimeout(100)
    assert.deepEqual(cancels(m.poll(100)), [[1, 'attempt-timeout']])
    // The attempt still holds its slot until the driver reports how it ended.
    assert.equal(m.inFlight, 2)
    m.attemptEnded(1, { ok: false, error: new TimeoutError('connect timed out') })
    assert.equal(m.failures[0]?.reason, 'timeout')
    assert.equal(m.nextTimeout(), 130)
  })

  it('the whole dial times out: every attempt cancelled, untried addresses listed, the error named', () => {
    const m = machine(['/ip4/8.8.8.8/tcp/1', '/ip4/8.8.8.8/tcp/2', '/ip4/8.8.8.8/tcp/3/ws'], { dialTimeout: 300, attemptTimeout: 10_000 })
    m.poll(0)
    m.poll(250)
    m.handleTimeout(300, (id) => id === 1 ? new TimeoutError('connecting to /ip4/8.8.8.8/tcp/1 was still running') : undefined)
    assert.equal(m.state, 'failed')
    assert.ok(m.endError instanceof TimeoutError)
    assert.deepEqual(cancels(m.poll(300)), [[1, 'dial-timeout'], [2, 'dial-timeout']])
    assert.deepEqual(m.failures.map((f) => [f.addr.toString(), f.reason, f.error.message]), [
      ['/ip4/8.8.8.8/tcp/3/ws', 'not-tried', 'dial timed out after 300 ms'],
      ['/ip4/8.8.8.8/tcp/1', 'timeout', 'connecting to /ip4/8.8.8.8/tcp/1 was still running'],
      ['/ip4/8.8.8.8/tcp/2', 'timeout', 'dial timed out after 300 ms']
    ])
  })

  it('at most maxParallel attempts, and at most the budget the node gives', () => {
    const m = machine(local(10), { maxParallel: 3 })
    assert.equal(starts(m.poll(0, 0)).length, 0)
    assert.equal(m.wantsToStart(0), true)
    assert.equal(starts(m.poll(0)).length, 1)
    assert.equal(starts(m.poll(60)).length, 2)
    assert.equal(m.wantsToStart(60), false)
    m.attemptEnded(1, { ok: false, error: refused() })
    assert.equal(starts(m.poll(61)).length, 1)
  })

  it('cancel (every caller left) and satisfy (an inbound connection) end it without a result', () => {
    const m = machine(local(2))
    m.poll(0)
    m.cancel(new AbortError('gone'))
    assert.equal(m.state, 'cancelled')
    assert.deepEqual(cancels(m.poll(1)), [[1, 'cancelled']])
    assert.equal(m.attemptEnded(1, { ok: true }), false)

    const s = machine(local(2))
    s.poll(0)
    s.satisfy()
    assert.equal(s.state, 'succeeded')
    assert.deepEqual(cancels(s.poll(1)), [[1, 'won-elsewhere']])
  })

  it('an empty schedule has failed from the start, with the failures it was given', () => {
    const pre = [{ addr: multiaddr('/ip4/127.0.0.1/tcp/1'), reason: 'backed-off' as const, error: new Error('b') }]
    const m = new DialMachine([], config, 0, pre)
    assert.equal(m.state, 'failed')
    assert.deepEqual(m.failures, pre)
    assert.deepEqual(m.poll(0), [])
  })

  it('a stalled first address costs one step: the working one starts 30 ms later and wins', () => {
    const m = machine(local(5))
    const started: number[] = []
    for (let t = 0; t <= 60; t += 10) started.push(...starts(m.poll(t)).map(([id]) => id))
    assert.deepEqual(started, [1, 2, 3, 4, 5])
    assert.equal(m.attemptEnded(5, { ok: true }), true)
  })
})
