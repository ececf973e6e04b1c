import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DialBackoff } from '../../src/dialer/backoff.js'
import { BlackHoleDetector } from '../../src/dialer/black-hole.js'
import { dialFailedError, failureReason } from '../../src/dialer/failure.js'
import { multiaddr } from '@multiformats/multiaddr'
import { AbortError, codes, DialError, Lp2pError, TimeoutError, UpgradeError } from '../../src/errors.js'

describe('dial backoff', () => {
  it('grows as 5 s + 1 s x tries², caps at 5 min, and a success clears the peer', () => {
    const b = new DialBackoff()
    const waits: number[] = []
    for (let i = 0; i < 25; i++) waits.push(b.fail('P', '/a', 0).until)
    assert.deepEqual(waits.slice(0, 4), [5_000, 6_000, 9_000, 14_000])
    assert.equal(waits[24], 300_000)
    assert.ok(b.check('P', '/a', 299_999) !== undefined)
    assert.equal(b.check('P', '/a', 300_000), undefined)
    assert.equal(b.check('P', '/b', 0), undefined, 'per address')
    assert.equal(b.check('Q', '/a', 0), undefined, 'per peer')
    b.fail('P', '/b', 0)
    b.fail('Q', '/a', 0)
    b.clearPeer('P')
    assert.equal(b.check('P', '/a', 1), undefined)
    assert.equal(b.check('P', '/b', 1), undefined)
    assert.ok(b.check('Q', '/a', 1) !== undefined, 'other peers keep theirs')
    assert.equal(b.size, 1)
  })

  it('remembers the last failure code for the error message', () => {
    const b = new DialBackoff()
    b.fail('P', '/a', 0, 'ERR_TIMEOUT')
    assert.equal(b.check('P', '/a', 1)?.lastCode, 'ERR_TIMEOUT')
  })

  it('is bounded: past maxEntries the least recently failed peers go', () => {
    const b = new DialBackoff({ maxEntries: 100 })
    for (let i = 0; i < 1000; i++) b.fail(`peer${i}`, '/a', i)
    assert.ok(b.size <= 100)
    assert.ok(b.check('peer999', '/a', 1000) !== undefined, 'the newest is kept')
    assert.equal(b.check('peer0', '/a', 1000), undefined)
  })
})

describe('black-hole detector', () => {
  const config = { window: 10, minSuccesses: 2, probeEvery: 5, probeInterval: 60_000 }

  it('probing until the window fills, then allowed or blocked by the successes in it', () => {
    const d = new BlackHoleDetector(config)
    assert.equal(d.state('ip6'), 'probing')
    for (let i = 0; i < 9; i++) d.record('ip6', false, i)
    assert.equal(d.state('ip6'), 'probing')
    assert.equal(d.request('ip6', 10), 'allow')
    d.record('ip6', false, 10)
    assert.equal(d.state('ip6'), 'blocked')
    assert.equal(d.state('udp'), 'probing', 'classes are separate')

    const ok = new BlackHoleDetector(config)
    for (let i = 0; i < 8; i++) ok.record('udp', false, i)
    ok.record('udp', true, 8)
    ok.record('udp', true, 9)
    assert.equal(ok.state('udp'), 'allowed')
    // The successes slide out of the window.
    for (let i = 0; i < 9; i++) ok.record('udp', false, 10 + i)
    assert.equal(ok.state('udp'), 'blocked')
  })

  it('blocked: one probe every probeEvery requests, or once probeInterval has passed', () => {
    const d = new BlackHoleDetector(config)
    for (let i = 0; i < 10; i++) d.record('ip6', false, 1000)
    const decisions = Array.from({ length: 10 }, () => d.request('ip6', 1001))
    assert.deepEqual(decisions, ['block', 'block', 'block', 'block', 'probe', 'block', 'block', 'block', 'block', 'probe'])
    assert.equal(d.request('ip6', 1002), 'block')
    assert.equal(d.request('ip6', 1001 + 60_000), 'probe', 'time-based probe')
  })

  it('a success while blocked clears the window: the class is probed afresh', () => {
    const d = new BlackHoleDetector(config)
    for (let i = 0; i < 10; i++) d.record('ip6', false, 0)
    assert.equal(d.state('ip6'), 'blocked')
    d.record('ip6', true, 1)
    assert.equal(d.state('ip6'), 'probing')
    assert.equal(d.request('ip6', 2), 'allow')
  })
})

describe('dial failures', () => {
  const addr = multiaddr('/ip4/127.0.0.1/tcp/1')
  const sys = (code: string): Error => Object.assign(new Error(code), { code })

  it('reads a reason from codes and cause chains', () => {
    assert.equal(failureReason(new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, 'x', { cause: sys('ECONNREFUSED') })), 'refused')
    assert.equal(failureReason(new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, 'x', { cause: sys('EHOSTUNREACH') })), 'unreachable')
    assert.equal(failureReason(new TimeoutError('x')), 'timeout')
    assert.equal(failureReason(new UpgradeError('security-handshake', 'outbound', new TimeoutError('x'))), 'timeout')
    assert.equal(failureReason(new UpgradeError('security-handshake', 'outbound', new Lp2pError(codes.ERR_UNEXPECTED_PEER, 'x'))), 'wrong-peer')
    assert.equal(failureReason(new UpgradeError('muxer', 'outbound', new Error('x'))), 'upgrade-failed')
    assert.equal(failureReason(new AbortError()), 'aborted')
    assert.equal(failureReason(new Error('x')), 'error')
  })

  it('one failure is passed through; several make one DialError listing each address, capped at 16 in the message', () => {
    const one = new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, 'refused')
    assert.equal(dialFailedError('P', [{ addr, reason: 'refused', error: one }]), one)
    const failures = Array.from({ length: 20 }, (_, i) => ({ addr: multiaddr(`/ip4/127.0.0.1/tcp/${i + 1}`), reason: 'refused' as const, error: new Error(`e${i}`) }))
    const err = dialFailedError('P', failures)
    assert.ok(err instanceof DialError)
    assert.equal(err.code, codes.ERR_ALL_DIALS_FAILED)
    assert.equal(err.failures.length, 20)
    assert.equal(err.errors.length, 20)
    assert.match(err.message, /all 20 addresses of P failed: \/ip4\/127\.0\.0\.1\/tcp\/1: refused \(e0\)/)
    assert.match(err.message, /tcp\/16: refused \(e15\); and 4 more$/)
    assert.doesNotMatch(err.message, /tcp\/17:/)
  })

  it('a whole-dial timeout is coded ERR_TIMEOUT and still lists every address', () => {
    const end = new TimeoutError('dial timed out after 5 ms')
    const err = dialFailedError('P', [{ addr, reason: 'timeout', error: end }], end)
    assert.ok(err instanceof DialError)
    assert.equal(err.code, codes.ERR_TIMEOUT)
    assert.match(err.message, /^dial of P failed: dial timed out after 5 ms: \/ip4\/127\.0\.0\.1\/tcp\/1: timeout/)
  })
})
