/**
 * The pure session against arbitrary peers (fast-check): frame sequences cut at random
 * points, with an application that randomly reads, writes, half-closes, resets and
 * opens streams, and time that passes. Two peers: a hostile one (frames as generated,
 * valid or not) for robustness, and a plausible one (a SYN only for a stream it has not
 * opened, Data within the credit we granted) that keeps long sessions alive for depth.
 *
 * Whatever happens, the session never throws, and what it sends respects the protocol:
 * - every frame decodes (version 0, a known type);
 * - Data on a stream never exceeds the window the peer granted (256 KiB + its updates);
 * - no Window Update with credit after the peer's FIN or RST on that stream;
 * - nothing at all on a stream after our RST, and nothing after our GoAway;
 * - after a failure the session is closed and its last frame, if any, is GoAway.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeHeader, Flag, FrameDecoder, FrameType, type FrameHeader } from '../../../src/muxer/yamux/frame.js'
import { YamuxSession } from '../../../src/muxer/yamux/session.js'
import type { StreamState } from '../../../src/muxer/yamux/stream-state.js'
import { resolveOptions } from '../../../src/muxer/yamux/config.js'
import { WriteQueue } from '../../../src/muxer/write-queue.js'
import { split } from '../../helpers/chunks.js'

const KiB = 1024

/** `id` >= 0: the id-th stream of the peer's parity (ours when `ours`); -1, -2: ids 0 and 2^32-1. */
interface PeerFrame { type: number, flags: number, id: number, ours: boolean, length: number, payload: number }
interface AppAction { kind: 'read' | 'write' | 'end' | 'reset' | 'open' | 'tick', pick: number, n: number }
type Step = { peer: PeerFrame } | { app: AppAction }
interface Stats { runs: number, survived: number, deep: number }

const peerFrameArb: fc.Arbitrary<PeerFrame> = fc.record({
  type: fc.oneof({ weight: 60, arbitrary: fc.constantFrom(0, 1) }, { weight: 4, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constant(3) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  flags: fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(0, 0, 0, Flag.SYN, Flag.ACK, Flag.FIN, Flag.RST, Flag.SYN | Flag.FIN, Flag.ACK | Flag.FIN) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
  id: fc.oneof({ weight: 40, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, -2) }),
  ours: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  length: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: 70 * KiB }) }, { weight: 1, arbitrary: fc.constantFrom(256 * KiB, 0xffffffff) }),
  payload: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: 70 * KiB }) }, { weight: 1, arbitrary: fc.constant(300 * KiB) })
})
const appArb: fc.Arbitrary<AppAction> = fc.record({
  kind: fc.constantFrom('read', 'read', 'write', 'write', 'end', 'reset', 'open', 'tick'),
  pick: fc.nat(),
  n: fc.integer({ min: 1, max: 100 * KiB })
})
const scriptArb = fc.array(fc.oneof(peerFrameArb.map((f): Step => ({ peer: f })), appArb.map((a): Step => ({ app: a }))), { minLength: 20, maxLength: 80 })
const directionArb = fc.constantFrom<'inbound' | 'outbound'>('inbound', 'outbound')
const cutsArb = fc.array(fc.nat(), { maxLength: 8 })

function encodePeer (f: PeerFrame): Uint8Array {
  const h = encodeHeader({ type: (f.type & 0xff) as FrameHeader['type'], flags: f.flags, streamId: f.id, length: f.type === 0 ? f.payload : f.length })
  return f.type === 0 ? Buffer.concat([h, new Uint8Array(f.payload)]) : h
}

