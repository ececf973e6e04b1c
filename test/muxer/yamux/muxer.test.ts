/**
 * The yamux driver against a raw peer (the other end of a memory channel, speaking
 * frames by hand) and against itself: coalescing, backpressure, the interceptor,
 * hostile input, keep-alive with mocked timers, timer hygiene.
 */
import { describe, it, mock } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { encodeHeader, Flag, FrameDecoder, FrameType, GoAwayCode, type FrameHeader } from '../../../src/muxer/yamux/frame.js'
import { yamux, YamuxMuxer } from '../../../src/muxer/yamux/index.js'
import { resolveOptions, type YamuxOptions } from '../../../src/muxer/yamux/config.js'
import { MemoryChannel } from '../../../src/transport/memory-channel.js'
import type { MuxedStream, StreamMuxerInit } from '../../../src/interfaces/muxer.js'
import { codes, isLp2pError } from '../../../src/errors.js'
import { rawPeerOf, type RawPeer } from '../raw-peer.js'
import { connect } from '../muxer-pair.js'
import { closedWith, readAll, writeAll } from '../stream-io.js'
import { tick } from '../../helpers/channel.js'

const KiB = 1024
const { Data, WindowUpdate: WU, Ping, GoAway } = FrameType
const { SYN, ACK, FIN, RST } = Flag

function frame (type: number, flags: number, id: number, length: number, payload?: Uint8Array): Uint8Array {
  const h = encodeHeader({ type: type as FrameHeader['type'], flags, streamId: id, length })
  return payload === undefined ? h : Buffer.concat([h, payload])
}

interface Seen { type: number, flags: number, id: number, length: number, payload: number }

function frames (bytes: Uint8Array): Seen[] {
  const d = new FrameDecoder({ maxDataLength: 1 << 30 })
  d.push(bytes)
  const out: Seen[] = []
  for (let ev = d.next(); ev !== undefined; ev = d.next()) {
    if (ev instanceof Uint8Array) (out[out.length - 1] as Seen).payload += ev.byteLength
    else out.push({ type: ev.type, flags: ev.flags, id: ev.streamId, length: ev.length, payload: 0 })
  }
  return out
}

/** Our muxer on one end; the test speaks raw frames on the other. */
function rawPeer (direction: 'inbound' | 'outbound', options: YamuxOptions = {}, clock?: () => number, channelHwm?: number): RawPeer<YamuxMuxer, Seen> {
  return rawPeerOf((ours, init) => new YamuxMuxer(ours, init, resolveOptions(options), clock), frames, { direction, channelHwm })
}

