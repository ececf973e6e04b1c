/**
 * The pure mplex session, driven directly: messages in, messages and stream events out.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeFrame, Flag, FrameDecoder } from '../../../src/muxer/mplex/frame.js'
import { MplexSession, type SessionHandler } from '../../../src/muxer/mplex/session.js'
import type { StreamState, StreamSink } from '../../../src/muxer/mplex/stream-state.js'
import { MAX_QUEUED_CONTROL_FRAMES, MAX_QUEUED_DATA, resolveOptions, type MplexOptions } from '../../../src/muxer/mplex/config.js'
import { WriteQueue } from '../../../src/muxer/write-queue.js'
import { codes } from '../../../src/errors.js'
import { split } from '../../helpers/chunks.js'

const KiB = 1024
const { NewStream, MessageReceiver: MsgR, MessageInitiator: MsgI, CloseReceiver: CloseR, CloseInitiator: CloseI, ResetReceiver: ResetR, ResetInitiator: ResetI } = Flag

const msg = (flag: number, id: number, body: Uint8Array | string = new Uint8Array(0)): Uint8Array =>
  encodeFrame(flag, id, typeof body === 'string' ? new TextEncoder().encode(body) : body)
const bytes = (n: number, fill = 0x61): Uint8Array => new Uint8Array(n).fill(fill)

interface Out { flag: number, id: number, body: string }

/** A session and a record of everything it did; `ours:N` / `theirs:N` name streams. */
class Harness {
  readonly events: string[] = []
  readonly session: MplexSession
  readonly received = new Map<string, number[]>()
  readonly inbound = new Map<number, StreamState>()
  readonly queues = new Map<StreamState, WriteQueue>()
  unblocked = 0
  /** Consume delivered data at once (a flowing reader). */
  consumeAtOnce = true

  constructor (options: MplexOptions = {}) {
    const handler: SessionHandler = {
      onInboundStream: (s) => {
        this.events.push(`inbound ${s.id} "${s.name}"`)
        this.inbound.set(s.id, s)
        s.sink = this.sink(() => s)
      },
      onOutput: () => {},
      onStreamRemoved: (s) => { this.events.push(`removed ${key(s)}`) },
      onInputUnblocked: () => { this.unblocked++ },
      onFailure: (err) => { this.events.push(`failure ${(err as { code: string }).code}`) }
    }
    this.session = new MplexSession(resolveOptions(options), handler)
  }

  sink (get: () => StreamState | undefined): StreamSink {
    return {
      onData: (d) => {
        const s = get() as StreamState
        const list = this.received.get(key(s)) ?? []
        list.push(...d)
        this.received.set(key(s), list)
        if (this.consumeAtOnce) this.session.consumed(s, d.byteLength)
      },
      onRemoteEnd: () => { this.events.push(`end ${key(get() as StreamState)}`) },
      onReset: (err) => { this.events.push(`reset ${key(get() as StreamState)} ${(err as { code?: string }).code ?? err.message}`) },
      onWritable: () => { this.events.push(`writable ${key(get() as StreamState)}`) }
    }
  }

  open (): StreamState {
    let s: StreamState | undefined
    s = this.session.openStream(this.sink(() => s))
    return s
  }

  write (s: StreamState, n: number): boolean {
    let q = this.queues.get(s)
    if (q === undefined) this.queues.set(s, q = new WriteQueue())
    if (n > 0) q.push(bytes(n))
    return this.session.write(s, q)
  }

  recv (...messages: Uint8Array[]): void {
    this.session.receive(Buffer.concat(messages))
  }

  got (k: string): number {
    return this.received.get(k)?.length ?? 0
  }

  /** Takes the output (as the driver would), decoded. */
  out (): Out[] {
    const chunks = this.session.takeOutput()
    if (chunks === undefined) return []
    const d = new FrameDecoder(1 << 30)
    d.push(Buffer.concat(chunks))
    const out: Out[] = []
    for (let ev = d.next(); ev !== undefined; ev = d.next()) {
      if (ev instanceof Uint8Array) (out[out.length - 1] as Out).body += Buffer.from(ev).toString('latin1')
      else out.push({ flag: ev.flag, id: ev.streamId, body: '' })
    }
    return out
  }

