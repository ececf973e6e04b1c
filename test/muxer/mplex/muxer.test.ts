/**
 * The mplex driver against a raw peer (the other end of a memory channel, speaking
 * messages by hand) and against itself: wire layout, coalescing, hostile input, the
 * two policies for a stalled reader, and the API edge.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { encodeFrame, Flag, FrameDecoder } from '../../../src/muxer/mplex/frame.js'
import { mplex, MplexMuxer, type MplexStream } from '../../../src/muxer/mplex/index.js'
import { MAX_QUEUED_DATA, resolveOptions, type MplexOptions } from '../../../src/muxer/mplex/config.js'
import { MemoryChannel } from '../../../src/transport/memory-channel.js'
import type { MuxedStream, StreamMuxerInit } from '../../../src/interfaces/muxer.js'
import { codes, isLp2pError } from '../../../src/errors.js'
import { rawPeerOf, type RawPeer as RawPeerOf } from '../raw-peer.js'
import { assertStillFlowing, connect } from '../muxer-pair.js'
import { closedWith, readAll, resumeAndReceiveAll, sha256, writeAll, writeUntilReset, writeUntilStalled } from '../stream-io.js'
import { tick } from '../../helpers/channel.js'

const KiB = 1024
const { NewStream, MessageReceiver: MsgR, MessageInitiator: MsgI, CloseReceiver: CloseR, CloseInitiator: CloseI, ResetReceiver: ResetR, ResetInitiator: ResetI } = Flag

const msg = (flag: number, id: number, body: Uint8Array | string = new Uint8Array(0)): Uint8Array =>
  encodeFrame(flag, id, typeof body === 'string' ? Buffer.from(body) : body)

interface Seen { flag: number, id: number, body: string }

function decode (bytes: Uint8Array): Seen[] {
  const d = new FrameDecoder(1 << 30)
  d.push(bytes)
  const out: Seen[] = []
  for (let ev = d.next(); ev !== undefined; ev = d.next()) {
    if (ev instanceof Uint8Array) (out[out.length - 1] as Seen).body += Buffer.from(ev).toString('latin1')
    else out.push({ flag: ev.flag, id: ev.streamId, body: '' })
  }
  return out
}

type RawPeer = RawPeerOf<MplexMuxer, Seen>

/** Our muxer on one end; the test speaks raw mplex on the other. */
function rawPeer (direction: 'inbound' | 'outbound', options: MplexOptions = {}, channelHwm?: number): RawPeer {
  return rawPeerOf((ours, init) => new MplexMuxer(ours, init, resolveOptions(options)), decode, {
    direction,
    channelHwm,
    onInbound: (s) => { s.on('error', () => {}) } // tests that expect an error look at it with closedWith()
  })
}