describe('yamux driver: output', () => {
  it('coalesces the frames of one turn, from many streams, into one writev', async () => {
    const [a, b] = MemoryChannel.pair()
    const writes: Uint8Array[][] = []
    const writev = a.writev.bind(a)
    a.writev = (chunks) => { writes.push([...chunks]); return writev(chunks) }
    const received: MuxedStream[] = []
    const dialer = yamux().createStreamMuxer(a, { direction: 'outbound', onIncomingStream: () => {} })
    yamux().createStreamMuxer(b, { direction: 'inbound', onIncomingStream: (s) => { s.on('error', () => {}); received.push(s) } })
    const streams = Array.from({ length: 50 }, () => dialer.newStream().on('error', () => {}))
    for (const s of streams) s.write('hello')
    // A continuation after an await in the same turn joins the flush too.
    await Promise.resolve()
    for (const s of streams) s.write(' world')
    await tick(3)
    const first = frames(Buffer.concat(writes[0] as Uint8Array[]))
    assert.equal(first.filter((f) => f.type === Data).length, 100, 'the first writev holds all 100 writes')
    assert.equal(first.filter((f) => f.type === Data && f.flags === SYN).length, 50)
    assert.ok(writes.slice(1).every((w) => frames(Buffer.concat(w)).every((f) => f.type !== Data)), 'later writes are control frames only')
    assert.equal(received.length, 50)
    await dialer.close({ signal: AbortSignal.abort() })
  })

  it('opening a stream and writing to it costs one frame (SYN on the Data frame)', async () => {
    const p = rawPeer('outbound')
    const s = p.muxer.newStream()
    s.write('request')
    await tick(2)
    const sent = p.sent().filter((f) => f.type !== Ping)
    assert.deepEqual(sent, [{ type: Data, flags: SYN, id: 1, length: 7, payload: 7 }])
    p.muxer.abort(new Error('done'))
    await closedWith(s)
  })

  it('stops writing to a backpressured channel and propagates it to write()', async () => {
    const p = rawPeer('outbound', {}, undefined, 4 * KiB)
    p.raw.pause()
    const s = p.muxer.newStream()
    let accepted = 0
    let sawFalse = false
    for (let i = 0; i < 10_000 && !sawFalse; i++) {
      accepted += 4 * KiB
      sawFalse = !s.write(new Uint8Array(4 * KiB))
    }
    assert.ok(sawFalse, 'write() returned false')
    await tick(10)
    const inFlight = p.seen.bytes().byteLength
    assert.equal(inFlight, 0, 'nothing delivered while the peer is paused')
    const drained = once(s, 'drain')
    // The raw peer reads, and grants the window the stream needs to go on.
    p.raw.write(frame(WU, ACK, 1, 1 << 20))
    p.raw.resume()
    await drained
    assert.ok(p.seen.bytes().byteLength >= accepted - 64 * KiB)
    p.muxer.abort(new Error('done'))
    await closedWith(s)
  })
})

describe('yamux driver: fairness', () => {
  it('shares the connection between bulk streams instead of finishing one first', async () => {
    const order: string[] = []
    const p = connect(yamux(), {}, (s) => {
      s.on('error', () => {}).on('data', (c: Buffer) => { order.push(String(c[0])) })
    })
    const size = 4 * 1024 * 1024
    const a = p.dialer.newStream()
    const b = p.dialer.newStream()
    await Promise.all([writeAll(a, Buffer.alloc(size, 0x31)), writeAll(b, Buffer.alloc(size, 0x32))])
    await tick(5)
    const half = Math.floor(order.length / 2)
    const firstHalf = order.slice(0, half)
    assert.ok(firstHalf.includes('49') && firstHalf.includes('50'), 'both streams progress in the first half')
    a.destroy()
    b.destroy()
    await p.dialer.close()
  })
})

