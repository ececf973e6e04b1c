/**
 * yamux (`specs/yamux.md`) inside a correct Noise channel: a hostile dialer that
 * authenticated properly and then breaks the muxer's rules, sent to a real node.
 *
 * A frame no correct peer sends is a protocol error: GoAway(1), the node ends the
 * connection at once and reports ERR_MUXER_PROTOCOL (ERR_MESSAGE_TOO_LARGE for an
 * oversize length). Frames for streams that are gone are the normal race between two
 * ends and are dropped. Floods are bounded: SYNs beyond the limits are reset, ping
 * answers are capped per flush, and the heap stays flat. After every case the node is
 * back to baseline, serves a well-behaved peer, and raised no unhandled rejection.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Flag, FrameType, GoAwayCode } from '../../src/muxer/yamux/frame.js'
import { MAX_PENDING_PONGS } from '../../src/muxer/yamux/config.js'
import { yamux } from '../../src/muxer/yamux/index.js'
import { MAX_PLAINTEXT_LENGTH } from '../../src/security/noise/constants.js'
import type { Stream } from '../../src/interfaces/connection.js'
import { expectCode, heapUsed, KiB, MiB, sleep, until } from '../helpers/hostile.js'
import { AT_ONCE_MS, Target, type InboundRecord } from '../helpers/hostile-target.js'
import { connectYamux, rawFrame, type YamuxPeer, type YamuxPeerOptions } from '../helpers/hostile-yamux.js'

const STALL = '/adversarial/stall/1.0.0'
const NEGOTIATION_TIMEOUT = 1000

describe('adversarial: yamux inside a correct Noise channel', () => {
  /** Streams of the stall protocol, held unread so the window is never reopened. */
  const stalled: Stream[] = []
  const t = Target.suite({ timeouts: { streamNegotiation: NEGOTIATION_TIMEOUT } }, { settle: () => { stalled.length = 0 } })
  before(() => { t.node.handle(STALL, (stream) => { stalled.push(stream) }, { maxInboundStreams: 8 }) })

  /** A hostile peer with an open, working connection (ping on stream 1 answered). */
  async function connected (options: YamuxPeerOptions = {}): Promise<{ y: YamuxPeer, record: InboundRecord }> {
    const n = t.inbound.length
    const y = await connectYamux(t.port, { onRemoteStream: 'reset', ...options })
    const record = await t.inboundAt(n)
    await t.connectionTo(y.secure.localPeer)
    await y.ping(1)
    return { y, record }
  }

  /** The node's side after a protocol violation: GoAway, its FIN at once, the typed close error. */
  async function violation (y: YamuxPeer, code: string, goAway: number | null = GoAwayCode.ProtocolError): Promise<void> {
    const peer = y.secure.peer
    const ms = await peer.waitClosed(AT_ONCE_MS + 2000)
    assert.ok(ms < AT_ONCE_MS, `the node ended the connection after ${ms.toFixed(0)} ms`)
    if (goAway !== null) assert.equal(y.goAway, goAway)
    assert.equal(t.node.getConnections(y.secure.localPeer).length, 0, 'the connection is gone at once')
    const close = t.closes.find((c) => c.connection.remotePeer.equals(y.secure.localPeer))
    assert.ok(close !== undefined, 'connection:close was emitted')
    expectCode(close.error, code)
    assert.equal(y.decodeError, undefined, 'everything the node sent decodes')
    peer.end()
  }

  describe('protocol violations end the connection', () => {
    /** name, frame, the node's close error, the GoAway code it sends (null: none). */
    const cases: Array<[string, (y: YamuxPeer) => Uint8Array, string, number | null]> = [
      ['a bad version (1)', () => rawFrame(FrameType.Data, Flag.SYN, 3, 0, undefined, 1), 'ERR_MUXER_PROTOCOL', GoAwayCode.ProtocolError],
      ['an unknown type (4)', () => rawFrame(4, 0, 0, 0), 'ERR_MUXER_PROTOCOL', GoAwayCode.ProtocolError],
      ['an unknown type (255) with a payload-like length', () => rawFrame(255, 0, 3, 1000), 'ERR_MUXER_PROTOCOL', GoAwayCode.ProtocolError],
      ['Data on stream 0', (y) => y.data(0, Buffer.from('hi')), 'ERR_MUXER_PROTOCOL', GoAwayCode.ProtocolError],
      ['a Window Update on stream 0', (y) => y.windowUpdate(0, 1000), 'ERR_MUXER_PROTOCOL', GoAwayCode.ProtocolError],
      ['a Ping on stream 5', () => rawFrame(FrameType.Ping, Flag.SYN, 5, 7), 'ERR_MUXER_PROTOCOL', GoAwayCode.ProtocolError],
      ['a GoAway on stream 5', () => rawFrame(FrameType.GoAway, 0, 5, 0), 'ERR_MUXER_PROTOCOL', GoAwayCode.ProtocolError],
      ['a SYN with the node\'s id parity (1000)', (y) => y.windowUpdate(1000, 0, Flag.SYN), 'ERR_MUXER_PROTOCOL', GoAwayCode.ProtocolError],
      ['a Data frame with length 2^32-1 (header only)', () => rawFrame(FrameType.Data, Flag.SYN, 3, 0xffffffff), 'ERR_MESSAGE_TOO_LARGE', GoAwayCode.ProtocolError],
      ['a Data frame with length 16 MiB + 1', () => rawFrame(FrameType.Data, 0, 1, 16 * MiB + 1), 'ERR_MESSAGE_TOO_LARGE', GoAwayCode.ProtocolError],
      ['a GoAway with the protocol-error code', () => rawFrame(FrameType.GoAway, 0, 0, GoAwayCode.ProtocolError), 'ERR_GO_AWAY', null],
      ['a GoAway with an unknown code', () => rawFrame(FrameType.GoAway, 0, 0, 0xdead), 'ERR_GO_AWAY', null]
    ]
    for (const [name, build, code, goAway] of cases) {
      it(`${name}: ${code}`, async () => {
        const { y } = await connected()
        y.send(build(y))
        await violation(y, code, goAway)
      })
    }

    it('a SYN for a stream that is open: ERR_MUXER_PROTOCOL', async () => {
      const { y } = await connected()
      assert.equal(await y.open(3, STALL), 'agreed')
      y.send(y.windowUpdate(3, 0, Flag.SYN))
      await violation(y, 'ERR_MUXER_PROTOCOL')
    })

    it('a window overrun: exactly the window is accepted, one byte more is ERR_MUXER_PROTOCOL', async () => {
      const { y } = await connected()
      assert.equal(await y.open(3, STALL), 'agreed')
      await until(() => stalled.length === 1, 2000, 'the handler to hold the stream')
      // Fill the window to the last byte (the handler never reads, so it never reopens).
      for (let left = y.remaining(3); left > 0; left = y.remaining(3)) {
        y.send(y.data(3, Buffer.alloc(Math.min(left, 64 * KiB), 0x61)))
      }
      await sleep(200)
      assert.equal(t.node.getConnections(y.secure.localPeer).length, 1, 'a full window is not an overrun')
      assert.equal(y.goAway, undefined)
      y.send(y.data(3, Buffer.from('!')))
      await violation(y, 'ERR_MUXER_PROTOCOL')
    })

    it('a window overrun of 64 KiB in one frame after 256 KiB: ERR_MUXER_PROTOCOL', async () => {
      const { y } = await connected()
      assert.equal(await y.open(3, STALL), 'agreed')
      for (let i = 0; i < 5; i++) y.send(y.data(3, Buffer.alloc(64 * KiB, 0x62)))
      await violation(y, 'ERR_MUXER_PROTOCOL')
    })

    it('a peer that never closes its side after the violation is cut off within 2 s', async () => {
      const { y, record } = await connected()
      y.send(rawFrame(4, 0, 0, 0))
      await y.secure.peer.waitClosed(AT_ONCE_MS)
      const started = performance.now()
      // Keep our side open: the node must not hold the socket for long.
      await Promise.race([record.closed, sleep(2000)])
      assert.ok(record.closedAt !== undefined, `the node's socket still open ${(performance.now() - started).toFixed(0)} ms after its GoAway`)
    })
  })

  describe('frames for streams that are gone are dropped', () => {
    it('Data for a stream never opened (no SYN, either parity) is discarded; the connection works', async () => {
      const { y } = await connected()
      y.send(y.data(101, Buffer.alloc(32 * KiB, 1)), y.data(1000, Buffer.alloc(32 * KiB, 2)), y.windowUpdate(103, 5000))
      await y.ping(5)
      assert.equal(y.goAway, undefined)
      const conn = t.node.getConnections(y.secure.localPeer)[0]
      await until(() => conn?.streams.length === 0, 2000, 'no stream left open on the node')
    })

    it('Data after the node reset the stream is discarded; the connection works', async () => {
      const { y } = await connected()
      // A 2 KiB protocol id makes the node reset the stream (ERR_MESSAGE_TOO_LARGE).
      assert.equal(await y.open(3, `/${'x'.repeat(2047)}`), 'reset')
      y.send(y.data(3, Buffer.alloc(200 * KiB, 3)), y.data(3, Buffer.from('late'), Flag.FIN))
      await y.ping(5)
      assert.equal(y.goAway, undefined)
    })

    it('Data after the sender\'s own FIN resets that stream only; the connection works', async () => {
      const { y } = await connected()
      assert.equal(await y.open(3, STALL), 'agreed')
      y.send(y.windowUpdate(3, 0, Flag.FIN), y.data(3, Buffer.from('after the FIN')))
      await y.waitReset(3)
      await y.ping(5)
      assert.equal(y.goAway, undefined)
    })

    it('a Window Update overflowing 2^32 on a live stream breaks nothing', async () => {
      const { y } = await connected()
      assert.equal(await y.open(3, '/ipfs/ping/1.0.0'), 'agreed')
      y.send(y.windowUpdate(3, 0xffffffff), y.windowUpdate(3, 0xffffffff), y.windowUpdate(3, 0xffffffff))
      const payload = Buffer.alloc(32, 9)
      y.send(y.data(3, payload))
      assert.ok((await y.inbox(3).read(32)).equals(payload))
      await y.ping(5)
      for (const f of y.frames) {
        if (f.header.type === FrameType.Data) assert.ok(f.header.length <= 64 * KiB)
      }
      assert.equal(y.goAway, undefined)
    })
  })

  describe('floods stay bounded', () => {
    it('a SYN flood of 10 000 streams, unread: extras reset, streams bounded, heap flat, all reset in the end', async (ctx) => {
      const { y } = await connected({ log: false })
      const conn = t.node.getConnections(y.secure.localPeer)[0]
      assert.ok(conn !== undefined)
      const before = heapUsed()
      y.secure.peer.socket.pause()
      const N = 10_000
      const frames: Uint8Array[] = []
      for (let i = 0; i < N; i++) frames.push(y.windowUpdate(3 + 2 * i, 0, Flag.SYN))
      y.send(...frames)
      let peak = 0
      const started = performance.now()
      while (performance.now() - started < 400) {
        peak = Math.max(peak, conn.streams.length)
        await sleep(20)
      }
      const during = heapUsed()
      // The default limits: 1024 open inbound streams (maxInboundStreams).
      assert.ok(peak > 0 && peak <= 1024, `peak of ${peak} streams`)
      assert.ok(during - before < 48 * MiB, `heap grew by ${((during - before) / MiB).toFixed(1)} MiB`)
      y.secure.peer.socket.resume()
      // Every stream is reset: refused at once, or at the negotiation timeout.
      await y.waitFor(() => y.counts.rst >= N, NEGOTIATION_TIMEOUT + 4000, `${N} resets (got ${y.counts.rst})`)
      await until(() => conn.streams.length === 0, 2000, 'every stream gone')
      await y.ping(3 + 2 * N)
      const afterwards = heapUsed()
      ctx.diagnostic(`peak ${peak} streams; heap +${((during - before) / MiB).toFixed(1)} MiB during, +${((afterwards - before) / MiB).toFixed(1)} MiB after; ${y.counts.rst} resets`)
      assert.ok(afterwards - before < 16 * MiB, `heap still ${((afterwards - before) / MiB).toFixed(1)} MiB above`)
    })

    it('a ping flood of 100 000 pings, unread: answers capped per flush, heap flat, connection alive', async (ctx) => {
      const { y } = await connected({ log: false })
      const before = heapUsed()
      const pongsBefore = y.counts.ping
      y.secure.peer.socket.pause()
      const N = 100_000
      const plaintext = Buffer.concat(Array.from({ length: N }, (_, i) => rawFrame(FrameType.Ping, Flag.SYN, 0, i)))
      let messages = 0
      for (let off = 0; off < plaintext.length; off += MAX_PLAINTEXT_LENGTH) {
        y.send(plaintext.subarray(off, off + MAX_PLAINTEXT_LENGTH))
        messages++
      }
      await sleep(500)
      const during = heapUsed()
      assert.ok(during - before < 32 * MiB, `heap grew by ${((during - before) / MiB).toFixed(1)} MiB`)
      y.secure.peer.socket.resume()
      await y.ping(3)
      const pongs = y.counts.ping - pongsBefore
      ctx.diagnostic(`${pongs} answers to ${N} pings in ${messages} Noise messages; heap +${((during - before) / MiB).toFixed(1)} MiB`)
      // At most MAX_PENDING_PONGS answers per flush, and at most one flush per
      // decrypted message (plus the node's own pings).
      assert.ok(pongs <= MAX_PENDING_PONGS * messages + 4, `${pongs} answers to ${N} pings in ${messages} messages`)
      assert.equal(y.goAway, undefined)
    })

    it('GoAway(0) then new SYNs: the SYNs are refused, the connection closes gracefully', async () => {
      const { y } = await connected()
      y.send(rawFrame(FrameType.GoAway, 0, 0, GoAwayCode.Normal), y.windowUpdate(3, 0, Flag.SYN), y.windowUpdate(5, 0, Flag.SYN))
      await y.waitReset(3)
      await y.waitReset(5)
      assert.equal(y.acks.has(3), false)
      const ms = await y.secure.peer.waitClosed(3000)
      assert.ok(ms < 3000)
      assert.equal(y.goAway, GoAwayCode.Normal)
      const close = t.closes.find((c) => c.connection.remotePeer.equals(y.secure.localPeer))
      assert.ok(close !== undefined)
      assert.equal(close.error, undefined)
      y.secure.peer.end()
    })
  })
})

