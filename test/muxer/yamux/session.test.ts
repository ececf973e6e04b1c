/**
 * The pure yamux session, driven directly: frames in, frames out, time passed in.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeHeader, Flag, FrameDecoder, FrameType, GoAwayCode, type FrameHeader } from '../../../src/muxer/yamux/frame.js'
import { YamuxSession, type SessionHandler } from '../../../src/muxer/yamux/session.js'
import type { StreamState } from '../../../src/muxer/yamux/stream-state.js'
import { resolveOptions, type YamuxOptions } from '../../../src/muxer/yamux/config.js'
import { WriteQueue } from '../../../src/muxer/write-queue.js'
import { codes } from '../../../src/errors.js'
import type { Direction } from '../../../src/interfaces/muxer.js'

const KiB = 1024
const { Data, WindowUpdate: WU, Ping, GoAway } = FrameType
const { SYN, ACK, FIN, RST } = Flag

interface OutFrame { type: number, flags: number, id: number, length: number, payload?: number }

function frame (type: number, flags: number, id: number, length: number, payload?: Uint8Array): Uint8Array {
  const h = encodeHeader({ type: type as FrameHeader['type'], flags, streamId: id, length })
  return payload === undefined ? h : Buffer.concat([h, payload])
}
const data = (flags: number, id: number, n: number): Uint8Array => frame(Data, flags, id, n, new Uint8Array(n).fill(0x61))

class Harness {
  now = 0
  readonly events: string[] = []
  readonly session: YamuxSession
  readonly queues = new Map<number, WriteQueue>()
  readonly received = new Map<number, number>()

  constructor (direction: Direction, options: YamuxOptions = {}) {
    const handler: SessionHandler = {
      onInboundStream: (s) => {
        this.events.push(`inbound ${s.id}`)
        s.sink = this.sink(s.id)
      },
      onOutput: () => {},
      onStreamRemoved: (s) => { this.events.push(`removed ${s.id}`) },
      onRemoteGoAway: () => { this.events.push('goaway') },
      onFailure: (err) => { this.events.push(`failure ${(err as { code: string }).code}`) }
    }
    this.session = new YamuxSession(direction, resolveOptions(options), handler, this.now)
  }

  sink (id: number): StreamState['sink'] {
    return {
      onData: (d) => { this.received.set(id, (this.received.get(id) ?? 0) + d.byteLength) },
      onRemoteEnd: () => { this.events.push(`end ${id}`) },
      onReset: (err) => { this.events.push(`reset ${id} ${(err as { code?: string }).code ?? err.message}`) },
      onWritable: () => { this.events.push(`writable ${id}`) }
    }
  }

  open (): StreamState {
    let s: StreamState | undefined
    const sink = {
      onData: (d: Uint8Array) => { this.received.set(s?.id ?? 0, (this.received.get(s?.id ?? 0) ?? 0) + d.byteLength) },
      onRemoteEnd: () => { this.events.push(`end ${s?.id}`) },
      onReset: (err: Error) => { this.events.push(`reset ${s?.id} ${(err as { code?: string }).code}`) },
      onWritable: () => { this.events.push(`writable ${s?.id}`) }
    }
    s = this.session.openStream(sink, this.now)
    return s
  }

  write (s: StreamState, n: number): boolean {
    let q = this.queues.get(s.id)
    if (q === undefined) this.queues.set(s.id, q = new WriteQueue())
    if (n > 0) q.push(new Uint8Array(n))
    return this.session.write(s, q)
  }

  recv (...frames: Uint8Array[]): void {
    this.session.receive(Buffer.concat(frames), this.now)
  }

  /** Takes the output (as the driver would), decoded; `pings: false` drops Ping frames. */
  out (pings = true): OutFrame[] {
    const chunks = this.session.takeOutput(this.now)
    if (chunks === undefined) return []
    this.session.flushed(true)
    const d = new FrameDecoder({ maxDataLength: 1 << 30 })
    const frames: OutFrame[] = []
    for (const c of chunks) {
      d.push(c)
      for (let ev = d.next(); ev !== undefined; ev = d.next()) {
        if (ev instanceof Uint8Array) {
          const last = frames[frames.length - 1] as OutFrame
          last.payload = (last.payload ?? 0) + ev.byteLength
        } else {
          frames.push({ type: ev.type, flags: ev.flags, id: ev.streamId, length: ev.length })
        }
      }
    }
    return pings ? frames : frames.filter((f) => f.type !== Ping)
  }

  take (): string[] {
    return this.events.splice(0)
  }
}