describe('mplex driver: wire', () => {
  it('sends NewStream (named with the id), data with the Initiator flag and Close, in one writev', async () => {
    const p = rawPeer('outbound')
    const writes: number[] = []
    const writev = p.ours.writev.bind(p.ours)
    p.ours.writev = (chunks) => { writes.push(chunks.length); return writev(chunks) }
    const s = p.muxer.newStream()
    assert.equal(s.id, 'd0')
    s.write('hel')
    await Promise.resolve()
    s.end('lo')
    await tick(2)
    assert.equal(writes.length, 1, 'one writev for the turn')
    assert.deepEqual(p.sent(), [
      { flag: NewStream, id: 0, body: '0' },
      { flag: MsgI, id: 0, body: 'hel' },
      { flag: MsgI, id: 0, body: 'lo' },
      { flag: CloseI, id: 0, body: '' }
    ])
    p.raw.write(msg(MsgR, 0, 'reply'))
    p.raw.write(msg(CloseR, 0))
    assert.equal((await readAll(s)).toString(), 'reply')
    assert.equal(await closedWith(s), undefined)
    assert.equal(p.muxer.streams.length, 0)
    p.muxer.abort(new Error('done'))
  })

  it('accepts the remote\'s streams and answers with the Receiver flags', async () => {
    const p = rawPeer('inbound')
    p.raw.write(Buffer.concat([msg(NewStream, 5, 'go-style name'), msg(MsgI, 5, 'ping')]))
    await tick(2)
    const s = p.inbound[0] as MplexStream
    assert.equal(s.id, 'd5', 'opened by the dialer (the raw peer)')
    assert.equal(s.direction, 'inbound')
    assert.equal(s.name, 'go-style name')
    assert.equal(s.streamId, 5)
    s.end('pong')
    p.raw.write(msg(CloseI, 5))
    assert.equal((await readAll(s)).toString(), 'ping')
    await tick(2)
    assert.deepEqual(p.sent(), [{ flag: MsgR, id: 5, body: 'pong' }, { flag: CloseR, id: 5, body: '' }])
    assert.equal(await closedWith(s), undefined)
    p.muxer.abort(new Error('done'))
  })

  it('splits writes into messages of at most sendMessageSize', async () => {
    const p = rawPeer('outbound', { sendMessageSize: 1000 })
    const s = p.muxer.newStream()
    s.end(new Uint8Array(2500))
    await tick(3)
    assert.deepEqual(p.sent().map((m) => [m.flag, m.body.length]), [[NewStream, 1], [MsgI, 1000], [MsgI, 1000], [MsgI, 500], [CloseI, 0]])
    p.muxer.abort(new Error('done'))
    await closedWith(s)
  })

  it('resets with the flag of the stream\'s side; a remote Reset destroys with ERR_STREAM_RESET', async () => {
    const p = rawPeer('outbound')
    const a = p.muxer.newStream()
    a.destroy()
    p.raw.write(msg(NewStream, 0))
    await tick(2)
    const b = p.inbound[0] as MuxedStream
    assert.equal(b.id, 'l0', 'the listener\'s stream 0, distinct from our d0')
    const bClosed = closedWith(b)
    p.raw.write(msg(ResetI, 0))
    assert.ok(isLp2pError(await bClosed, codes.ERR_STREAM_RESET))
    const c = p.muxer.newStream()
    p.raw.write(msg(NewStream, 1))
    await tick(2)
    ;(p.inbound[1] as MuxedStream).destroy()
    await tick(2)
    assert.deepEqual(p.sent().map((m) => `${m.flag}:${m.id}`), [`${NewStream}:0`, `${ResetI}:0`, `${NewStream}:1`, `${ResetR}:1`])
    c.destroy()
    p.muxer.abort(new Error('done'))
  })
})

describe('mplex driver: hostile input', () => {
  for (const [what, bytes, code] of [
    ['a length over the limit', Buffer.from('0a8180' + '40', 'hex'), codes.ERR_MESSAGE_TOO_LARGE],
    ['flag 7', Buffer.from('0f00', 'hex'), codes.ERR_MUXER_PROTOCOL],
    ['a varint beyond 2^53', Buffer.from('feffffffffffffff0100', 'hex'), codes.ERR_INVALID_VARINT],
    ['NewStream for an open stream', Buffer.concat([msg(NewStream, 1), msg(NewStream, 1)]), codes.ERR_MUXER_PROTOCOL]
  ] as const) {
    it(`fails the connection on ${what}, destroying every stream with the error`, async () => {
      const p = rawPeer('inbound')
      const s = p.muxer.newStream()
      const sClosed = closedWith(s)
      p.raw.write(bytes)
      const err = await p.closed
      assert.ok(isLp2pError(err, code), `got ${String(err)}`)
      assert.equal(await sClosed, err)
      assert.equal(p.muxer.status, 'closed')
      await p.seen.closedP
      assert.throws(() => p.muxer.newStream(), (e: unknown) => isLp2pError(e, codes.ERR_MUXER_CLOSED))
    })
  }

  it('ignores messages for unknown streams and stays usable', async () => {
    const p = rawPeer('inbound')
    p.raw.write(Buffer.concat([msg(MsgR, 9, randomBytes(5000)), msg(MsgI, 3, 'x'), msg(CloseR, 4), msg(ResetI, 8), msg(CloseI, 1, 'body')]))
    p.raw.write(Buffer.concat([msg(NewStream, 0), msg(MsgI, 0, 'fine')]))
    await tick(3)
    assert.equal(p.inbound.length, 1)
    const s = p.inbound[0] as MuxedStream
    p.raw.write(msg(CloseI, 0))
    assert.equal((await readAll(s)).toString(), 'fine')
    assert.equal(p.muxer.status, 'open')
    p.muxer.abort(new Error('done'))
  })

  it('refuses a NewStream flood beyond the limit, and stops reading a flooder that does not read our answers', async () => {
    const p = rawPeer('inbound', { maxInboundStreams: 4 }, 16 * KiB)
    p.raw.pause() // the flooder never reads what we send
    let id = 0
    const batch = (): Uint8Array[] => Array.from({ length: 1000 }, () => msg(NewStream, id++))
    // Without the input pause this would go on forever (each refusal queues a Reset).
    let paused = false
    for (let round = 0; round < 100 && !paused; round++) {
      p.raw.writev(batch())
      await tick(1)
      paused = p.ours.heldBytes > 0
    }
    assert.ok(paused, `still reading after ${id} NewStream messages`)
    // The flooder now sees backpressure: what we hold is bounded by its channel.
    let refused = false
    for (let round = 0; round < 20 && !refused; round++) refused = !p.raw.writev(batch())
    assert.ok(refused, 'the flooder sees backpressure')
    await tick(5)
    assert.ok(p.ours.heldBytes <= 16 * KiB + 4 * KiB, `holding ${p.ours.heldBytes}`)
    assert.equal(p.inbound.length, 4)
    assert.equal(p.muxer.streams.length, 4)
    // Once the flooder reads our answers, we read again and refuse every extra stream.
    p.raw.resume()
    for (let i = 0; i < 100 && p.seen.bytes().byteLength < (id - 4) * 3; i++) await tick(1)
    await tick(5)
    assert.equal(p.ours.heldBytes, 0)
    const sent = p.sent()
    assert.equal(sent.length, id - 4)
    assert.ok(sent.every((m) => m.flag === ResetR && m.id >= 4))
    assert.equal(p.muxer.status, 'open')
    p.muxer.abort(new Error('done'))
  })

  it('closes the streams with ERR_CONNECTION_CLOSED when the remote ends the connection under them', async () => {
    const p = rawPeer('outbound')
    const s = p.muxer.newStream()
    const sClosed = closedWith(s)
    p.raw.end()
    assert.ok(isLp2pError(await sClosed, codes.ERR_CONNECTION_CLOSED))
    assert.ok(isLp2pError(await p.closed, codes.ERR_CONNECTION_CLOSED))
  })
})