describe('adversarial: yamux keep-alive against a peer that stops answering', () => {
  const INTERVAL = 200
  const TIMEOUT = 400
  const t = Target.suite({ streamMuxers: [yamux({ keepAliveInterval: INTERVAL, keepAliveTimeout: TIMEOUT })] })

  for (const [name, answer] of [
    ['never answers pings', undefined],
    ['answers pings with the wrong opaque value', (y: YamuxPeer, opaque: number) => { y.send(rawFrame(FrameType.Ping, Flag.ACK, 0, (opaque + 1) >>> 0)) }]
  ] as const) {
    it(`a peer that ${name}: ERR_KEEP_ALIVE_TIMEOUT, the connection destroyed`, async () => {
      const y = await connectYamux(t.port, { answerPings: false, onRemoteStream: 'reset' })
      const conn = await t.connectionTo(y.secure.localPeer)
      if (answer !== undefined) {
        const timer = setInterval(() => {
          for (const f of y.frames.splice(0)) {
            if (f.header.type === FrameType.Ping && (f.header.flags & Flag.SYN) !== 0) answer(y, f.header.length)
          }
        }, 20)
        y.secure.peer.closed.finally(() => { clearInterval(timer) }).catch(() => {})
      }
      const started = performance.now()
      await until(() => conn.status === 'closed', INTERVAL + TIMEOUT + 3000, 'the keep-alive to close the connection')
      const ms = performance.now() - started
      assert.ok(ms < INTERVAL + TIMEOUT + 1500, `closed after ${ms.toFixed(0)} ms`)
      expectCode(t.closes.find((c) => c.connection === conn)?.error, 'ERR_KEEP_ALIVE_TIMEOUT')
      await y.secure.peer.waitClosed(1000)
    })
  }
})