const fr = (type: number, flags: number, id: number, length: number, payload?: number): OutFrame =>
  payload === undefined ? { type, flags, id, length } : { type, flags, id, length, payload }

describe('yamux session: opening streams', () => {
  it('uses odd ids on the dialer side and even ids on the listener side', () => {
    const d = new Harness('outbound')
    const l = new Harness('inbound')
    assert.deepEqual([d.open().id, d.open().id, d.open().id], [1, 3, 5])
    assert.deepEqual([l.open().id, l.open().id], [2, 4])
  })

  it('sends the SYN with the first Data frame: opening and writing cost one frame', () => {
    const h = new Harness('outbound')
    const s = h.open()
    assert.equal(h.write(s, 5), true)
    const out = h.out()
    assert.deepEqual(out.filter((f) => f.type !== Ping), [fr(Data, SYN, 1, 5, 5)])
    // The first RTT measurement rides along with the first output.
    assert.deepEqual(out.filter((f) => f.type === Ping).map((f) => f.flags), [SYN])
  })

  it('sends a Window Update with SYN on the next flush when nothing is written', () => {
    const h = new Harness('outbound')
    h.open()
    assert.deepEqual(h.out(false), [fr(WU, SYN, 1, 0)])
    assert.deepEqual(h.out(false), [], 'once')
  })

  it('grants a larger initial window together with the SYN (additive delta)', () => {
    const h = new Harness('outbound', { initialStreamWindow: 1024 * KiB })
    h.open()
    assert.deepEqual(h.out(false), [fr(WU, SYN, 1, 768 * KiB)])
  })

  it('sends the FIN on its own header after the data, never on a Data frame with payload', () => {
    // (js-libp2p-yamux 8 drops the payload of a Data frame that carries FIN)
    const h = new Harness('outbound')
    const s = h.open()
    h.write(s, 10)
    h.session.closeWrite(s)
    assert.deepEqual(h.out(false), [fr(Data, SYN, 1, 10, 10), fr(WU, FIN, 1, 0)])
  })

  it('accepts an inbound stream and acknowledges it on the next flush', () => {
    const h = new Harness('inbound')
    h.recv(data(SYN, 1, 5))
    assert.deepEqual(h.take(), ['inbound 1'])
    assert.equal(h.received.get(1), 5)
    assert.deepEqual(h.out(false), [fr(WU, ACK, 1, 0)])
  })

  it('puts the ACK on the first Data frame when the application answers at once', () => {
    const h = new Harness('inbound')
    h.recv(frame(WU, SYN, 1, 0))
    const s = [...h.session.streams][0] as StreamState
    h.write(s, 3)
    assert.deepEqual(h.out(false), [fr(Data, ACK, 1, 3, 3)])
  })

  it('handles SYN|FIN and answers ACK|FIN in one frame when we close at once', () => {
    const h = new Harness('inbound')
    h.recv(data(SYN | FIN, 1, 4))
    assert.deepEqual(h.take(), ['inbound 1', 'end 1'])
    const s = h.session.streams.next().value as StreamState
    h.session.closeWrite(s)
    assert.deepEqual(h.take(), ['removed 1'])
    assert.deepEqual(h.out(false), [fr(WU, ACK | FIN, 1, 0)])
    assert.equal(h.session.streamCount, 0)
  })
})