function run (direction: 'inbound' | 'outbound', script: Step[], cuts: number[], plausible: boolean, stats: Stats): void {
  let now = 0
  let failed = false
  const streams: StreamState[] = []
  const buffered = new Map<number, number>()
  const sinkFor = (id: () => number): StreamState['sink'] => ({
    onData: (d) => { buffered.set(id(), (buffered.get(id()) ?? 0) + d.byteLength) },
    onRemoteEnd: () => {},
    onReset: () => {},
    onWritable: () => {}
  })
  const session = new YamuxSession(direction, resolveOptions({ maxInboundStreams: 6, maxUnackedInboundStreams: 4, keepAliveInterval: 1000, keepAliveTimeout: 2000 }), {
    onInboundStream: (s) => { s.sink = sinkFor(() => s.id); streams.push(s) },
    onOutput: () => {},
    onStreamRemoved: () => {},
    onRemoteGoAway: () => {},
    onFailure: () => { failed = true }
  }, now)

  // Our output, checked against what the peer allowed.
  const granted = new Map<number, number>() // by the peer's window updates
  const sentData = new Map<number, number>()
  const peerDone = new Set<number>() // the peer sent FIN or RST
  const weReset = new Set<number>()
  let goAwaySent = false
  let movedData = false
  // The plausible peer's own view: credit we granted it, what it sent.
  const ourGrants = new Map<number, number>()
  const peerSent = new Map<number, number>()
  const decoder = new FrameDecoder({ maxDataLength: 1 << 30 })

  const check = (): void => {
    const out = session.takeOutput(now)
    session.flushed(true)
    if (out === undefined) return
    for (const c of out) decoder.push(c)
    let lastType: number | undefined
    for (let ev = decoder.next(); ev !== undefined; ev = decoder.next()) {
      if (ev instanceof Uint8Array) continue
      assert.ok(!goAwaySent, 'nothing after our GoAway')
      const id = ev.streamId
      if (id !== 0) assert.ok(!weReset.has(id), `stream ${id}: a frame after our RST`)
      if (ev.type === FrameType.Data) {
        sentData.set(id, (sentData.get(id) ?? 0) + ev.length)
        if (ev.length > 0) movedData = true
        assert.ok((sentData.get(id) ?? 0) <= 256 * KiB + (granted.get(id) ?? 0), `stream ${id}: data beyond the window`)
      }
      if (ev.type === FrameType.WindowUpdate && ev.length > 0 && (ev.flags & Flag.RST) === 0) {
        assert.ok(!peerDone.has(id), `stream ${id}: window update after the peer's FIN/RST`)
        ourGrants.set(id, (ourGrants.get(id) ?? 0) + ev.length)
      }
      if ((ev.flags & Flag.RST) !== 0 && id !== 0) weReset.add(id)
      if (ev.type === FrameType.GoAway) goAwaySent = true
      if (ev.type === FrameType.Ping && (ev.flags & Flag.SYN) !== 0) pings.push(ev.length)
      lastType = ev.type
    }
    if (failed && goAwaySent) assert.equal(lastType, FrameType.GoAway)
    // The plausible peer answers our pings (keep-alive, RTT probe).
    if (plausible) for (const opaque of pings.splice(0)) session.receive(encodeHeader({ type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: opaque }), now)
  }
  const pings: number[] = []

  const peerParity = direction === 'inbound' ? 1 : 0
  const queues = new Map<number, WriteQueue>()
  for (const step of script) {
    if ('peer' in step) {
      const f = { ...step.peer }
      if (f.type === 2 || f.type === 3) f.id = f.id === -2 ? 5 : 0 // session frames on stream 0 (rarely not)
      else f.id = f.id === -1 ? 0 : f.id === -2 ? 0xffffffff : 2 * f.id + (f.ours ? 1 - peerParity : peerParity) + (peerParity === 0 && !f.ours ? 2 : 0)
      const wasLive = streams.some((x) => x.id === f.id && x.live)
      if (plausible) {
        if (f.type > 1 || f.id === 0 || f.id === 0xffffffff) Object.assign(f, { type: 2, id: 0, flags: Flag.SYN })
        const mine = (f.id % 2 === 1) !== (peerParity === 1)
        if (f.type <= 1) {
          if (mine || wasLive || peerSent.has(f.id)) f.flags &= ~Flag.SYN
          else f.flags |= Flag.SYN
          if (mine && !streams.some((x) => x.id === f.id)) f.id = 2 * 7 + peerParity + (peerParity === 0 ? 2 : 0) // unknown stream, harmless
          if (f.type === 0) {
            const credit = 256 * KiB + (ourGrants.get(f.id) ?? 0) - (peerSent.get(f.id) ?? 0)
            f.payload = Math.max(0, Math.min(f.payload, credit))
            if (peerDone.has(f.id)) f.payload = 0
          }
          if ((f.flags & Flag.SYN) !== 0) peerSent.set(f.id, 0)
          if (f.type === 0) peerSent.set(f.id, (peerSent.get(f.id) ?? 0) + f.payload)
        }
      }
      check() // what was sent before this frame belongs to the id's previous life
      for (const part of split(encodePeer(f), cuts)) session.receive(part, now)
      if ((f.type === 0 || f.type === 1) && f.id !== 0) {
        if ((f.flags & Flag.SYN) !== 0 && !wasLive) {
          // A SYN for an id that is not open starts a new stream with that id
          // (finished ids are not remembered): a new life for our bookkeeping.
          weReset.delete(f.id)
          peerDone.delete(f.id)
          granted.delete(f.id)
          sentData.delete(f.id)
          ourGrants.delete(f.id)
        }
        if ((f.flags & (Flag.RST | Flag.FIN)) !== 0) peerDone.add(f.id)
        if (f.type === 1 && (f.flags & Flag.RST) === 0) granted.set(f.id, (granted.get(f.id) ?? 0) + f.length)
      }
    } else {
      const a = step.app
      const live = streams.filter((s) => s.live)
      const s = live.length > 0 ? live[a.pick % live.length] : undefined
      switch (a.kind) {
        case 'open': {
          try {
            const opened: StreamState = session.openStream(sinkFor(() => opened.id), now)
            streams.push(opened)
          } catch {}
          break
        }
        case 'read':
          if (s !== undefined) {
            const n = Math.min(a.n, buffered.get(s.id) ?? 0)
            buffered.set(s.id, (buffered.get(s.id) ?? 0) - n)
            session.consumed(s, n)
          }
          break
        case 'write':
          if (s !== undefined && s.localSending) {
            let q = queues.get(s.id)
            if (q === undefined) queues.set(s.id, q = new WriteQueue())
            q.push(new Uint8Array(a.n))
            session.write(s, q)
          }
          break
        case 'end':
          if (s !== undefined) session.closeWrite(s)
          break
        case 'reset':
          if (s !== undefined) session.reset(s)
          break
        case 'tick':
          now += a.n % 2000
          session.handleTimeout(now)
          break
      }
    }
    check()
  }
  check()
  if (failed) assert.equal(session.state.kind, 'closed')
  stats.runs++
  if (!failed) stats.survived++
  if (!failed && movedData && [...buffered.values()].some((n) => n > 0)) stats.deep++
}

describe('yamux session: fuzzed peers', () => {
  it('a hostile peer: never throws, never breaks the protocol on what it sends (property)', () => {
    const stats = { runs: 0, survived: 0, deep: 0 }
    fc.assert(fc.property(directionArb, scriptArb, cutsArb, (direction, script, cuts) => {
      run(direction, script, cuts, false, stats)
    }), { numRuns: 300 })
  })

  it('a plausible peer: long sessions keep every invariant (property)', () => {
    const stats = { runs: 0, survived: 0, deep: 0 }
    fc.assert(fc.property(directionArb, scriptArb, cutsArb, (direction, script, cuts) => {
      run(direction, script, cuts, true, stats)
    }), { numRuns: 300 })
    // The generator must keep reaching deep states, or the property proves little.
    assert.ok(stats.survived > stats.runs * 0.9, `only ${stats.survived}/${stats.runs} sessions survived a plausible peer`)
    assert.ok(stats.deep > stats.runs * 0.5, `only ${stats.deep}/${stats.runs} runs moved data both ways`)
  })
})