  /** Output without bodies, as `flag:id` strings. */
  outShort (): string[] {
    return this.out().map((o) => `${o.flag}:${o.id}`)
  }

  take (): string[] {
    return this.events.splice(0)
  }
}

const key = (s: StreamState): string => `${s.initiator ? 'ours' : 'theirs'}:${s.id}`

describe('mplex session: streams', () => {
  it('opens streams with ids from 0, named in decimal, and sends with the Initiator flags', () => {
    const h = new Harness()
    const a = h.open()
    const b = h.open()
    assert.deepEqual([a.id, b.id], [0, 1])
    assert.ok(h.write(a, 3))
    h.session.closeWrite(a)
    h.session.reset(b)
    assert.deepEqual(h.out(), [
      { flag: NewStream, id: 0, body: '0' },
      { flag: NewStream, id: 1, body: '1' },
      { flag: MsgI, id: 0, body: 'aaa' },
      { flag: CloseI, id: 0, body: '' },
      { flag: ResetI, id: 1, body: '' }
    ])
    assert.deepEqual(h.take(), ['removed ours:1'])
    assert.equal(h.session.streamCount, 1)
  })

  it('accepts the remote\'s streams with their name and answers with the Receiver flags', () => {
    const h = new Harness()
    h.recv(msg(NewStream, 7, 'seven'), msg(MsgI, 7, 'hello'))
    assert.deepEqual(h.take(), ['inbound 7 "seven"'])
    assert.equal(Buffer.from(h.received.get('theirs:7') ?? []).toString(), 'hello')
    const s = h.inbound.get(7) as StreamState
    h.write(s, 2)
    h.session.closeWrite(s)
    assert.deepEqual(h.outShort(), [`${MsgR}:7`, `${CloseR}:7`])
    h.recv(msg(ResetI, 7))
    assert.deepEqual(h.take(), ['removed theirs:7', 'reset theirs:7 ERR_STREAM_RESET'])
  })

  it('keeps the same id apart when both sides opened it: the flag says whose', () => {
    const h = new Harness()
    h.open() // ours:0
    h.recv(msg(NewStream, 0, ''))
    h.out()
    // Receiver flags concern our stream 0, Initiator flags theirs.
    h.recv(msg(MsgR, 0, 'to ours'), msg(MsgI, 0, 'to theirs!'))
    assert.equal(h.got('ours:0'), 7)
    assert.equal(h.got('theirs:0'), 10)
    h.recv(msg(CloseR, 0))
    h.recv(msg(ResetI, 0))
    assert.deepEqual(h.take(), ['inbound 0 ""', 'end ours:0', 'removed theirs:0', 'reset theirs:0 ERR_STREAM_RESET'])
    assert.equal(h.session.streamCount, 1)
  })

  it('half-closes: the remote\'s Close ends reading, writing goes on; both Closes remove the stream', () => {
    const h = new Harness()
    const s = h.open()
    h.recv(msg(CloseR, 0))
    assert.deepEqual(h.take(), ['end ours:0'])
    // Data after the remote's own Close is dropped (go-mplex, rust-libp2p), and the
    // stream stays writable; a repeated Close changes nothing.
    h.recv(msg(MsgR, 0, 'late'), msg(CloseR, 0))
    assert.equal(h.got('ours:0'), 0)
    assert.deepEqual(h.take(), [])
    h.out()
    assert.ok(h.write(s, 5))
    h.session.closeWrite(s)
    assert.deepEqual(h.outShort(), [`${MsgI}:0`, `${CloseI}:0`])
    assert.deepEqual(h.take(), ['removed ours:0'])
    // Our Close first, then theirs.
    const t = h.open()
    h.session.closeWrite(t)
    h.recv(msg(MsgR, 1, 'still reading'))
    assert.equal(h.got('ours:1'), 13)
    h.recv(msg(CloseR, 1))
    assert.deepEqual(h.take(), ['removed ours:1', 'end ours:1'])
  })

  it('release: a graceful owner completes a remote-closed stream with Close, else resets', () => {
    const h = new Harness()
    const a = h.open()
    const b = h.open()
    const c = h.open()
    h.recv(msg(CloseR, 0))
    h.out()
    h.take()
    h.session.release(a, true)
    h.session.release(b, true) // the remote may still send and nobody reads: reset
    h.session.release(c, false)
    assert.deepEqual(h.outShort(), [`${CloseI}:0`, `${ResetI}:1`, `${ResetI}:2`])
    h.session.release(c, false) // already gone: nothing
    assert.deepEqual(h.out(), [])
  })

  it('ignores messages for streams it does not know (the race after a reset), skipping their bodies', () => {
    const h = new Harness()
    const s = h.open()
    h.session.reset(s)
    h.out()
    h.take()
    // Split byte by byte, a large body for the reset stream, then others never opened.
    const input = Buffer.concat([msg(MsgR, 0, bytes(3000)), msg(CloseR, 0), msg(ResetR, 0), msg(MsgI, 42, 'x'), msg(CloseI, 9), msg(ResetI, 5), msg(MsgR, 77, 'y')])
    for (const b of input) h.session.receive(Uint8Array.of(b))
    assert.deepEqual(h.take(), [])
    assert.deepEqual(h.out(), [])
    assert.equal(h.session.pendingInput, 0)
    assert.equal(h.session.state.kind, 'open')
  })

  it('skips a body on Close or Reset (the spec says empty)', () => {
    const h = new Harness()
    h.recv(msg(NewStream, 1), msg(CloseI, 1, 'junk'), msg(MsgI, 1, 'after close'))
    assert.deepEqual(h.take(), ['inbound 1 ""', 'end theirs:1'])
    assert.equal(h.got('theirs:1'), 0)
  })

  it('fails the session on NewStream for one of their ids that is open; reuse after it closed is allowed', () => {
    const h = new Harness()
    h.recv(msg(NewStream, 3), msg(ResetI, 3), msg(NewStream, 3, 'again'))
    assert.deepEqual(h.take(), ['inbound 3 ""', 'removed theirs:3', 'reset theirs:3 ERR_STREAM_RESET', 'inbound 3 "again"'])
    const ours = h.open()
    h.recv(msg(NewStream, 3))
    assert.equal(h.session.state.kind, 'closed')
    const events = h.take()
    assert.ok(events.includes('failure ERR_MUXER_PROTOCOL'), events.join())
    assert.ok(events.includes('reset theirs:3 ERR_MUXER_PROTOCOL'))
    assert.ok(events.includes(`reset ours:${ours.id} ERR_MUXER_PROTOCOL`))
    // Final: later input is ignored.
    h.recv(msg(NewStream, 9))
    assert.deepEqual(h.take(), [])
  })

  it('answers NewStream beyond maxInboundStreams with a Reset and keeps no state for it', () => {
    const h = new Harness({ maxInboundStreams: 2 })
    const flood: Uint8Array[] = []
    for (let id = 0; id < 100; id++) flood.push(msg(NewStream, id, 'x'.repeat(id)))
    h.recv(...flood)
    assert.equal(h.session.streamCount, 2)
    const out = h.outShort()
    assert.equal(out.length, 98)
    assert.ok(out.every((o, i) => o === `${ResetR}:${i + 2}`))
    // Data for the refused ones is ignored; a slot that frees is usable again.
    h.recv(msg(MsgI, 50, 'x'), msg(CloseI, 0))
    h.session.closeWrite(h.inbound.get(0) as StreamState)
    h.recv(msg(NewStream, 100))
    assert.equal(h.session.streamCount, 2)
    assert.ok(h.take().includes('inbound 100 ""'))
  })

  it('keeps at most 256 bytes of a NewStream name, without buffering the rest', () => {
    const h = new Harness()
    const name = 'n'.repeat(5000)
    const m = msg(NewStream, 1, name)
    for (const part of split(m, [10, 300, 301, 4000])) h.session.receive(part)
    assert.deepEqual(h.take(), [`inbound 1 "${'n'.repeat(256)}"`])
  })

  it('refuses new streams both ways once closing, and lets open ones finish', () => {
    const h = new Harness()
    const s = h.open()
    h.session.beginClose()
    assert.throws(() => h.open(), (e: unknown) => (e as { code?: string }).code === codes.ERR_MUXER_CLOSED)
    h.recv(msg(NewStream, 0))
    assert.deepEqual(h.outShort(), [`${NewStream}:0`, `${ResetR}:0`])
    assert.ok(h.write(s, 10))
    h.recv(msg(MsgR, 0, 'ok'))
    assert.equal(h.got('ours:0'), 2)
  })

  it('throws ERR_TOO_MANY_STREAMS at maxOutboundStreams', () => {
    const h = new Harness({ maxOutboundStreams: 2 })
    const a = h.open()
    h.open()
    assert.throws(() => h.open(), (e: unknown) => (e as { code?: string }).code === codes.ERR_TOO_MANY_STREAMS)
    h.session.reset(a)
    assert.equal(h.open().id, 2, 'ids are never reused')
  })

  it('terminate resets every stream with the error and is final', () => {
    const h = new Harness()
    h.open()
    h.recv(msg(NewStream, 0))
    const boom = new Error('boom')
    h.session.terminate(boom)
    const events = h.take()
    assert.ok(events.includes('reset ours:0 boom') && events.includes('reset theirs:0 boom'), events.join())
    assert.equal(h.session.streamCount, 0)
    assert.throws(() => h.open(), (e: unknown) => (e as { code?: string }).code === codes.ERR_MUXER_CLOSED)
  })
})