describe('yamux session: flow control', () => {
  it('sends at most the 256 KiB window until a Window Update, then resumes', () => {
    const h = new Harness('outbound')
    const s = h.open()
    assert.equal(h.write(s, 300 * KiB), false)
    const out = h.out(false)
    assert.equal(out.reduce((n, f) => n + (f.payload ?? 0), 0), 256 * KiB)
    assert.ok(out.every((f) => f.type === Data && (f.payload ?? 0) <= 64 * KiB), 'frames of at most maxMessageSize')
    h.recv(frame(WU, ACK, 1, 100 * KiB))
    assert.deepEqual(h.take(), ['writable 1'])
    assert.equal(h.write(s, 0), true)
    assert.deepEqual(h.out(false), [fr(Data, 0, 1, 44 * KiB, 44 * KiB)])
    assert.equal(s.sendWindow, 56 * KiB)
  })

  it('counts Data payload only: control frames do not use the window', () => {
    const h = new Harness('inbound')
    h.recv(frame(WU, SYN, 1, 0))
    for (let i = 0; i < 10; i++) h.recv(frame(WU, 0, 1, 0), frame(Ping, SYN, 0, i))
    h.recv(data(0, 1, 256 * KiB))
    assert.equal(h.received.get(1), 256 * KiB)
    assert.equal(h.session.state.kind, 'open')
  })

  it('treats a receive-window overrun as a protocol error: GoAway(1)', () => {
    const h = new Harness('inbound')
    h.recv(frame(WU, SYN, 1, 0), data(0, 1, 200 * KiB))
    h.recv(data(0, 1, 56 * KiB + 1))
    assert.deepEqual(h.take(), ['inbound 1', 'removed 1', `reset 1 ${codes.ERR_MUXER_PROTOCOL}`, `failure ${codes.ERR_MUXER_PROTOCOL}`])
    assert.deepEqual(h.out(false).pop(), fr(GoAway, 0, 0, GoAwayCode.ProtocolError))
    assert.equal(h.session.state.kind, 'closed')
  })

  it('grants window only for bytes the application consumed, at half a window', () => {
    const h = new Harness('inbound')
    h.recv(frame(WU, SYN, 1, 0), data(0, 1, 256 * KiB))
    const s = h.session.streams.next().value as StreamState
    h.out()
    assert.deepEqual(h.out(), [], 'nothing read: no update, the remote stays stopped')
    h.session.consumed(s, 100 * KiB)
    assert.deepEqual(h.out(), [], 'less than half a window')
    h.session.consumed(s, 28 * KiB)
    assert.deepEqual(h.out(), [fr(WU, 0, 1, 128 * KiB)])
    assert.equal(s.recvCredit, 128 * KiB)
    assert.equal(s.recvBuffered, 128 * KiB)
  })

  it('never sends a Window Update after the remote FIN, RST, or once the stream is closed', () => {
    const h = new Harness('inbound')
    h.recv(frame(WU, SYN, 1, 0), frame(WU, SYN, 3, 0), frame(WU, SYN, 5, 0))
    const [s1, s3, s5] = [...h.session.streams] as [StreamState, StreamState, StreamState]
    h.out()
    h.recv(data(0, 1, 200 * KiB), frame(WU, FIN, 1, 0))
    h.recv(data(0, 3, 200 * KiB), frame(WU, RST, 3, 0))
    h.recv(data(0, 5, 200 * KiB))
    h.session.closeWrite(s5)
    h.recv(frame(WU, FIN, 5, 0))
    h.out()
    h.session.consumed(s1, 200 * KiB)
    h.session.consumed(s3, 200 * KiB)
    h.session.consumed(s5, 200 * KiB)
    assert.deepEqual(h.out(), [])
  })

  it('sends the credit and our FIN in one frame, never an update after our FIN in a flush', () => {
    const h = new Harness('inbound')
    h.recv(frame(WU, SYN, 1, 0), data(0, 1, 200 * KiB))
    const s = h.session.streams.next().value as StreamState
    h.out()
    h.write(s, 10)
    h.session.consumed(s, 200 * KiB)
    h.session.closeWrite(s)
    assert.deepEqual(h.out(false), [fr(Data, 0, 1, 10, 10), fr(WU, FIN, 1, 200 * KiB)])
  })

  it('grows the receive window toward the BDP when updates come faster than 2 RTTs', () => {
    const h = new Harness('inbound', { maxStreamWindow: 1024 * KiB })
    h.recv(frame(WU, SYN, 1, 0))
    const s = h.session.streams.next().value as StreamState
    // Measure the RTT: our probe ping goes out with the first flush; answer after 10 ms.
    const ping = h.out().find((f) => f.type === Ping) as OutFrame
    h.now = 10
    h.recv(frame(Ping, ACK, 0, ping.length))
    assert.equal(h.session.rtt, 10)
    // Fast consumer: an update every 5 ms (< 2 RTT) doubles the window each time.
    const windows: number[] = []
    let credit = 256 * KiB
    for (let i = 0; i < 5; i++) {
      h.now += 5
      h.recv(data(0, 1, credit))
      h.session.consumed(s, credit)
      const wu = h.out().find((f) => f.type === WU) as OutFrame
      credit = wu.length
      windows.push(s.recvWindow)
    }
    assert.deepEqual(windows, [512, 1024, 1024, 1024, 1024].map((k) => k * KiB), 'doubles, capped at maxStreamWindow')
    // Slow consumer: updates 100 ms apart do not grow a fresh stream's window.
    h.recv(frame(WU, SYN, 3, 0))
    const slow = [...h.session.streams].find((x) => x.id === 3) as StreamState
    h.out()
    for (let i = 0; i < 3; i++) {
      h.now += 100
      h.recv(data(0, 3, 128 * KiB))
      h.session.consumed(slow, 128 * KiB)
      h.out()
    }
    assert.equal(slow.recvWindow, 256 * KiB)
  })
})

