/**
 * The QUIC transport in whole nodes on loopback: the same Connection and streams as
 * over TCP (events, lazy stream negotiation, handler caps, identify), the identity
 * check (`/p2p/` mismatch), AbortSignal and handshake timeout, stream limits, idle
 * timeout and keep-alive, listener close, and the key types the engine takes.
 * Skipped, with the reason, where the engine is not installed (see no-engine.test.ts
 * for that case).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { codes, isLp2pError } from '../../../src/errors.js'
import { generateKeyPair, peerIdFromPrivateKey } from '../../../src/identity/index.js'
import { createNode, type Lp2pNode } from '../../../src/node.js'
import type { NodeOptions } from '../../../src/node-options.js'
import { ECHO_PROTOCOL, handleEcho } from '../../../src/protocols/echo.js'
import { quic, QUIC_PROTOCOL, type QuicOptions } from '../../../src/transport/quic/index.js'
import type { UpgradedConnection } from '../../../src/interfaces/transport.js'
import { tcp } from '../../../src/transport/tcp.js'
import { nextEvent, readAll } from '../../helpers/nodes.js'
import { tick } from '../../helpers/channel.js'
import { quicUnavailable } from './quic-pair.js'

const skip = quicUnavailable()
const LISTEN = '/ip4/127.0.0.1/udp/0/quic-v1'

async function quicNode (options: NodeOptions = {}, quicOptions: QuicOptions = {}): Promise<Lp2pNode> {
  const node = createNode({ transports: [quic(quicOptions), tcp()], listen: [LISTEN], ...options })
  await node.start()
  return node
}

function quicAddrOf (node: Lp2pNode): Multiaddr {
  const a = node.getMultiaddrs().find((m) => m.toString().includes('/quic-v1'))
  assert.ok(a !== undefined, 'the node listens on QUIC')
  return a
}

describe('QUIC transport', { skip, timeout: 60_000 }, () => {
  it('connects two nodes: port 0 reports the real port, one Connection with /quic-v1, events, echo, ping, identify', async () => {
    const a = await quicNode()
    const b = await quicNode({ listen: [] })
    a.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) })
    const addr = quicAddrOf(a)
    assert.notEqual(addr.getComponents()[1]?.value, '0')
    const events: string[] = []
    for (const ev of ['connection:open', 'peer:connect', 'stream:open', 'stream:close', 'connection:close', 'peer:disconnect'] as const) {
      a.on(ev, () => { events.push(`a:${ev}`) })
      b.on(ev, () => { events.push(`b:${ev}`) })
    }
    const identified = nextEvent(b, 'peer:identify')
    const stream = await b.dialProtocol(addr, ECHO_PROTOCOL)
    const conn = stream.connection
    assert.equal(conn.encryption, QUIC_PROTOCOL)
    assert.equal(conn.multiplexer, QUIC_PROTOCOL)
    assert.equal(conn.direction, 'outbound')
    assert.ok(conn.remotePeer.equals(a.peerId))
    assert.ok(conn.remotePublicKey?.equals(a.privateKey.publicKey), 'an Ed25519 id inlines the key')
    assert.equal(conn.remoteAddr.toString(), addr.decapsulateCode(421).toString())
    stream.end('hello over QUIC')
    assert.equal((await readAll(stream)).toString(), 'hello over QUIC')
    assert.ok(await b.ping(a.peerId) >= 0)
    const [result] = await identified
    assert.ok(result.listenAddrs.some((m) => m.toString().includes('/quic-v1')))
    assert.equal(a.getConnections()[0]?.direction, 'inbound')
    assert.equal(a.getConnections()[0]?.encryption, QUIC_PROTOCOL)
    const gone = nextEvent(a, 'peer:disconnect')
    await b.hangUp(a.peerId)
    await gone
    await Promise.all([a.stop(), b.stop()])
    for (const e of ['a:connection:open', 'b:connection:open', 'a:peer:connect', 'b:peer:connect', 'a:stream:open', 'b:stream:open', 'a:stream:close', 'b:stream:close', 'a:connection:close', 'b:connection:close', 'a:peer:disconnect', 'b:peer:disconnect']) {
      assert.ok(events.includes(e), `missing ${e} in ${events.join(' ')}`)
    }
  })

  it('closes gracefully: the remote sees a clean close, no error', async () => {
    // No identify: its streams, opened by both sides at connect, would still be open.
    const a = await quicNode({ identify: false })
    const b = await quicNode({ listen: [], identify: false })
    const closed = nextEvent(a, 'connection:close')
    const conn = await b.dial(quicAddrOf(a))
    await conn.close()
    const [, err] = await closed
    assert.equal(err, undefined)
    await Promise.all([a.stop(), b.stop()])
  })

  it('fails with ERR_UNEXPECTED_PEER when the /p2p/ id is not the peer the certificate proves', async () => {
    const a = await quicNode()
    const b = await quicNode({ listen: [] })
    const other = peerIdFromPrivateKey(generateKeyPair('Ed25519'))
    const wrong = quicAddrOf(a).decapsulateCode(421).encapsulate(`/p2p/${other.toString()}`)
    await assert.rejects(b.dial(wrong), (e: unknown) => isLp2pError(e, codes.ERR_UNEXPECTED_PEER))
    assert.equal(b.getConnections().length, 0)
    await Promise.all([a.stop(), b.stop()])
  })

  it('negotiates each stream lazily with one protocol, and refuses an unhandled one', async () => {
    const a = await quicNode()
    const b = await quicNode({ listen: [] })
    a.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) })
    const conn = await b.dial(quicAddrOf(a))
    // Lazy: returned before the answer; a refusal surfaces on the stream.
    const s = await conn.newStream('/not/handled/1.0.0')
    const err = await new Promise<Error>((resolve) => { s.once('error', resolve); s.resume() })
    assert.ok(isLp2pError(err, codes.ERR_UNSUPPORTED_PROTOCOL) || isLp2pError(err, codes.ERR_NEGOTIATION_FAILED), `got ${String(err)}`)
    // Several candidates: multistream-select waits for the answer.
    const t = await conn.newStream(['/not/handled/1.0.0', ECHO_PROTOCOL])
    assert.equal(t.protocol, ECHO_PROTOCOL)
    t.end('x')
    assert.equal((await readAll(t)).toString(), 'x')
    await Promise.all([a.stop(), b.stop()])
  })

  it('applies per-protocol inbound caps and the outbound stream limit', async () => {
    const a = await quicNode()
    const b = await quicNode({ listen: [] }, { maxOutboundStreams: 3 })
    const held: Array<{ end: () => void }> = []
    a.handle('/hold/1.0.0', (s) => { held.push(s) }, { maxInboundStreams: 2 })
    const conn = await b.dial(quicAddrOf(a))
    const streams = await Promise.all([0, 1, 2].map(async () => await conn.newStream('/hold/1.0.0')))
    for (const s of streams) s.write('x')
    // The third inbound stream is over the handler's cap: reset.
    const errors = await Promise.all(streams.map(async (s) => await new Promise<Error | undefined>((resolve) => {
      s.once('error', resolve)
      setTimeout(() => { resolve(undefined) }, 1000).unref()
    })))
    assert.equal(errors.filter((e) => isLp2pError(e, codes.ERR_STREAM_RESET)).length, 1)
    // Our own limit: a fourth outbound stream while three are open.
    const open = conn.streams.length
    if (open >= 3) await assert.rejects(conn.newStream('/hold/1.0.0'), (e: unknown) => isLp2pError(e, codes.ERR_TOO_MANY_STREAMS))
    await Promise.all([a.stop(), b.stop()])
  })

  it('lets the remote open no more than maxInboundStreams at once: the rest wait for credit', async () => {
    const a = await quicNode({ identify: false }, { maxInboundStreams: 4 })
    const b = await quicNode({ listen: [], identify: false })
    let arrived = 0
    let concurrent = 0
    let most = 0
    const waiting: Array<() => void> = []
    a.handle('/slow/1.0.0', (s) => {
      arrived++
      most = Math.max(most, ++concurrent)
      waiting.push(() => { concurrent--; s.end() })
      s.resume()
    }, { maxInboundStreams: 64 })
    const conn = await b.dial(quicAddrOf(a))
    const streams = Array.from({ length: 10 }, async () => {
      const s = await conn.newStream('/slow/1.0.0')
      s.end('go')
      return await readAll(s)
    })
    const until = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 500 && !cond(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await until(() => arrived === 4)
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(arrived, 4, 'no fifth stream before one closed')
    while (arrived < 10 || waiting.length > 0) {
      waiting.shift()?.()
      const before = arrived
      await until(() => arrived > before || waiting.length > 0 || arrived === 10)
    }
    await Promise.all(streams)
    assert.equal(most, 4)
    await Promise.all([a.stop(), b.stop()])
  })

  it('honours an aborted signal, and times out a handshake with a silent UDP port', async () => {
    const b = await quicNode({ listen: [] }, { handshakeTimeout: 300 })
    const silent = dgram.createSocket('udp4')
    silent.bind(0, '127.0.0.1')
    await once(silent, 'listening')
    const target = multiaddr(`/ip4/127.0.0.1/udp/${silent.address().port}/quic-v1`)
    const ac = new AbortController()
    ac.abort()
    await assert.rejects(b.dial(target, { signal: ac.signal }), (e: unknown) => isLp2pError(e, codes.ERR_ABORTED))
    const started = Date.now()
    await assert.rejects(b.dial(target), (e: unknown) => isLp2pError(e, codes.ERR_TIMEOUT))
    assert.ok(Date.now() - started < 10_000)
    silent.close()
    await b.stop()
  })

  it('closes an idle connection at the idle timeout without keep-alive, and keeps it with keep-alive', async () => {
    const quiet = { maxIdleTimeout: 400, keepAliveInterval: 0 }
    const a = await quicNode({ identify: false }, quiet)
    const b = await quicNode({ listen: [], identify: false }, quiet)
    const closed = nextEvent(b, 'connection:close')
    await b.dial(quicAddrOf(a))
    const [, err] = await closed
    assert.equal(err, undefined, 'an idle close with no stream open is not an error')

    const alive = { maxIdleTimeout: 400, keepAliveInterval: 100 }
    const c = await quicNode({ identify: false }, alive)
    const d = await quicNode({ listen: [], identify: false }, alive)
    const conn = await d.dial(quicAddrOf(c))
    await new Promise((resolve) => setTimeout(resolve, 1200))
    assert.equal(conn.status, 'open', 'keep-alive kept it open for three idle timeouts')
    await Promise.all([a.stop(), b.stop(), c.stop(), d.stop()])
  })

  it('a closed listener accepts no more, and connections it accepted stay up', async () => {
    const server = quic({ privateKey: generateKeyPair('Ed25519') })
    const client = quic({ privateKey: generateKeyPair('Ed25519'), handshakeTimeout: 1000 })
    const accepted: UpgradedConnection[] = []
    const listener = server.createListener({ onConnection: (c) => { accepted.push(c) } })
    await listener.listen(multiaddr(LISTEN))
    const addr = listener.getAddrs()[0] as Multiaddr
    const out = await client.dial(addr)
    for (let i = 0; i < 200 && accepted.length === 0; i++) await tick(5)
    const inb = accepted[0] as UpgradedConnection
    const echo = inb.createMuxer({ direction: 'inbound', onIncomingStream: (s) => { s.pipe(s) } })
    const muxer = out.createMuxer({ direction: 'outbound', onIncomingStream: () => {} })
    await listener.close()
    assert.deepEqual(listener.getAddrs(), [])
    const s = muxer.newStream()
    s.end('still up')
    assert.equal((await readAll(s)).toString(), 'still up')
    // A new handshake is not handed over: refused at once, or closed right after.
    const late = await client.dial(addr).catch((e: unknown) => e as Error)
    assert.equal(accepted.length, 1)
    if (!(late instanceof Error)) {
      const m = late.createMuxer({ direction: 'outbound', onIncomingStream: () => {} })
      for (let i = 0; i < 400 && m.status !== 'closed'; i++) await tick(5)
      assert.equal(m.status, 'closed')
    }
    await muxer.close()
    echo.abort(new Error('done'))
  })

  it('takes Ed25519, secp256k1 and RSA identities; an ECDSA one fails clearly', async () => {
    const a = await quicNode({ privateKey: generateKeyPair('RSA') })
    const b = await quicNode({ listen: [], privateKey: generateKeyPair('secp256k1') })
    const identified = nextEvent(b, 'peer:identify')
    const conn = await b.dial(quicAddrOf(a))
    assert.ok(conn.remotePeer.equals(a.peerId))
    assert.equal(conn.remotePublicKey, undefined, 'an RSA id is a hash; the engine keeps the certificate')
    const [result] = await identified
    assert.ok(result.publicKey?.equals(a.privateKey.publicKey), 'identify supplies the key')
    assert.ok(b.peerStore.get(a.peerId)?.publicKey?.equals(a.privateKey.publicKey))
    assert.ok(a.getConnections()[0]?.remotePublicKey?.equals(b.privateKey.publicKey), 'a secp256k1 id inlines the key')
    await Promise.all([a.stop(), b.stop()])

    const e = createNode({ transports: [quic()], privateKey: generateKeyPair('ECDSA'), listen: [LISTEN] })
    await assert.rejects(e.start(), (err: unknown) => isLp2pError(err, codes.ERR_INVALID_KEY) && /QUIC engine/.test((err as Error).message))
  })

  it('stops with nothing left: a node stop closes its QUIC connections and endpoints', async () => {
    const a = await quicNode()
    const b = await quicNode({ listen: [] })
    const conns = await Promise.all([b.dial(quicAddrOf(a))])
    await b.stop()
    await a.stop()
    assert.equal(conns[0]?.status, 'closed')
    // The test process exits once its tests end: no socket or native handle keeps it.
  })
})