describe('yamux driver: receiving', () => {
  it('sends window updates only for bytes the application read (stalled reader)', async () => {
    const p = rawPeer('inbound')
    p.raw.write(frame(Data, SYN, 1, 256 * KiB, new Uint8Array(256 * KiB)))
    await tick(3)
    const s = p.inbound[0] as MuxedStream
    s.pause()
    await tick(3)
    assert.ok(p.sent().every((f) => f.type !== WU || f.length === 0), 'no credit while nothing is read')
    let read = 0
    for (let c = s.read(); c !== null; c = s.read()) read += (c as Buffer).byteLength
    assert.equal(read, 256 * KiB)
    await tick(3)
    const credit = p.sent().filter((f) => f.type === WU && f.id === 1).reduce((n, f) => n + f.length, 0)
    assert.equal(credit, 256 * KiB, 'credit for every byte read')
    p.muxer.abort(new Error('done'))
    await closedWith(s)
  })

  it('counts bytes an interceptor consumes as read, and hands the rest to the reader', async () => {
    const p = rawPeer('inbound')
    let intercepted = 0
    p.raw.write(frame(WU, SYN, 1, 0))
    await tick(2)
    const s = p.inbound[0] as MuxedStream
    s.setInboundInterceptor((chunk) => {
      if (chunk === null) return new Uint8Array(0)
      intercepted += chunk.byteLength
      // Consume the first 200 KiB, then hand back the last 10 bytes of the chunk
      // that crosses it.
      if (intercepted < 200 * KiB) return undefined
      return chunk.subarray(chunk.byteLength - 10)
    })
    s.pause()
    for (let i = 0; i < 4; i++) p.raw.write(frame(Data, 0, 1, 64 * KiB, new Uint8Array(64 * KiB).fill(i)))
    await tick(5)
    assert.equal(s.readableLength, 10)
    const credit = p.sent().filter((f) => f.type === WU && f.id === 1).reduce((n, f) => n + f.length, 0)
    assert.equal(credit, 256 * KiB - 10, 'intercepted bytes were granted back; the 10 unread were not')
    p.raw.write(frame(WU, FIN, 1, 0))
    const rest = await readAll(s)
    assert.deepEqual([...rest], Array(10).fill(3))
    const closed = closedWith(s)
    p.muxer.abort(new Error('done'))
    await closed
  })

  it('calls the interceptor with null at the remote FIN', async () => {
    const p = rawPeer('inbound')
    p.raw.write(frame(Data, SYN, 1, 3, Uint8Array.of(1, 2, 3)))
    await tick(2)
    const s = p.inbound[0] as MuxedStream
    const seen: Array<number[] | null> = []
    // Installed synchronously in onIncomingStream it would see the first bytes; here
    // the first chunk already reached the readable side.
    s.setInboundInterceptor((chunk) => {
      seen.push(chunk === null ? null : [...chunk])
      return chunk === null ? Uint8Array.of(9) : undefined
    })
    p.raw.write(frame(Data, FIN, 1, 2, Uint8Array.of(4, 5)))
    const rest = await readAll(s)
    assert.deepEqual(seen, [[4, 5], null])
    assert.deepEqual([...rest], [1, 2, 3, 9])
    const closed = closedWith(s)
    p.muxer.abort(new Error('done'))
    await closed
  })
})

describe('yamux driver: hostile peers', () => {
  it('answers garbage with GoAway(1), ends the channel and fails the streams', async () => {
    const p = rawPeer('outbound')
    const s = p.muxer.newStream()
    s.write('x')
    const sErr = closedWith(s)
    await tick(2)
    p.raw.write(Uint8Array.of(0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0))
    const err = await p.closed
    assert.ok(isLp2pError(err, codes.ERR_MUXER_PROTOCOL), `got ${String(err)}`)
    assert.ok(isLp2pError(await sErr, codes.ERR_MUXER_PROTOCOL))
    await tick(3)
    assert.deepEqual(p.sent().filter((f) => f.type === GoAway), [{ type: GoAway, flags: 0, id: 0, length: GoAwayCode.ProtocolError, payload: 0 }])
    assert.equal(p.seen.ended, true, 'our side of the channel ended')
    assert.equal(p.muxer.status, 'closed')
    p.raw.end()
  })

  it('survives a SYN flood beyond the ACK backlog and the stream limit', async () => {
    const p = rawPeer('inbound', { maxInboundStreams: 300 })
    const syns = Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(WU, SYN, 2 * i + 1, 0)))
    p.raw.write(syns)
    await tick(3)
    const sent = p.sent()
    assert.equal(p.inbound.length, 256, 'the ACK backlog bounds one burst')
    assert.equal(sent.filter((f) => f.flags === RST).length, 744)
    // Acknowledged now; the next burst fills up to maxInboundStreams.
    p.raw.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => frame(WU, SYN, 2001 + 2 * i, 0))))
    await tick(3)
    assert.equal(p.inbound.length, 300)
    assert.equal(p.sent().filter((f) => f.flags === RST).length, 56)
    assert.equal(p.muxer.status, 'open')
    p.raw.write(frame(Ping, SYN, 0, 3))
    await tick(3)
    assert.deepEqual(p.sent().filter((f) => f.type === Ping && f.flags === ACK).map((f) => f.length), [3])
    for (const s of p.inbound) s.on('error', () => {})
    p.muxer.abort(new Error('done'))
  })

  it('bounds the answers to a ping flood', async () => {
    const p = rawPeer('inbound')
    p.raw.write(Buffer.concat(Array.from({ length: 5000 }, (_, i) => frame(Ping, SYN, 0, i))))
    await tick(5)
    const answers = p.sent().filter((f) => f.type === Ping && f.flags === ACK)
    assert.ok(answers.length > 0 && answers.length <= 16 * 2, `${answers.length} answers`)
    assert.equal(p.muxer.status, 'open')
    p.muxer.abort(new Error('done'))
  })

  it('ignores data for unknown streams without failing the session', async () => {
    const p = rawPeer('inbound')
    p.raw.write(Buffer.concat([frame(Data, 0, 41, 100, new Uint8Array(100)), frame(WU, RST, 43, 0), frame(Data, SYN, 1, 2, Uint8Array.of(7, 7))]))
    await tick(3)
    assert.equal(p.inbound.length, 1)
    assert.equal(p.muxer.status, 'open')
    p.muxer.abort(new Error('done'))
    await closedWith(p.inbound[0] as MuxedStream)
  })

  it('GoAway(0) from the remote: no new streams, open ones finish, then the muxer closes', async () => {
    const p = rawPeer('outbound')
    const s = p.muxer.newStream()
    s.write('q')
    await tick(2)
    p.raw.write(frame(GoAway, 0, 0, GoAwayCode.Normal))
    await tick(2)
    assert.equal(p.muxer.status, 'closing')
    assert.throws(() => p.muxer.newStream(), (e: unknown) => isLp2pError(e, codes.ERR_MUXER_CLOSED))
    p.raw.write(frame(Data, ACK | FIN, 1, 1, Uint8Array.of(65)))
    assert.equal((await readAll(s)).toString(), 'A')
    s.end()
    assert.equal(await p.closed, undefined)
    await tick(3)
    assert.ok(p.sent().some((f) => f.type === GoAway && f.length === 0))
    assert.equal(p.seen.ended, true)
    p.raw.end()
  })
})