describe('yamux session: late and unknown frames', () => {
  it('ignores frames for a stream we reset, and for streams never opened, and parses on', () => {
    const h = new Harness('outbound')
    const s = h.open()
    h.write(s, 1)
    h.out()
    h.session.reset(s)
    assert.deepEqual(h.out(false), [fr(WU, RST, 1, 0)])
    h.take()
    // The remote's frames crossed our RST; a stream nobody opened; then a ping.
    h.recv(frame(WU, ACK, 1, 1000), data(0, 1, 100), frame(WU, FIN, 1, 0), data(0, 99, 50), frame(WU, 0, 7, 5), frame(Ping, SYN, 0, 77))
    assert.deepEqual(h.take(), [])
    assert.deepEqual(h.out(), [fr(Ping, ACK, 0, 77)])
    assert.equal(h.session.state.kind, 'open')
  })

  it('ignores a Window Update that crosses the FIN of a closed stream', () => {
    const h = new Harness('outbound')
    const s = h.open()
    h.write(s, 1)
    h.session.closeWrite(s)
    h.out()
    h.recv(frame(WU, ACK | FIN, 1, 0))
    assert.deepEqual(h.take(), ['removed 1', 'end 1'])
    h.recv(frame(WU, 0, 1, 4096), data(0, 1, 10))
    assert.deepEqual(h.take(), [])
    assert.equal(h.session.state.kind, 'open')
  })

  it('ignores a repeated FIN; resets only the stream on Data after its FIN', () => {
    const h = new Harness('inbound')
    h.recv(data(SYN | FIN, 1, 3), frame(WU, FIN, 1, 0))
    assert.deepEqual(h.take(), ['inbound 1', 'end 1'])
    h.out()
    h.recv(data(0, 1, 3))
    assert.deepEqual(h.take(), ['removed 1', `reset 1 ${codes.ERR_MUXER_PROTOCOL}`])
    assert.deepEqual(h.out(false), [fr(WU, RST, 1, 0)])
    assert.equal(h.session.state.kind, 'open')
  })

  it('resets the stream on the remote RST and sends nothing for it afterwards', () => {
    const h = new Harness('outbound')
    const s = h.open()
    h.write(s, 10)
    h.out()
    h.recv(frame(WU, RST, 1, 0))
    assert.deepEqual(h.take(), ['removed 1', `reset 1 ${codes.ERR_STREAM_RESET}`])
    h.session.reset(s)
    h.session.closeWrite(s)
    h.session.consumed(s, 10)
    assert.equal(h.write(s, 10), true)
    assert.deepEqual(h.out(), [])
  })

  it('a stream reset before its SYN left sends nothing at all', () => {
    const h = new Harness('outbound')
    const s = h.open()
    h.session.reset(s)
    assert.deepEqual(h.out(false), [])
  })
})

describe('yamux session: protocol errors', () => {
  const cases: Array<[string, Direction, Uint8Array]> = [
    ['a bad version', 'inbound', Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)],
    ['an unknown type', 'inbound', Uint8Array.of(0, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)],
    ['Data on stream 0', 'inbound', data(0, 0, 1)],
    ['a Ping on a stream', 'inbound', frame(Ping, SYN, 5, 1)],
    ['a GoAway on a stream', 'inbound', frame(GoAway, 0, 5, 0)],
    ['a SYN with our parity (listener gets an even id)', 'inbound', frame(WU, SYN, 2, 0)],
    ['a SYN with our parity (dialer gets an odd id)', 'outbound', frame(WU, SYN, 1, 0)],
    ['a duplicate SYN', 'inbound', Buffer.concat([frame(WU, SYN, 1, 0), frame(WU, SYN, 1, 0)])]
  ]
  for (const [what, direction, bytes] of cases) {
    it(`answers ${what} with GoAway(1) and ends the session`, () => {
      const h = new Harness(direction)
      h.recv(bytes)
      assert.ok(h.take().includes(`failure ${codes.ERR_MUXER_PROTOCOL}`))
      assert.deepEqual(h.out(false).pop(), fr(GoAway, 0, 0, GoAwayCode.ProtocolError))
      assert.equal(h.session.state.kind, 'closed')
      h.recv(frame(Ping, SYN, 0, 1))
      assert.deepEqual(h.out(), [], 'deaf once closed')
    })
  }
})

