/**
 * Whole lp2p nodes over the WebSocket transport: multistream-select, Noise or libp2p
 * TLS, yamux, ping, identify and an echo stream, over `/ws` and over `/wss`.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createNode, type Lp2pNode } from '../../src/node.js'
import type { NodeOptions } from '../../src/node-options.js'
import { webSockets, type WebSocketOptions } from '../../src/transport/websocket.js'
import { tls } from '../../src/security/tls/index.js'
import { ECHO_PROTOCOL, handleEcho } from '../../src/protocols/echo.js'
import { nextEvent, readAll } from '../helpers/nodes.js'
import { isLp2pError } from '../../src/errors.js'
import { selfSignedCert } from './listening.js'

let cert = ''
let key = ''

before(() => {
  ({ cert, key } = selfSignedCert('DNS:localhost,IP:127.0.0.1'))
})

async function wsNode (listen: string, transport: WebSocketOptions = {}, options: NodeOptions = {}): Promise<Lp2pNode> {
  const node = createNode({ transports: [webSockets(transport)], listen: [listen], ...options })
  await node.start()
  return node
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('lp2p nodes over WebSockets', () => {
  it('ping, identify and echo between two nodes over /ws (Noise, yamux)', async () => {
    const a = await wsNode('/ip4/127.0.0.1/tcp/0/ws')
    const b = await wsNode('/ip4/127.0.0.1/tcp/0/ws')
    b.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) })
    const addr = b.getMultiaddrs()[0] as Multiaddr
    assert.match(addr.toString(), /\/tcp\/\d+\/ws\/p2p\/|\/tcp\/\d+\/ws$/)
    const identified = nextEvent(a, 'peer:identify')
    const rtt = await a.ping(addr)
    assert.ok(rtt >= 0)
    const [info] = await identified
    assert.ok(info.listenAddrs.some((m) => m.toString().includes('/ws')), 'identify carries the /ws listen address')
    // what b saw of us: our dialing socket, as a WebSocket address
    assert.match(String(info.observedAddr), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws$/)
    const conn = a.getConnections()[0]
    assert.ok(conn !== undefined)
    assert.equal(conn.encryption, '/noise')
    assert.equal(conn.multiplexer, '/yamux/1.0.0')
    assert.match(conn.remoteAddr.toString(), /\/ws/)

    // several echo streams at once, one large
    const big = randomBytes(4 * 1024 * 1024)
    const streams = await Promise.all([big, Buffer.from('a'), randomBytes(70_000)].map(async (payload) => {
      const s = await a.dialProtocol(addr, ECHO_PROTOCOL)
      s.end(payload)
      return { payload, got: await readAll(s) }
    }))
    for (const { payload, got } of streams) assert.equal(sha(got), sha(payload))
    assert.equal(a.getConnections().length, 1, 'one connection carried every stream')

    const closed = nextEvent(b, 'peer:disconnect')
    await a.hangUp(b.peerId)
    await closed
    await Promise.all([a.stop(), b.stop()])
  })

  it('ping and echo over /wss with libp2p TLS as the security protocol', async () => {
    const transport = { tls: { cert, key }, dialTls: { ca: cert } }
    const security = { connectionEncrypters: [tls()] }
    const a = await wsNode('/ip4/127.0.0.1/tcp/0/wss', transport, security)
    const b = await wsNode('/ip4/127.0.0.1/tcp/0/wss', transport, security)
    b.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) })
    const addr = b.getMultiaddrs()[0] as Multiaddr
    assert.match(addr.toString(), /\/wss/)
    assert.ok((await a.ping(addr)) >= 0)
    const conn = a.getConnections()[0]
    assert.equal(conn?.encryption, '/tls/1.0.0')
    const payload = randomBytes(1024 * 1024)
    const s = await a.dialProtocol(addr, ECHO_PROTOCOL)
    s.end(payload)
    assert.equal(sha(await readAll(s)), sha(payload))
    await Promise.all([a.stop(), b.stop()])
  })

  it('dials a peer by its /ws address with /p2p and refuses the wrong peer', async () => {
    const a = await wsNode('/ip4/127.0.0.1/tcp/0/ws')
    const b = await wsNode('/ip4/127.0.0.1/tcp/0/ws')
    const c = await wsNode('/ip4/127.0.0.1/tcp/0/ws')
    const bAddr = (b.getMultiaddrs()[0] as Multiaddr).toString().replace(/\/p2p\/.*$/, '')
    const conn = await a.dial(multiaddr(`${bAddr}/p2p/${b.peerId.toString()}`))
    assert.equal(conn.remotePeer.toString(), b.peerId.toString())
    await assert.rejects(a.dial(multiaddr(`${bAddr}/p2p/${c.peerId.toString()}`)), (e: unknown) => isLp2pError(e, 'ERR_UNEXPECTED_PEER'))
    await Promise.all([a.stop(), b.stop(), c.stop()])
  })
})
