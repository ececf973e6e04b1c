/**
 * yamux liveness under virtual time: what counts as a sign of life, when pings go
 * out, the documented bounds of `config.ts` against a model of TCP's retransmission
 * back-off, and the stale/probe decision. The real network proof is
 * `npm run test:faults`.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeHeader, Flag, FrameDecoder, FrameType, type FrameHeader } from '../../../src/muxer/yamux/frame.js'
import { YamuxSession, type SessionHandler } from '../../../src/muxer/yamux/session.js'
import {
  DEFAULTS, detectionBound, healedPartitionBound, resolveOptions, RTT_REFRESH_INTERVALS, STALE_ALLOWANCE,
  TCP_RECOVERY_ALLOWANCE, type YamuxOptions
} from '../../../src/muxer/yamux/config.js'
import { codes } from '../../../src/errors.js'

const { Ping, WindowUpdate: WU } = FrameType

function frame (type: number, flags: number, id: number, length: number): Uint8Array {
  return encodeHeader({ type: type as FrameHeader['type'], flags, streamId: id, length })
}

/** A session and the pings it sends; `failedAt` is when it failed, if it did. */
class Side {
  readonly session: YamuxSession
  failedAt: number | undefined
  failure: string | undefined
  now = 0

  constructor (options: YamuxOptions = {}) {
    const handler: SessionHandler = {
      onInboundStream: () => {},
      onOutput: () => {},
      onStreamRemoved: () => {},
      onRemoteGoAway: () => {},
      onFailure: (err) => { this.failedAt = this.now; this.failure = (err as { code: string }).code }
    }
    this.session = new YamuxSession('outbound', resolveOptions(options), handler, 0)
  }

  /** Our pings in the output (opaque values); everything else is dropped. */
  pings (): number[] {
    const chunks = this.session.takeOutput(this.now)
    if (chunks === undefined) return []
    this.session.flushed(true)
    const d = new FrameDecoder({ maxDataLength: 1 << 30 })
    const out: number[] = []
    for (const c of chunks) {
      d.push(c)
      for (let ev = d.next(); ev !== undefined; ev = d.next()) {
        if (!(ev instanceof Uint8Array) && ev.type === Ping && ev.flags === Flag.SYN) out.push(ev.length)
      }
    }
    return out
  }

  /** Runs the keep-alive timer up to `t` (as the driver's timer would), collecting pings. */
  runUntil (t: number, onPing?: (opaque: number, at: number) => void): void {
    for (;;) {
      const at = this.session.nextTimeout()
      if (at === undefined || at > t || this.failedAt !== undefined) break
      this.now = at
      this.session.handleTimeout(at)
      for (const p of this.pings()) onPing?.(p, at)
    }
    this.now = Math.max(this.now, t)
  }

  recv (bytes: Uint8Array, at: number): void {
    this.runUntil(at)
    if (this.failedAt !== undefined) return
    this.now = at
    this.session.receive(bytes, at)
  }
}

describe('yamux liveness: what counts as a sign of life', () => {
  it('a ping that waits behind data does not start a clock: only silence does', () => {
    const s = new Side({ keepAliveInterval: 10_000, keepAliveTimeout: 60_000 })
    let pinged = 0
    let answer: number | undefined
    // The remote sends a window update every 500 ms for 5 minutes (a bulk upload),
    // and answers our pings along with it.
    for (let t = 500; t <= 300_000; t += 500) {
      s.runUntil(t, (o) => { pinged++; answer = o })
      s.recv(frame(WU, 0, 1, 1), t)
      if (answer !== undefined) s.recv(frame(Ping, Flag.ACK, 0, answer), t)
      answer = undefined
    }
    assert.equal(s.failedAt, undefined)
    // Only the RTT refreshes: one per RTT_REFRESH_INTERVALS intervals.
    assert.equal(pinged, Math.floor(300_000 / (RTT_REFRESH_INTERVALS * 10_000)))
  })

  it('an answer to a ping we did not send is not a sign of life', () => {
    const s = new Side({ keepAliveInterval: 1_000, keepAliveTimeout: 5_000 })
    let opaque = 0
    s.runUntil(1_000, (o) => { opaque = o })
    for (let t = 1_100; t < 10_000; t += 100) s.recv(frame(Ping, Flag.ACK, 0, (opaque + 1) >>> 0), t)
    assert.equal(s.failedAt, 5_000)
    assert.equal(s.failure, codes.ERR_KEEP_ALIVE_TIMEOUT)
  })

  it('the remote\'s own ping is a sign of life (and is answered)', () => {
    const s = new Side({ keepAliveInterval: 1_000, keepAliveTimeout: 5_000 })
    for (let t = 900; t < 20_000; t += 900) s.recv(frame(Ping, Flag.SYN, 0, t), t)
    s.runUntil(20_000)
    assert.equal(s.failedAt, undefined)
  })
})

/**
 * An idle connection whose path goes down at `down` for `outage` ms. The remote
 * answers each of our pings after `rtt`, except while the path is down; the first
 * frame after the heal arrives when TCP's back-off resends it: the segment was first
 * sent at `sentAt`, resent at sentAt + rto * (2^k - 1), and arrives rtt/2 later.
 */