describe('mplex driver: a reader that stops reading', () => {
  it('reset-stream: the stalled stream is reset at the limit, memory stays bounded, others flow', async () => {
    const limit = 128 * KiB
    const p = connect(mplex({ maxStreamBufferSize: limit }))
    const w = p.dialer.newStream()
    w.write('x')
    const r = await p.nextInbound()
    r.pause()
    const rClosed = closedWith(r)
    const wClosed = closedWith(w)
    // The writer writes as fast as the connection takes it: mplex cannot slow it down.
    const { written, maxHeld } = await writeUntilReset(w, r, 64 * limit)
    const rErr = await rClosed
    assert.ok(isLp2pError(rErr, codes.ERR_STREAM_BUFFER_FULL), `reader: ${String(rErr)}`)
    assert.ok(isLp2pError(await wClosed, codes.ERR_STREAM_RESET), 'the writer sees a reset')
    assert.ok(maxHeld <= limit, `the reader held ${maxHeld} > ${limit}`)
    assert.ok(written < 64 * limit)
    // The connection and its other streams are unaffected.
    await assertStillFlowing(p)
    await p.dialer.close()
  })

  it('block: the writer stalls, memory stays bounded, the whole connection waits; then everything arrives', async () => {
    const limit = 128 * KiB
    const p = connect(mplex({ maxStreamBufferSize: limit, streamBufferPolicy: 'block' }))
    const total = 2 * 1024 * KiB
    const data = randomBytes(total)
    const chunk = 16 * KiB
    const w = p.dialer.newStream()
    w.write(data.subarray(0, chunk))
    const r = await p.nextInbound()
    r.pause()
    const { written, stalled } = await writeUntilStalled(w, data, chunk)
    assert.ok(stalled, 'the writer was stalled')
    await tick(20)
    assert.ok(r.readableLength <= limit, `reader holds ${r.readableLength}`)
    // What the paused connection holds: the channel's in-flight bound (64 KiB) plus
    // what the mplex decoder kept of the chunk being processed.
    const [dialerCh, listenerCh] = p.channels
    // in flight up to the channel's 64 KiB, plus the last flush (MAX_QUEUED_DATA and
    // at most one more message of 64 KiB).
    assert.ok(listenerCh.heldBytes <= 64 * KiB + MAX_QUEUED_DATA + 64 * KiB + KiB, `channel holds ${listenerCh.heldBytes}`)
    assert.ok(w.writableLength <= w.writableHighWaterMark + chunk)
    void dialerCh
    // Head-of-line blocking: a new stream's NewStream waits behind the stalled data.
    const other = p.dialer.newStream()
    other.end('behind the stalled reader')
    const otherIn = p.nextInbound()
    const early = await Promise.race([otherIn.then(() => true), tick(20).then(() => false)])
    assert.equal(early, false, 'the other stream cannot arrive while the connection is blocked')
    // The reader resumes: everything arrives, in order, and so does the other stream.
    await resumeAndReceiveAll(r, w, data, written, chunk)
    await assertStillFlowing(p, otherIn, other, 'behind the stalled reader')
    r.end()
    await readAll(w)
    await p.dialer.close()
  })

  it('block: close() behind a stalled reader finishes when the reader gives up, or at once with abort()', async () => {
    for (const giveUp of ['destroy', 'abort'] as const) {
      const p = connect(mplex({ maxStreamBufferSize: 4 * KiB, streamBufferPolicy: 'block' }))
      const w = p.dialer.newStream()
      const wClosed = closedWith(w)
      w.write(randomBytes(64 * KiB))
      const r = await p.nextInbound()
      const rClosed = closedWith(r)
      r.pause()
      await tick(5)
      assert.equal(r.readableLength, 4 * KiB, 'the listener is blocked on r')
      let closed = false
      const closing = p.listener.close().then(() => { closed = true })
      await tick(5)
      assert.equal(closed, false)
      if (giveUp === 'destroy') {
        r.destroy()
        await closing
        assert.equal(await rClosed, undefined)
        assert.ok(isLp2pError(await wClosed, codes.ERR_STREAM_RESET))
        assert.equal(await p.listenerClosed, undefined)
      } else {
        const boom = new Error('give up')
        p.listener.abort(boom)
        await closing
        assert.equal(await rClosed, boom)
        assert.ok(isLp2pError(await wClosed, codes.ERR_CONNECTION_CLOSED))
      }
      assert.equal(p.listener.status, 'closed')
    }
  })

  it('block: bytes an inbound interceptor consumes count as read', async () => {
    const p = connect(mplex({ maxStreamBufferSize: 4 * KiB, streamBufferPolicy: 'block' }))
    const w = p.dialer.newStream()
    w.write('x')
    const r = await p.nextInbound()
    let intercepted = 0
    r.setInboundInterceptor((c) => {
      if (c === null) return new Uint8Array(0)
      intercepted += c.byteLength
      return undefined
    })
    r.pause()
    const data = randomBytes(256 * KiB)
    w.end(data)
    await once(w, 'finish')
    for (let i = 0; i < 50 && intercepted < data.byteLength; i++) await tick(1)
    assert.equal(intercepted, data.byteLength, 'never blocked: the interceptor read everything')
    const closed = [closedWith(w), closedWith(r)]
    await p.dialer.close({ signal: AbortSignal.abort() })
    await Promise.all(closed)
  })
})

