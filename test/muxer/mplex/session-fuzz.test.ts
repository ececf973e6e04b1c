/**
 * The pure mplex session against arbitrary peers (fast-check): message sequences cut
 * at random points, with an application that randomly reads, writes, half-closes,
 * resets and opens streams, under both buffer policies.
 *
 * Whatever happens, the session never throws, and:
 * - everything it sends decodes, with a flag from 0 to 6;
 * - our NewStream ids count up from 0, never reused;
 * - nothing on a stream after our Reset, no data after our Close (until the peer
 *   reopens one of its ids);
 * - no reader ever holds more than `maxStreamBufferSize` unconsumed bytes;
 * - after a failure the session is closed, with no stream left.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeFrame, Flag, FrameDecoder, MAX_STREAM_ID } from '../../../src/muxer/mplex/frame.js'
import { MplexSession } from '../../../src/muxer/mplex/session.js'
import type { StreamState } from '../../../src/muxer/mplex/stream-state.js'
import { resolveOptions, type StreamBufferPolicy } from '../../../src/muxer/mplex/config.js'
import { WriteQueue } from '../../../src/muxer/write-queue.js'
import { split } from '../../helpers/chunks.js'

const KiB = 1024
const LIMIT = 4 * KiB

interface PeerMessage { flag: number, id: number, body: number }
interface AppAction { kind: 'read' | 'write' | 'end' | 'reset' | 'open', pick: number, n: number }
type Step = { peer: PeerMessage } | { app: AppAction }

const peerArb: fc.Arbitrary<PeerMessage> = fc.record({
  flag: fc.oneof(
    { weight: 40, arbitrary: fc.constantFrom(Flag.MessageInitiator, Flag.MessageReceiver) },
    { weight: 20, arbitrary: fc.integer({ min: 0, max: 6 }) },
    { weight: 1, arbitrary: fc.constant(7) }),
  id: fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constant(MAX_STREAM_ID) }),
  body: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: 6 * KiB }) }, { weight: 1, arbitrary: fc.constantFrom(20 * KiB, 2 * 1024 * KiB) })
})
const appArb: fc.Arbitrary<AppAction> = fc.record({
  kind: fc.constantFrom('read', 'read', 'write', 'end', 'reset', 'open'),
  pick: fc.nat(),
  n: fc.integer({ min: 1, max: 20 * KiB })
})
const scriptArb = fc.array(fc.oneof(peerArb.map((m): Step => ({ peer: m })), appArb.map((a): Step => ({ app: a }))), { minLength: 10, maxLength: 60 })
const policyArb = fc.constantFrom<StreamBufferPolicy>('reset-stream', 'block')

interface Stats { runs: number, survived: number, delivered: number, blocked: number, overflowed: number }

function run (script: Step[], cuts: number[], policy: StreamBufferPolicy, stats: Stats): void {
  stats.runs++
  const streams: StreamState[] = []
  let failed = false
  const session = new MplexSession(resolveOptions({ maxStreamBufferSize: LIMIT, streamBufferPolicy: policy, maxInboundStreams: 3, maxOutboundStreams: 3 }), {
    onInboundStream: (s) => {
      // The peer (re)opened one of its ids: what we sent on the old one is done.
      checkOutput()
      sentState.delete(`t:${s.id}`)
      streams.push(s)
      s.sink = sinkFor()
    },
    onOutput: () => {},
    onStreamRemoved: () => {},
    onInputUnblocked: () => { queueResume = true },
    onFailure: () => { failed = true }
  })
  let queueResume = false
  const sinkFor = (): StreamState['sink'] => ({
    onData (d) { stats.delivered += d.byteLength },
    onRemoteEnd () {},
    onReset (err) { if ((err as { code?: string }).code === 'ERR_STREAM_BUFFER_FULL') stats.overflowed++ },
    onWritable () {}
  })
  const queues = new Map<StreamState, WriteQueue>()

  // What we sent, per stream key ('o' ours, 't' theirs): 'closed' or 'reset'.
  const sentState = new Map<string, 'closed' | 'reset'>()
  let nextOurId = 0
  const decoder = new FrameDecoder(1 << 30)
  const checkOutput = (): void => {
    const out = session.takeOutput()
    if (out === undefined) return
    for (const chunk of out) decoder.push(chunk)
    for (let ev = decoder.next(); ev !== undefined; ev = decoder.next()) {
      if (ev instanceof Uint8Array) continue
      assert.ok(ev.flag <= 6)
      const ours = ev.flag === Flag.NewStream || (ev.flag & 1) === 0
      const key = `${ours ? 'o' : 't'}:${ev.streamId}`
      const state = sentState.get(key)
      if (ev.flag === Flag.NewStream) {
        assert.equal(ev.streamId, nextOurId++, 'our ids count up from 0')
        continue
      }
      if (ev.flag === Flag.ResetInitiator || ev.flag === Flag.ResetReceiver) {
        // A Reset may repeat: we refuse each NewStream the peer sends beyond the limit.
        sentState.set(key, 'reset')
        continue
      }
      assert.notEqual(state, 'reset', `${ev.flag} on ${key} after our Reset`)
      if (ev.flag === Flag.MessageInitiator || ev.flag === Flag.MessageReceiver) {
        assert.notEqual(state, 'closed', `data on ${key} after our Close`)
      } else {
        assert.equal(state, undefined, `a second Close on ${key}`)
        sentState.set(key, 'closed')
      }
    }
  }

  const input: Uint8Array[] = []
  const actions: AppAction[] = []
  for (const step of script) {
    if ('peer' in step) input.push(encodeFrame(step.peer.flag === 7 ? 6 : step.peer.flag, step.peer.id, new Uint8Array(step.peer.body)))
    else actions.push(step.app)
    if ('peer' in step && step.peer.flag === 7) {
      // Flag 7 cannot be encoded by encodeFrame: patch the header's low bits.
      const m = input[input.length - 1] as Uint8Array
      m[0] = ((m[0] as number) & 0xf8) | 7
    }
  }
  const chunks = split(Buffer.concat(input), cuts)
  const pick = <T>(list: T[], n: number): T | undefined => list.length === 0 ? undefined : list[n % list.length]
  const steps = Math.max(chunks.length, actions.length)
  for (let i = 0; i < steps; i++) {
    const chunk = chunks[i]
    if (chunk !== undefined) session.receive(chunk)
    const a = actions[i]
    const live = streams.filter((s) => s.live)
    if (a !== undefined) {
      const s = pick(live, a.pick)
      if (a.kind === 'open') {
        try {
          let st: StreamState | undefined
          st = session.openStream(sinkFor())
          streams.push(st)
        } catch (err) {
          assert.ok((err as { code?: string }).code === 'ERR_TOO_MANY_STREAMS' || (err as { code?: string }).code === 'ERR_MUXER_CLOSED')
        }
      } else if (s !== undefined) {
        if (a.kind === 'read') session.consumed(s, Math.min(a.n, s.buffered))
        else if (a.kind === 'write') {
          let q = queues.get(s)
          if (q === undefined) queues.set(s, q = new WriteQueue())
          q.push(new Uint8Array(a.n))
          session.write(s, q)
        } else if (a.kind === 'end') session.closeWrite(s)
        else session.reset(s)
      }
    }
    if (session.inputPaused) stats.blocked++
    if (queueResume) {
      queueResume = false
      session.resumeInput()
    }
    checkOutput()
    session.flushed(true)
    for (const s of streams) assert.ok(s.buffered <= LIMIT, `a reader holds ${s.buffered}`)
  }
  if (failed) {
    assert.equal(session.state.kind, 'closed')
    assert.equal(session.streamCount, 0)
  } else {
    stats.survived++
  }
  // Drain: a reader that now reads everything lets a blocked session finish its input.
  for (let guard = 0; guard < 1000 && session.state.kind !== 'closed' && session.pendingInput > 0; guard++) {
    for (const s of streams) if (s.live) session.consumed(s, s.buffered)
    if (queueResume) {
      queueResume = false
      session.resumeInput()
    }
    checkOutput()
  }
  if (session.state.kind !== 'closed') assert.equal(session.pendingInput, 0, 'all input processed once readers read')
}

describe('mplex session fuzz', () => {
  it('survives arbitrary peers and applications under both policies (fast-check)', () => {
    const stats: Stats = { runs: 0, survived: 0, delivered: 0, blocked: 0, overflowed: 0 }
    fc.assert(fc.property(scriptArb, fc.array(fc.nat(), { maxLength: 12 }), policyArb, (script, cuts, policy) => {
      run(script, cuts, policy, stats)
    }), { numRuns: 300 })
    // Not vacuous: many sessions lived through their script, data flowed, and both
    // policies were exercised.
    assert.ok(stats.survived >= stats.runs / 4, `only ${stats.survived} of ${stats.runs} sessions survived`)
    assert.ok(stats.delivered > 0 && stats.blocked > 0 && stats.overflowed > 0, JSON.stringify(stats))
  })
})