function partition (options: YamuxOptions, down: number, outage: number, rto: number, rtt: number): Side {
  const s = new Side(options)
  const up = down + outage
  let inFlight: { sentAt: number, opaque: number } | undefined
  const arrival = (sentAt: number): number => {
    if (sentAt + rtt < down || sentAt >= up) return sentAt + rtt
    let k = 1
    while (sentAt + rto * (2 ** k - 1) < up) k++
    return sentAt + rto * (2 ** k - 1) + rtt / 2
  }
  let t = 0
  while (t < up + 200_000 && s.failedAt === undefined) {
    const next = s.session.nextTimeout() ?? Infinity
    const answerAt = inFlight === undefined ? Infinity : arrival(inFlight.sentAt)
    if (answerAt <= next) {
      s.recv(frame(Ping, Flag.ACK, 0, (inFlight as { opaque: number }).opaque), answerAt)
      inFlight = undefined
      t = answerAt
      continue
    }
    s.runUntil(next, (opaque, at) => { inFlight = { sentAt: at, opaque } })
    t = next
  }
  return s
}

describe('yamux liveness: the documented bounds', () => {
  it('defaults: 10 s interval, 60 s silence bound, 23 s healed partition, 15 s stale', () => {
    assert.equal(DEFAULTS.keepAliveInterval, 10_000)
    assert.equal(DEFAULTS.keepAliveTimeout, 60_000)
    assert.equal(healedPartitionBound(DEFAULTS), 23_000)
    assert.equal(detectionBound(DEFAULTS), 60_000)
    assert.equal(resolveOptions().staleAfter, 10_000 + STALE_ALLOWANCE)
    assert.equal(resolveOptions({ keepAliveInterval: 2_000 }).staleAfter, 2_000 + STALE_ALLOWANCE)
    assert.equal(healedPartitionBound({ keepAliveInterval: 0, keepAliveTimeout: 1 }), Infinity)
  })

  it('jitter shortens the ping interval by up to 10%, never lengthens it', () => {
    for (const [jitter, at] of [[0, 10_000], [0.5, 9_500], [0.999, 9_001], [7, 9_000], [-1, 10_000]] as const) {
      const s = new YamuxSession('outbound', resolveOptions(), { onInboundStream () {}, onOutput () {}, onStreamRemoved () {}, onRemoteGoAway () {}, onFailure () {} }, 0, jitter)
      assert.equal(s.nextTimeout(), at, `jitter ${jitter}`)
    }
  })

  it('rejects a silence bound that does not exceed the interval', () => {
    assert.throws(() => resolveOptions({ keepAliveInterval: 10_000, keepAliveTimeout: 10_000 }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.doesNotThrow(() => resolveOptions({ keepAliveInterval: 0, keepAliveTimeout: 0 }))
  })

  it('a partition shorter than healedPartitionBound heals at every phase of the ping cycle (TCP back-off model)', () => {
    const bound = healedPartitionBound(DEFAULTS)
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 100_000 }), // when the path goes down
      fc.integer({ min: 1, max: bound - 1 }), // for how long
      fc.integer({ min: 200, max: TCP_RECOVERY_ALLOWANCE - 1_000 }), // TCP's first RTO
      fc.integer({ min: 1, max: 1_000 }), // RTT
      (down, outage, rto, rtt) => {
        const s = partition({}, down, outage, rto, rtt)
        assert.equal(s.failedAt, undefined, `down at ${down} for ${outage}, rto ${rto}, rtt ${rtt}: failed at ${s.failedAt}`)
      }
    ), { numRuns: 300 })
  })

  it('a path that stays down is detected within detectionBound of going down', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 500 }), (down, rtt) => {
      const s = partition({}, down, 10_000_000, 200, rtt)
      assert.equal(s.failure, codes.ERR_KEEP_ALIVE_TIMEOUT)
      const after = (s.failedAt as number) - down
      assert.ok(after <= detectionBound(DEFAULTS), `detected ${after} ms after the path went down`)
      assert.ok(after >= detectionBound(DEFAULTS) - DEFAULTS.keepAliveInterval - rtt, `detected too early: ${after}`)
    }), { numRuns: 200 })
  })

  it('a 21 s silence bound loses a 20 s partition that begins 2 s before a ping; the default 60 s bound survives it', () => {
    // The partition begins 2 s before the ping; TCP then needs 7-25 s after the heal.
    assert.ok(partition({ keepAliveInterval: 10_000, keepAliveTimeout: 21_000 }, 8_000, 20_000, 1_000, 20).failedAt !== undefined)
    assert.equal(partition({}, 8_000, 20_000, 1_000, 20).failedAt, undefined)
  })
})

describe('yamux liveness: stale connections and probes', () => {
  it('is stale after staleAfter of silence; a probe pings once and any frame ends it', () => {
    const s = new Side({ keepAliveInterval: 10_000, staleAfter: 3_000 })
    assert.equal(s.session.stale(2_999), false)
    assert.equal(s.session.stale(3_000), true)
    s.now = 3_000
    s.session.probe(3_000)
    s.session.probe(3_001)
    assert.equal(s.pings().length, 1, 'one ping for two probes')
    s.recv(frame(WU, 0, 7, 0), 3_050)
    assert.equal(s.session.lastReceiveAt, 3_050)
    assert.equal(s.session.stale(3_100), false)
  })

  it('staleAfter 0 makes every new stream probe; no keep-alive means no probe by default', () => {
    const always = new Side({ staleAfter: 0 })
    assert.equal(always.session.stale(0), true)
    const off = new Side({ keepAliveInterval: 0 })
    assert.equal(off.session.stale(1e12), false)
  })
})