describe('yamux session: stream limits', () => {
  it('resets SYNs beyond the ACK backlog of 256, and the session survives', () => {
    const h = new Harness('inbound')
    const syns = Array.from({ length: 300 }, (_, i) => frame(WU, SYN, 2 * i + 1, 0))
    h.recv(...syns)
    assert.equal(h.take().filter((e) => e.startsWith('inbound')).length, 256)
    const out = h.out(false)
    assert.equal(out.filter((f) => f.flags === RST).length, 44)
    assert.equal(out.filter((f) => f.flags === ACK).length, 256)
    // Acknowledged: the backlog is free again.
    h.recv(frame(WU, SYN, 601, 0))
    assert.deepEqual(h.take(), ['inbound 601'])
    assert.equal(h.session.state.kind, 'open')
  })

  it('resets inbound streams beyond maxInboundStreams', () => {
    const h = new Harness('inbound', { maxInboundStreams: 10 })
    for (let i = 0; i < 12; i++) {
      h.recv(frame(WU, SYN, 2 * i + 1, 0))
      h.out()
    }
    assert.equal(h.session.streamCount, 10)
    const s = h.session.streams.next().value as StreamState
    h.session.reset(s)
    h.out()
    h.recv(frame(WU, SYN, 101, 0))
    assert.equal(h.session.streamCount, 10, 'a slot freed by a reset is reused')
  })

  it('holds SYNs beyond an outbound ACK backlog of 256 until ACKs arrive', () => {
    const h = new Harness('outbound')
    const streams = Array.from({ length: 300 }, () => h.open())
    for (const s of streams) h.write(s, 1)
    const out = h.out(false)
    assert.equal(out.length, 256)
    assert.ok(out.every((f) => f.flags === SYN))
    assert.equal(h.write(streams[299] as StreamState, 0), false, 'a held stream cannot send yet')
    h.recv(frame(WU, ACK, 1, 0), frame(WU, ACK, 3, 0))
    const more = h.out(false)
    assert.deepEqual(more.map((f) => [f.id, f.flags]), [[513, SYN], [515, SYN]])
    const events = h.take()
    assert.ok(events.includes('writable 513') && events.includes('writable 515'), events.join())
    // A held stream that is reset never appears on the wire.
    h.session.reset(streams[299] as StreamState)
    for (let i = 0; i < 50; i++) h.recv(frame(WU, ACK, 5 + 2 * i, 0))
    assert.ok(h.out(false).every((f) => f.id !== 599))
  })

  it('refuses to open beyond maxOutboundStreams', () => {
    const h = new Harness('outbound', { maxOutboundStreams: 2 })
    h.open()
    h.open()
    assert.throws(() => h.open(), { code: codes.ERR_TOO_MANY_STREAMS })
  })
})

