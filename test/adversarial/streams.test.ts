/**
 * multistream-select on streams (`connections/README.md`, "Opening New Streams Over a
 * Connection") and the per-protocol inbound caps, against a hostile peer with a
 * correct connection to a real node.
 *
 * A stream that breaks the negotiation is reset (RST) with the connection left up;
 * one that stalls is reset at the stream negotiation timeout; streams past a
 * protocol's cap are reset once agreed. After every case the node is back to
 * baseline, serves a well-behaved peer, and raised no unhandled rejection.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { decodeLsResponse, encodeLsResponse, encodeMessage, encodeMessages, MAX_MESSAGE_LENGTH, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { MAX_PROPOSALS } from '../../src/negotiation/listener.js'
import { Flag } from '../../src/muxer/yamux/frame.js'
import { PING_MAX_INBOUND_STREAMS } from '../../src/protocols/ping.js'
import type { Connection, Stream } from '../../src/interfaces/connection.js'
import { expectCode, KiB, memoryInUse, MiB, parseMultistream, rejection, sleep, until } from '../helpers/hostile.js'
import { Target } from '../helpers/hostile-target.js'
import { connectYamux, type YamuxPeer } from '../helpers/hostile-yamux.js'

const NEGOTIATION_TIMEOUT = 800
const HOLD = '/adversarial/hold/1.0.0'
const HOLD_CAP = 3

describe('adversarial: multistream-select on streams', () => {
  const held: Stream[] = []
  const t = Target.suite({ timeouts: { streamNegotiation: NEGOTIATION_TIMEOUT } }, {
    settle: () => { for (const s of held.splice(0)) s.destroy() }
  })
  before(() => { t.node.handle(HOLD, (stream) => { held.push(stream) }, { maxInboundStreams: HOLD_CAP }) })

  async function connected (): Promise<YamuxPeer> {
    const y = await connectYamux(t.port, { onRemoteStream: 'reset' })
    await t.connectionTo(y.secure.localPeer)
    return y
  }

  /** The connection is still up and serves: a ping on a fresh stream. */
  async function stillUp (y: YamuxPeer, id: number): Promise<void> {
    await y.ping(id)
    assert.equal(y.goAway, undefined)
    assert.equal(t.node.getConnections(y.secure.localPeer).length, 1)
  }

  it('1000 proposals on one stream: reset after at most 32 answers, the connection stays', async () => {
    const y = await connected()
    const proposals = Array.from({ length: 1000 }, (_, i) => `/nope/${i}`)
    y.send(y.data(1, encodeMessages([PROTOCOL_ID, ...proposals]), Flag.SYN))
    await y.waitReset(1)
    const limit = encodeMessage(PROTOCOL_ID).byteLength + MAX_PROPOSALS * encodeMessage('na').byteLength
    assert.ok(y.inbox(1).total <= limit, `${y.inbox(1).total} bytes of answers, limit ${limit}`)
    await stillUp(y, 3)
  })

  it('an ls flood on a stream: reset after at most 32 answers, memory flat', async (ctx) => {
    const y = await connected()
    const before = memoryInUse()
    // 64 KiB of `ls` requests at a time, as fast as the window allows, never granting
    // window for the answers: each `ls` is 4 bytes and its answer the whole list.
    const ls = Buffer.from(encodeMessages(Array.from({ length: 16 * 1024 }, () => 'ls')))
    y.send(y.data(1, encodeMessage(PROTOCOL_ID), Flag.SYN))
    let sent = 0
    const started = performance.now()
    while (!y.resets.has(1) && performance.now() - started < 2000) {
      const room = Math.min(y.remaining(1), ls.byteLength)
      const n = room - (room % 4)
      if (n > 0) {
        y.send(y.data(1, ls.subarray(0, n)))
        sent += n
      }
      await sleep(n > 0 ? 1 : 20)
    }
    await y.waitReset(1)
    const growth = memoryInUse() - before
    ctx.diagnostic(`${(sent / KiB).toFixed(0)} KiB of ls sent, ${y.inbox(1).total} bytes answered; memory ${(growth / MiB).toFixed(1)} MiB`)
    assert.ok(growth < 16 * MiB, `memory grew by ${(growth / MiB).toFixed(1)} MiB for ${(sent / KiB).toFixed(0)} KiB of ls`)
    const list = encodeLsResponse(t.node.getProtocols()).byteLength
    const limit = encodeMessage(PROTOCOL_ID).byteLength + MAX_PROPOSALS * list
    assert.ok(y.inbox(1).total <= limit, `${y.inbox(1).total} bytes of answers, limit ${limit}`)
    await stillUp(y, 3)
  })

  it('a lazy dialer: header, proposal, data and FIN in one frame lose nothing', async () => {
    const y = await connected()
    const payload = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7))
    y.send(y.data(1, Buffer.concat([encodeMessages([PROTOCOL_ID, '/ipfs/ping/1.0.0']), payload]), Flag.SYN | Flag.FIN))
    assert.equal(await y.answer(1, '/ipfs/ping/1.0.0'), 'agreed')
    assert.ok((await y.inbox(1).read(32)).equals(payload))
    await y.waitFor(() => y.fins.has(1), 2000, 'the echo stream to finish')
    assert.equal(y.resets.has(1), false)
  })

  it('a 2 KiB protocol id: reset before it is read, the connection stays', async () => {
    const y = await connected()
    y.send(y.data(1, encodeMessage(PROTOCOL_ID), Flag.SYN), y.data(1, encodeMessage(`/${'a'.repeat(2 * 1024)}`)))
    await y.waitReset(1)
    await stillUp(y, 3)
  })

  it('a protocol id one byte over the limit is reset; one at the limit is answered na', async () => {
    const y = await connected()
    const atLimit = `/${'b'.repeat(MAX_MESSAGE_LENGTH - 2)}`
    assert.equal(await y.open(1, atLimit), 'na')
    y.send(y.data(3, encodeMessages([PROTOCOL_ID, `${atLimit}c`]), Flag.SYN))
    await y.waitReset(3)
    await stillUp(y, 5)
  })

  it('the header, then nothing: reset at the stream negotiation timeout', async () => {
    const y = await connected()
    const started = performance.now()
    y.send(y.data(1, encodeMessage(PROTOCOL_ID), Flag.SYN))
    assert.equal(await y.pull(1, parseMultistream, 'the header'), PROTOCOL_ID)
    await y.waitReset(1, NEGOTIATION_TIMEOUT + 3000)
    const ms = performance.now() - started
    assert.ok(ms >= NEGOTIATION_TIMEOUT - 100 && ms < NEGOTIATION_TIMEOUT + 1500, `reset after ${ms.toFixed(0)} ms`)
    await stillUp(y, 3)
  })

  it('a SYN and not a byte more: reset at the stream negotiation timeout', async () => {
    const y = await connected()
    y.send(y.windowUpdate(1, 0, Flag.SYN))
    await y.waitReset(1, NEGOTIATION_TIMEOUT + 3000)
    await stillUp(y, 3)
  })

  it('a half-close during the negotiation: the stream is cleaned up', async () => {
    const y = await connected()
    y.send(y.data(1, encodeMessage(PROTOCOL_ID), Flag.SYN | Flag.FIN))
    await y.waitFor(() => y.resets.has(1) || y.fins.has(1), 2000, 'the node to finish stream 1')
    const conn = t.node.getConnections(y.secure.localPeer)[0]
    await until(() => conn?.streams.length === 0, 2000, 'no stream left on the node')
    await stillUp(y, 3)
  })

  it('"na" and the header are not protocols; "ls" is answered with the handlers', async () => {
    const y = await connected()
    y.send(y.data(1, encodeMessages([PROTOCOL_ID, 'na', PROTOCOL_ID, 'ls']), Flag.SYN))
    const header = await y.pull(1, parseMultistream, 'header')
    assert.equal(header, PROTOCOL_ID)
    assert.equal(await y.pull(1, parseMultistream, 'answer to na'), 'na')
    assert.equal(await y.pull(1, parseMultistream, 'answer to the header'), 'na')
    const list = decodeLsResponse(Buffer.from(await y.pull(1, parseMultistream, 'answer to ls')))
    assert.ok(list.includes(HOLD) && list.includes('/ipfs/ping/1.0.0'), `ls answered ${list.join(', ')}`)
    y.send(y.windowUpdate(1, 0, Flag.RST))
    await stillUp(y, 3)
  })

  it(`more ping streams than the cap of ${PING_MAX_INBOUND_STREAMS}: the extra one is reset, a freed slot is reused`, async () => {
    const y = await connected()
    assert.equal(await y.open(1, '/ipfs/ping/1.0.0'), 'agreed')
    assert.equal(await y.open(3, '/ipfs/ping/1.0.0'), 'agreed')
    await y.open(5, '/ipfs/ping/1.0.0')
    await y.waitReset(5)
    assert.equal(y.resets.has(1) || y.resets.has(3), false)
    // Closing one frees its slot.
    y.send(y.windowUpdate(1, 0, Flag.FIN))
    await y.waitFor(() => y.fins.has(1), 2000, 'the node to finish stream 1')
    await y.ping(7)
  })

  it(`50 streams of a protocol capped at ${HOLD_CAP}, at once: exactly ${HOLD_CAP} reach the handler`, async () => {
    const y = await connected()
    const frames = Array.from({ length: 50 }, (_, i) => y.data(1 + 2 * i, encodeMessages([PROTOCOL_ID, HOLD]), Flag.SYN))
    y.send(...frames)
    await y.waitFor(() => y.resets.size >= 50 - HOLD_CAP, 3000, `${50 - HOLD_CAP} resets (got ${y.resets.size})`)
    assert.equal(held.length, HOLD_CAP)
    assert.equal(y.resets.size, 50 - HOLD_CAP)
    await stillUp(y, 101)
  })
})