describe('mplex: API edge', () => {
  it('validates options with TypeError / RangeError', () => {
    assert.throws(() => mplex({ maxMessageSize: '1' as unknown as number }), TypeError)
    assert.throws(() => mplex({ sendMessageSize: 2 * 1024 * KiB }), RangeError)
    assert.throws(() => mplex({ sendMessageSize: 0 }), RangeError)
    assert.throws(() => mplex({ maxMessageSize: 100 }), RangeError)
    assert.throws(() => mplex({ maxStreamBufferSize: 0 }), RangeError)
    assert.throws(() => mplex({ maxInboundStreams: -1 }), RangeError)
    assert.throws(() => mplex({ maxInboundStreams: 1.5 }), RangeError)
    assert.throws(() => mplex({ streamBufferPolicy: 'drop' as 'block' }), RangeError)
    assert.throws(() => mplex(null as unknown as MplexOptions), TypeError)
    assert.equal(mplex().protocol, '/mplex/6.7.0')
    const [a] = MemoryChannel.pair()
    assert.throws(() => mplex().createStreamMuxer(a, null as unknown as StreamMuxerInit), TypeError)
    assert.throws(() => mplex().createStreamMuxer(a, { direction: 'up' as 'inbound', onIncomingStream: () => {} }), RangeError)
    assert.throws(() => mplex().createStreamMuxer(a, { direction: 'inbound' } as unknown as StreamMuxerInit), TypeError)
  })

  it('throws ERR_TOO_MANY_STREAMS at maxOutboundStreams', async () => {
    const p = rawPeer('outbound', { maxOutboundStreams: 2 })
    const closed = [closedWith(p.muxer.newStream()), closedWith(p.muxer.newStream())]
    assert.throws(() => p.muxer.newStream(), (e: unknown) => isLp2pError(e, codes.ERR_TOO_MANY_STREAMS))
    p.muxer.abort(new Error('done'))
    await Promise.all(closed)
  })
})
