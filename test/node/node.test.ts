import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { isLp2pError } from '../../src/errors.js'
import { generateKeyPair, peerIdFromPrivateKey } from '../../src/identity/index.js'
import { ECHO_PROTOCOL, handleEcho } from '../../src/protocols/echo.js'
import type { Stream } from '../../src/interfaces/connection.js'
import { memoryNode, nextEvent, readAll } from '../helpers/nodes.js'

describe('node over the memory transport', () => {
  it('connects, emits lifecycle events on both sides, and echoes on a stream', async () => {
    const a = await memoryNode()
    const b = await memoryNode()
    b.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) })
    const events: string[] = []
    for (const ev of ['connection:open', 'peer:connect', 'stream:open', 'stream:close', 'connection:close', 'peer:disconnect'] as const) {
      a.on(ev, () => { events.push(`a:${ev}`) })
      b.on(ev, () => { events.push(`b:${ev}`) })
    }
    const bConnected = nextEvent(b, 'peer:connect')
    const stream = await a.dialProtocol(b.getMultiaddrs()[0] as ReturnType<typeof multiaddr>, ECHO_PROTOCOL)
    assert.equal(stream.protocol, ECHO_PROTOCOL)
    assert.equal(stream.connection.remotePeer.toString(), b.peerId.toString())
    stream.end('hello over memory')
    assert.equal((await readAll(stream)).toString(), 'hello over memory')
    const [peer] = await bConnected
    assert.equal(String(peer), a.peerId.toString())
    const conn = a.getConnections()[0]
    assert.ok(conn !== undefined)
    assert.equal(conn.direction, 'outbound')
    assert.equal(conn.encryption, '/noise')
    assert.equal(conn.multiplexer, '/yamux/1.0.0')
    assert.equal(b.getConnections()[0]?.direction, 'inbound')
    const closed = nextEvent(b, 'peer:disconnect')
    await a.hangUp(b.peerId)
    await closed
    await Promise.all([a.stop(), b.stop()])
    for (const e of ['a:connection:open', 'b:connection:open', 'a:peer:connect', 'b:peer:connect', 'a:stream:open', 'b:stream:open', 'a:connection:close', 'b:connection:close', 'a:peer:disconnect', 'b:peer:disconnect']) {
      assert.ok(events.includes(e), `missing ${e} in ${events.join(' ')}`)
    }
  })

  it('reuses one connection per peer and shares concurrent dials', async () => {
    const a = await memoryNode()
    const b = await memoryNode()
    const addr = b.getMultiaddrs()[0] as ReturnType<typeof multiaddr>
    const conns = await Promise.all([a.dial(addr), a.dial(addr), a.dial(b.peerId)])
    assert.equal(new Set(conns.map((c) => c.id)).size, 1)
    assert.equal(a.getConnections().length, 1)
    assert.equal((await a.dial(b.peerId.toString())).id, conns[0]?.id)
    await Promise.all([a.stop(), b.stop()])
  })

  it('pings and identifies in both directions', async () => {
    const a = await memoryNode({ agentVersion: 'node-a/1' })
    const b = await memoryNode({ agentVersion: 'node-b/1' })
    b.handle('/custom/1.0.0', () => {})
    const identified = nextEvent(b, 'peer:identify')
    const rtt = await a.ping(b.getMultiaddrs()[0] as ReturnType<typeof multiaddr>)
    assert.ok(rtt >= 0)
    const conn = a.getConnections()[0]
    assert.ok(conn !== undefined)
    const id = await a.identify(conn)
    assert.equal(id.agentVersion, 'node-b/1')
    assert.ok(id.protocols.includes('/custom/1.0.0'))
    assert.ok(id.protocols.includes('/ipfs/ping/1.0.0'))
    assert.ok(id.listenAddrs.some((m) => m.toString().startsWith('/memory/')))
    assert.equal((await identified)[0].agentVersion, 'node-a/1')
    const stored = a.peerStore.get(b.peerId)
    assert.ok(stored?.protocols.includes('/custom/1.0.0'))
    await Promise.all([a.stop(), b.stop()])
  })

  it('pushes protocol changes to connected peers (identify push)', async () => {
    const a = await memoryNode()
    const b = await memoryNode()
    const conn = await a.dial(b.getMultiaddrs()[0] as ReturnType<typeof multiaddr>)
    await a.identify(conn)
    // b learns that a supports push through its own identify of a
    await b.identify(b.getConnections()[0] as NonNullable<ReturnType<typeof b.getConnections>[0]>)
    const pushed = new Promise<{ protocols: string[] }>((resolve) => {
      a.on('peer:identify', (r) => { if (r.push && r.protocols.includes('/late/1.0.0')) resolve(r) })
    })
    b.handle('/late/1.0.0', () => {})
    assert.ok((await pushed).protocols.includes('/late/1.0.0'))
    await Promise.all([a.stop(), b.stop()])
  })

  it('fails a dial to the wrong peer id with ERR_UNEXPECTED_PEER', async () => {
    const a = await memoryNode()
    const b = await memoryNode()
    const other = peerIdFromPrivateKey(generateKeyPair())
    const addr = multiaddr(`${b.getMultiaddrs()[0]?.toString().split('/p2p/')[0] as string}/p2p/${other.toString()}`)
    await assert.rejects(a.dial(addr), (e: unknown) => isLp2pError(e, 'ERR_UNEXPECTED_PEER'))
    assert.equal(a.getConnections().length, 0)
    await assert.rejects(a.dial(a.getMultiaddrs()[0] as ReturnType<typeof multiaddr>), (e: unknown) => isLp2pError(e, 'ERR_DIALED_SELF'))
    await Promise.all([a.stop(), b.stop()])
  })

  it('an unsupported protocol fails the stream (lazy) or the call (several protocols)', async () => {
    const a = await memoryNode()
    const b = await memoryNode()
    const addr = b.getMultiaddrs()[0] as ReturnType<typeof multiaddr>
    const lazy = await a.dialProtocol(addr, '/nobody/1.0.0')
    const err = await new Promise<unknown>((resolve) => { lazy.once('error', resolve); lazy.resume() })
    assert.ok(isLp2pError(err, 'ERR_UNSUPPORTED_PROTOCOL'), String(err))
    await assert.rejects(a.dialProtocol(addr, ['/nobody/1.0.0', '/nobody/2.0.0']), (e: unknown) => isLp2pError(e, 'ERR_UNSUPPORTED_PROTOCOL'))
    // the connection survives a refused stream
    assert.ok((await a.ping(b.peerId)) >= 0)
    await Promise.all([a.stop(), b.stop()])
  })

  it('caps inbound streams per protocol and connection', async () => {
    const a = await memoryNode()
    const b = await memoryNode()
    const held: Stream[] = []
    b.handle('/hold/1.0.0', (s) => { held.push(s) }, { maxInboundStreams: 2 })
    const addr = b.getMultiaddrs()[0] as ReturnType<typeof multiaddr>
    const s1 = await a.dialProtocol(addr, '/hold/1.0.0', { lazy: false })
    const s2 = await a.dialProtocol(addr, '/hold/1.0.0', { lazy: false })
    const s3 = await a.dialProtocol(addr, '/hold/1.0.0', { lazy: false })
    const err = await new Promise<unknown>((resolve) => { s3.once('error', resolve); s3.resume() })
    assert.ok(isLp2pError(err, 'ERR_STREAM_RESET'), String(err))
    assert.equal(held.length, 2)
    s1.destroy()
    s2.destroy()
    await Promise.all([a.stop(), b.stop()])
  })

  it('stop() closes connections and listeners and lets dials fail cleanly', async () => {
    const a = await memoryNode()
    const b = await memoryNode()
    await a.dial(b.getMultiaddrs()[0] as ReturnType<typeof multiaddr>)
    const closed = nextEvent(a, 'connection:close')
    await b.stop()
    await closed
    assert.equal(b.getConnections().length, 0)
    await assert.rejects(a.dial(b.getMultiaddrs()[0] ?? multiaddr('/memory/gone')), (e: unknown) => isLp2pError(e))
    await assert.rejects(b.dial('/memory/x'), (e: unknown) => isLp2pError(e, 'ERR_NOT_STARTED'))
    await a.stop()
  })
})