describe('yamux session: ping and GoAway', () => {
  it('answers pings with the same opaque value, at most 16 per flush under a flood', () => {
    const h = new Harness('inbound')
    h.recv(frame(Ping, SYN, 0, 0xfeedbeef))
    // (our own RTT probe, a Ping SYN, rides along with the first output)
    assert.deepEqual(h.out().filter((f) => f.flags === ACK), [fr(Ping, ACK, 0, 0xfeedbeef)])
    h.recv(...Array.from({ length: 1000 }, (_, i) => frame(Ping, SYN, 0, i)))
    const answers = h.out()
    assert.equal(answers.length, 16)
    h.recv(frame(Ping, SYN, 0, 5))
    assert.deepEqual(h.out(), [fr(Ping, ACK, 0, 5)], 'answers again after the flush')
  })

  it('measures the RTT with its own pings and ignores unrequested answers', () => {
    const h = new Harness('outbound', { keepAliveInterval: 1000, keepAliveTimeout: 2000 })
    h.now = 1000
    assert.equal(h.session.handleTimeout(h.now), 2000)
    const ping = h.out()[0] as OutFrame
    assert.equal(ping.type, Ping)
    h.now = 1003
    h.recv(frame(Ping, ACK, 0, ping.length + 1))
    assert.equal(h.session.rtt, undefined)
    h.recv(frame(Ping, ACK, 0, ping.length))
    assert.equal(h.session.rtt, 3)
  })

  it('GoAway(0) from the remote: no new streams, open ones continue', () => {
    const h = new Harness('outbound')
    const open = h.open()
    h.write(open, 1)
    const pending = h.open()
    h.out()
    const queued = h.open()
    h.recv(frame(GoAway, 0, 0, GoAwayCode.Normal))
    assert.deepEqual(h.take(), ['removed 5', `reset 5 ${codes.ERR_MUXER_CLOSED}`, 'goaway'])
    assert.equal(pending.handshake, 'syn-sent')
    assert.equal(queued.phase, 'reset')
    assert.throws(() => h.open(), { code: codes.ERR_MUXER_CLOSED })
    h.recv(data(ACK, 1, 3), frame(WU, SYN, 2, 0))
    assert.equal(h.received.get(1), 3)
    assert.deepEqual(h.out(false), [fr(WU, RST, 2, 0)], 'a new inbound stream is refused')
    assert.deepEqual(h.session.state, { kind: 'closing', local: false, remote: true })
  })

  it('GoAway with an error code fails the session with ERR_GO_AWAY', () => {
    const h = new Harness('outbound')
    h.write(h.open(), 1)
    h.recv(frame(GoAway, 0, 0, GoAwayCode.InternalError))
    assert.deepEqual(h.take(), ['removed 1', `reset 1 ${codes.ERR_GO_AWAY}`, `failure ${codes.ERR_GO_AWAY}`])
  })

  it('after beginClose, inbound SYNs are reset', () => {
    const h = new Harness('inbound')
    h.session.beginClose()
    h.recv(data(SYN, 1, 10))
    assert.deepEqual(h.take(), [])
    assert.deepEqual(h.out(false), [fr(WU, RST, 1, 0)])
  })
})

describe('yamux session: keep-alive', () => {
  it('pings after keepAliveInterval of silence and fails after keepAliveTimeout of silence', () => {
    const h = new Harness('outbound', { keepAliveInterval: 10_000, keepAliveTimeout: 60_000 })
    assert.equal(h.session.nextTimeout(), 10_000)
    assert.equal(h.session.handleTimeout(9_999), 10_000, 'not due yet')
    h.now = 10_000
    assert.equal(h.session.handleTimeout(h.now), 60_000, 'the deadline counts from the last frame received, not from the ping')
    const ping = h.out()[0] as OutFrame
    h.now = 10_010
    h.recv(frame(Ping, ACK, 0, ping.length))
    assert.equal(h.session.nextTimeout(), 20_010)
    // Any frame from the remote proves it alive and moves the next ping.
    h.now = 15_000
    h.recv(frame(WU, 0, 99, 0))
    assert.equal(h.session.nextTimeout(), 25_000)
    h.now = 25_000
    assert.equal(h.session.handleTimeout(h.now), 75_000)
    h.out()
    assert.equal(h.session.handleTimeout(74_999), 75_000)
    h.session.handleTimeout(75_000)
    assert.deepEqual(h.take(), [`failure ${codes.ERR_KEEP_ALIVE_TIMEOUT}`])
    assert.equal(h.session.state.kind, 'closed')
  })

  it('keepAliveInterval 0 disables keep-alive', () => {
    const h = new Harness('outbound', { keepAliveInterval: 0 })
    assert.equal(h.session.nextTimeout(), undefined)
    assert.equal(h.session.handleTimeout(1e9), undefined)
    assert.deepEqual(h.take(), [])
  })
})

describe('yamux session: input throttling', () => {
  it('asks the driver to stop reading when a non-reading peer makes us queue too many frames', () => {
    const h = new Harness('inbound')
    h.out()
    h.session.flushed(false)
    assert.equal(h.session.inputThrottled, false)
    // 5000 SYNs to refuse (and acknowledge) while our output is blocked.
    for (let i = 0; i < 20; i++) h.recv(...Array.from({ length: 250 }, (_, j) => frame(WU, SYN, 2 * (i * 250 + j) + 1, 0)))
    assert.equal(h.session.inputThrottled, true)
    h.session.drained()
    assert.equal(h.session.inputThrottled, false)
  })
})