describe('adversarial: a new stream on a connection that went silent', () => {
  const STALE_AFTER = 100
  const PROBE = 300
  const t = Target.suite({
    streamMuxers: [yamux({ keepAliveInterval: 60_000, keepAliveTimeout: 120_000, staleAfter: STALE_AFTER })],
    timeouts: { livenessProbe: PROBE }
  })

  it('a silent peer that does not answer the probe: ERR_CONNECTION_STALE, no stream, the connection left to keep-alive', async () => {
    const y = await connectYamux(t.port, { answerPings: false, onRemoteStream: 'reset' })
    const conn = await t.connectionTo(y.secure.localPeer)
    await sleep(STALE_AFTER + 50)
    const before = conn.streams.length
    const started = performance.now()
    const err = await t.node.dialProtocol(y.secure.localPeer, '/echo/1.0.0').then(() => undefined, (e: unknown) => e)
    const ms = performance.now() - started
    expectCode(err, 'ERR_CONNECTION_STALE')
    assert.ok(ms >= PROBE - 20 && ms < PROBE + 1000, `failed after ${ms.toFixed(0)} ms`)
    assert.equal(conn.streams.length, before, 'no stream was opened')
    assert.equal(conn.status, 'open')
    assert.ok(y.frames.some((f) => f.header.type === FrameType.Ping && (f.header.flags & Flag.SYN) !== 0), 'the probe pinged')
    await conn.close()
  })

  it('a silent peer that answers the probe gets the stream', async () => {
    const y = await connectYamux(t.port, { onRemoteStream: 'reset' })
    const conn = await t.connectionTo(y.secure.localPeer)
    await sleep(STALE_AFTER + 50)
    const stream = await t.node.dialProtocol(y.secure.localPeer, '/echo/1.0.0')
    assert.equal(stream.connection, conn)
    stream.destroy()
    await conn.close()
  })
})