describe('mplex session: sending', () => {
  it('splits writes into messages of at most sendMessageSize', () => {
    const h = new Harness({ sendMessageSize: 1000 })
    const s = h.open()
    h.out()
    assert.ok(h.write(s, 2500))
    assert.deepEqual(h.out().map((o) => o.body.length), [1000, 1000, 500])
  })

  it('makes writers wait once a flush holds MAX_QUEUED_DATA, and wakes them oldest first', () => {
    const h = new Harness()
    const a = h.open()
    const b = h.open()
    assert.equal(h.write(a, MAX_QUEUED_DATA + 10), false)
    assert.equal(h.write(b, 10), false)
    const dataBytes = (out: Out[]): number => out.reduce((n, o) => n + (o.flag === MsgI ? o.body.length : 0), 0)
    assert.equal(dataBytes(h.out()), MAX_QUEUED_DATA)
    h.session.flushed(true)
    assert.deepEqual(h.take(), ['writable ours:0', 'writable ours:1'])
    assert.ok(h.write(a, 0))
    assert.ok(h.write(b, 0))
    assert.equal(dataBytes(h.out()), 20)
  })

  it('holds every writer while the channel is backpressured, until it drains', () => {
    const h = new Harness()
    const a = h.open()
    h.out()
    h.session.flushed(false)
    assert.equal(h.session.blocked, true)
    assert.equal(h.write(a, 1), false)
    assert.deepEqual(h.out(), [])
    h.session.drained()
    assert.deepEqual(h.take(), ['writable ours:0'])
    assert.ok(h.write(a, 0))
    assert.equal(h.out().length, 1)
  })

  it('drops queued data of a stream that can no longer send', () => {
    const h = new Harness()
    const s = h.open()
    h.recv(msg(ResetR, 0))
    h.out()
    assert.ok(h.write(s, 100))
    assert.deepEqual(h.out(), [])
  })

  it('pauses input when the remote floods us with streams to refuse and does not read our answers', () => {
    const h = new Harness({ maxInboundStreams: 1 })
    h.session.flushed(false)
    const flood: Uint8Array[] = []
    for (let id = 0; id <= MAX_QUEUED_CONTROL_FRAMES; id++) flood.push(msg(NewStream, id))
    h.recv(...flood)
    assert.equal(h.session.queuedFrames, MAX_QUEUED_CONTROL_FRAMES)
    assert.equal(h.session.inputPaused, true)
    // Once the channel drains, the answers leave with the next flush.
    h.session.drained()
    assert.equal(h.session.inputPaused, false)
    assert.equal(h.out().length, MAX_QUEUED_CONTROL_FRAMES)
  })
})