describe('adversarial: the node opens streams to a hostile peer', () => {
  const t = Target.suite({ timeouts: { streamNegotiation: NEGOTIATION_TIMEOUT } })

  /** A hostile peer that answers every stream the node opens (after its header) with `answer`. */
  async function answering (answer: Uint8Array | undefined): Promise<{ y: YamuxPeer, conn: Connection }> {
    const y = await connectYamux(t.port, {
      onRemoteStream: (id, peer) => {
        if (answer !== undefined) peer.send(peer.data(id, answer, Flag.ACK))
      }
    })
    return { y, conn: await t.connectionTo(y.secure.localPeer) }
  }

  it('no answer to a non-lazy negotiation: ERR_TIMEOUT at the stream negotiation timeout, the stream reset', async () => {
    const { y, conn } = await answering(undefined)
    const started = performance.now()
    expectCode(await rejection(conn.newStream(['/a/1.0.0', '/b/1.0.0']), NEGOTIATION_TIMEOUT + 3000), 'ERR_TIMEOUT')
    const ms = performance.now() - started
    assert.ok(ms >= NEGOTIATION_TIMEOUT - 100 && ms < NEGOTIATION_TIMEOUT + 1500, `failed after ${ms.toFixed(0)} ms`)
    await y.waitFor(() => y.resets.size > 0, 2000, 'the stream reset')
  })

  it('na to every proposal: ERR_UNSUPPORTED_PROTOCOL', async () => {
    const { conn } = await answering(encodeMessages([PROTOCOL_ID, 'na', 'na']))
    expectCode(await rejection(conn.newStream(['/a/1.0.0', '/b/1.0.0'])), 'ERR_UNSUPPORTED_PROTOCOL')
  })

  it('an answer naming another protocol: ERR_NEGOTIATION_FAILED', async () => {
    const { conn } = await answering(encodeMessages([PROTOCOL_ID, '/evil/1.0.0']))
    expectCode(await rejection(conn.newStream(['/a/1.0.0', '/b/1.0.0'])), 'ERR_NEGOTIATION_FAILED')
  })

  it('a 2 KiB answer: ERR_MESSAGE_TOO_LARGE', async () => {
    const { conn } = await answering(Buffer.concat([encodeMessage(PROTOCOL_ID), encodeMessage(`/${'z'.repeat(2048)}`)]))
    expectCode(await rejection(conn.newStream(['/a/1.0.0', '/b/1.0.0'])), 'ERR_MESSAGE_TOO_LARGE')
  })

  it('a lazy stream answered with na fails on its next read with ERR_UNSUPPORTED_PROTOCOL', async () => {
    const { conn } = await answering(encodeMessages([PROTOCOL_ID, 'na']))
    const stream = await conn.newStream('/a/1.0.0')
    stream.write('early data')
    const err = await rejection(new Promise((resolve, reject) => {
      stream.once('error', reject)
      stream.once('end', resolve)
      stream.resume()
    }))
    expectCode(err, 'ERR_UNSUPPORTED_PROTOCOL')
  })
})