describe('yamux driver: keep-alive and timers', () => {
  it('closes a dead connection with ERR_KEEP_ALIVE_TIMEOUT (mocked timers)', async () => {
    mock.timers.enable({ apis: ['setTimeout'] })
    try {
      let now = 0
      const p = rawPeer('outbound', { keepAliveInterval: 10_000, keepAliveTimeout: 60_000 }, () => now)
      const s = p.muxer.newStream()
      const sErr = closedWith(s)
      now = 10_000
      mock.timers.tick(10_000)
      await tick(2)
      assert.ok(p.sent().some((f) => f.type === Ping && f.flags === SYN), 'a keep-alive ping went out')
      // 60 s of silence since the last frame received (none: since the start).
      now = 59_999
      mock.timers.tick(49_999)
      assert.equal(p.muxer.status, 'open')
      now = 60_000
      mock.timers.tick(1)
      const err = await p.closed
      assert.ok(isLp2pError(err, codes.ERR_KEEP_ALIVE_TIMEOUT), `got ${String(err)}`)
      assert.ok(isLp2pError(await sErr, codes.ERR_KEEP_ALIVE_TIMEOUT))
      assert.equal(p.muxer.status, 'closed')
    } finally {
      mock.timers.reset()
    }
  })

  it('stays up while pings are answered (mocked timers)', async () => {
    mock.timers.enable({ apis: ['setTimeout'] })
    try {
      let now = 0
      const [a, b] = MemoryChannel.pair()
      const opts = resolveOptions({ keepAliveInterval: 1000, keepAliveTimeout: 2000 })
      let closed = false
      const m = new YamuxMuxer(a, { direction: 'outbound', onIncomingStream: () => {}, onClose: () => { closed = true } }, opts, () => now)
      const peer = new YamuxMuxer(b, { direction: 'inbound', onIncomingStream: () => {} }, resolveOptions({ keepAliveInterval: 0 }), () => now)
      for (let i = 0; i < 20; i++) {
        now += 250
        mock.timers.tick(250)
        await tick(2)
      }
      assert.equal(closed, false)
      assert.ok(m.rtt !== undefined)
      m.abort(new Error('done'))
      peer.abort(new Error('done'))
    } finally {
      mock.timers.reset()
    }
  })

  it('leaves no timer behind after close() or abort()', async () => {
    const live = new Set<unknown>()
    const realSet = globalThis.setTimeout
    const realClear = globalThis.clearTimeout
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      const t = realSet(() => { live.delete(t); fn() }, ms)
      live.add(t)
      return t
    }) as typeof setTimeout
    globalThis.clearTimeout = ((t: NodeJS.Timeout | undefined) => { live.delete(t); realClear(t) }) as typeof clearTimeout
    try {
      const p = connect(yamux())
      const s = p.dialer.newStream()
      s.end('x')
      const inb = await p.nextInbound()
      inb.end()
      await Promise.all([readAll(inb), readAll(s)])
      await p.dialer.close()
      await tick(3)
      const q = connect(yamux())
      q.dialer.newStream().on('error', () => {}).write('y')
      ;(await q.nextInbound()).on('error', () => {})
      q.dialer.abort(new Error('bye'))
      await q.listenerClosed
      await tick(3)
      assert.equal(live.size, 0, `${live.size} timers left`)
    } finally {
      globalThis.setTimeout = realSet
      globalThis.clearTimeout = realClear
    }
  })
})