describe('mplex session: a reader that falls behind', () => {
  it('reset-stream: delivers up to the limit, then resets the stream; the others keep flowing', () => {
    const h = new Harness({ maxStreamBufferSize: 10 * KiB })
    h.consumeAtOnce = false
    const slow = h.open()
    const other = h.open()
    h.out()
    h.recv(msg(MsgR, 0, bytes(6 * KiB)), msg(MsgR, 0, bytes(4 * KiB)))
    assert.equal(h.got('ours:0'), 10 * KiB, 'exactly the limit')
    assert.deepEqual(h.take(), [])
    h.session.consumed(slow, 2)
    h.recv(msg(MsgR, 0, bytes(1)))
    assert.equal(h.got('ours:0'), 10 * KiB + 1, 'consumption makes room')
    h.recv(msg(MsgR, 1, 'other'), msg(MsgR, 0, bytes(100)), msg(MsgR, 0, bytes(100)))
    assert.deepEqual(h.take(), ['removed ours:0', 'reset ours:0 ERR_STREAM_BUFFER_FULL'])
    assert.deepEqual(h.outShort(), [`${ResetI}:0`])
    assert.equal(h.got('ours:0'), 10 * KiB + 2, 'exactly the limit, then the reset')
    assert.equal(h.got('ours:1'), 5)
    assert.equal(h.session.inputPaused, false)
    assert.equal(h.session.streamCount, 1)
    void other
  })

  it('block: stops decoding at the limit, holds the rest, and resumes as the reader consumes', () => {
    const h = new Harness({ maxStreamBufferSize: 10 * KiB, streamBufferPolicy: 'block' })
    h.consumeAtOnce = false
    const slow = h.open()
    h.open()
    h.out()
    h.recv(msg(MsgR, 0, bytes(8 * KiB, 1)), msg(MsgR, 0, bytes(8 * KiB, 2)), msg(MsgR, 1, 'queued behind'))
    assert.equal(h.got('ours:0'), 10 * KiB, 'exactly the limit, part of the second message')
    assert.equal(h.got('ours:1'), 0, 'head-of-line blocking: the other stream waits')
    assert.equal(h.session.inputPaused, true)
    assert.ok(h.session.pendingInput <= 6 * KiB + 20)
    // More input while blocked is held, not decoded.
    h.recv(msg(MsgR, 1, '!'))
    assert.equal(h.got('ours:1'), 0)
    h.session.consumed(slow, 4 * KiB)
    assert.equal(h.unblocked, 1)
    h.session.resumeInput()
    assert.equal(h.got('ours:0'), 14 * KiB)
    assert.equal(h.session.inputPaused, true)
    h.session.consumed(slow, 10 * KiB)
    h.session.resumeInput()
    assert.equal(h.got('ours:0'), 16 * KiB)
    assert.equal(Buffer.from(h.received.get('ours:1') ?? []).toString(), 'queued behind!')
    assert.equal(h.session.inputPaused, false)
    assert.equal(h.session.pendingInput, 0)
    const got = h.received.get('ours:0') ?? []
    assert.ok(got.slice(0, 8 * KiB).every((b) => b === 1) && got.slice(8 * KiB).every((b) => b === 2), 'in order')
    assert.deepEqual(h.outShort(), [], 'nothing sent: no stream was reset')
  })

  it('block: resetting the stream we wait for skips its data and unblocks', () => {
    const h = new Harness({ maxStreamBufferSize: 1 * KiB, streamBufferPolicy: 'block' })
    h.consumeAtOnce = false
    const slow = h.open()
    h.open()
    h.recv(msg(MsgR, 0, bytes(5 * KiB)), msg(MsgR, 1, 'next'))
    assert.equal(h.session.inputPaused, true)
    h.session.reset(slow)
    assert.equal(h.unblocked, 1)
    h.session.resumeInput()
    assert.equal(h.got('ours:1'), 4)
    assert.equal(h.session.inputPaused, false)
  })

  it('delivers the same bytes and events however the input is split, under both policies (fast-check)', () => {
    const msgArb = fc.oneof(
      fc.record({ flag: fc.constantFrom(MsgR, MsgI), id: fc.integer({ min: 0, max: 3 }), n: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ flag: fc.constantFrom(NewStream, CloseR, CloseI, ResetR, ResetI), id: fc.integer({ min: 0, max: 3 }), n: fc.constant(0) })
    )
    fc.assert(fc.property(
      fc.array(msgArb, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 20 }), fc.constantFrom('reset-stream', 'block') as fc.Arbitrary<'reset-stream' | 'block'>, fc.boolean(),
      (messages, cuts, policy, consume) => {
        const input = Buffer.concat(messages.map((m, i) => msg(m.flag, m.id, bytes(m.n, i & 0xff))))
        const run = (chunks: Uint8Array[]): { paused: boolean, pending: number, events: string[], received: string[], out: string[] } => {
          const h = new Harness({ maxStreamBufferSize: 4 * KiB, streamBufferPolicy: policy, maxInboundStreams: 3 })
          h.consumeAtOnce = consume
          for (let i = 0; i < 3; i++) h.open()
          h.out()
          for (const c of chunks) h.session.receive(c)
          if (consume) assert.equal(h.session.inputPaused, false, 'a reader that consumes at once never blocks')
          return {
            paused: h.session.inputPaused,
            pending: h.session.pendingInput,
            events: h.events,
            received: [...h.received.entries()].map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`).sort(),
            out: h.outShort()
          }
        }
        assert.deepEqual(run(split(input, cuts)), run([input]))
      }), { numRuns: 150 })
  })

  it('never lets a reader hold more than the limit; block loses nothing and keeps order (fast-check)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ id: fc.integer({ min: 0, max: 2 }), n: fc.integer({ min: 1, max: 5000 }) }), { minLength: 1, maxLength: 30 }),
      fc.array(fc.integer({ min: 64, max: 3000 }), { minLength: 1, maxLength: 50 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (messages, reads, cuts) => {
        const limit = 4 * KiB
        const h = new Harness({ maxStreamBufferSize: limit, streamBufferPolicy: 'block' })
        h.consumeAtOnce = false
        const streams = [h.open(), h.open(), h.open()]
        h.out()
        const sent = new Map<string, number[]>()
        const input = Buffer.concat(messages.map((m, i) => {
          const body = bytes(m.n, i & 0xff)
          sent.set(`ours:${m.id}`, [...(sent.get(`ours:${m.id}`) ?? []), ...body])
          return msg(MsgR, m.id, body)
        }))
        for (const c of split(input, cuts)) h.session.receive(c)
        let turn = 0
        for (let guard = 0; guard < 10_000; guard++) {
          for (const s of streams) assert.ok(s.buffered <= limit, `buffered ${s.buffered}`)
          if (!h.session.inputPaused && h.session.pendingInput === 0) break
          const s = streams[turn++ % 3] as StreamState
          const n = Math.min(s.buffered, reads[turn % reads.length] as number)
          h.session.consumed(s, n)
          if (h.unblocked > 0) {
            h.unblocked = 0
            h.session.resumeInput()
          }
        }
        for (const [k, v] of sent) assert.deepEqual(h.received.get(k) ?? [], v, k)
      }), { numRuns: 100 })
  })
})