describe('yamux factory', () => {
  it('validates options and init', () => {
    assert.throws(() => yamux({ maxMessageSize: 10 }), RangeError)
    assert.throws(() => yamux({ initialStreamWindow: 1000 }), RangeError)
    assert.throws(() => yamux({ maxStreamWindow: 2 ** 33 }), RangeError)
    assert.throws(() => yamux({ keepAliveInterval: 'x' as unknown as number }), TypeError)
    assert.throws(() => yamux({ maxInboundStreams: -1 }), RangeError)
    const [a] = MemoryChannel.pair()
    assert.throws(() => yamux().createStreamMuxer(a, { direction: 'sideways' as 'inbound', onIncomingStream: () => {} }), RangeError)
    assert.throws(() => yamux().createStreamMuxer(a, { direction: 'inbound' } as unknown as StreamMuxerInit), TypeError)
    assert.equal(yamux().protocol, '/yamux/1.0.0')
  })

  it('throws ERR_TOO_MANY_STREAMS at maxOutboundStreams', async () => {
    const p = connect(yamux({ maxOutboundStreams: 2 }))
    p.dialer.newStream().on('error', () => {})
    p.dialer.newStream().on('error', () => {})
    assert.throws(() => p.dialer.newStream(), (e: unknown) => isLp2pError(e, codes.ERR_TOO_MANY_STREAMS))
    assert.equal(p.dialer.streams.length, 2)
    await p.dialer.close({ signal: AbortSignal.abort() })
  })

  it('destroys a stream whose handler throws, and keeps the connection', async () => {
    const [a, b] = MemoryChannel.pair()
    const dialer = yamux().createStreamMuxer(a, { direction: 'outbound', onIncomingStream: () => {} })
    yamux().createStreamMuxer(b, { direction: 'inbound', onIncomingStream: (s) => { s.on('error', () => {}); throw new Error('bad handler') } })
    const s = dialer.newStream()
    s.write('x')
    const err = await closedWith(s)
    assert.ok(isLp2pError(err, codes.ERR_STREAM_RESET))
    assert.equal(dialer.status, 'open')
    dialer.abort(new Error('done'))
  })

  it('keeps FIN semantics through a for-await read loop after end()', async () => {
    const p = connect(yamux(), {}, (s) => {
      void (async () => {
        const chunks: Buffer[] = []
        s.end('reply')
        for await (const c of s) chunks.push(c as Buffer)
      })()
    })
    const s = p.dialer.newStream()
    s.end('request')
    assert.equal((await readAll(s)).toString(), 'reply')
    assert.equal(await closedWith(s), undefined, 'closed cleanly, not reset')
    await p.dialer.close()
  })
})

void FIN
