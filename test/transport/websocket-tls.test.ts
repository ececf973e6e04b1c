/**
 * TLS WebSockets (`/tls/ws`, `/wss`) with a self-signed certificate made by the
 * `openssl` command line for `localhost` only (no IP address in it), so that the tests
 * also show which name the dialer verifies.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { WebSocketServer } from 'ws'
import { webSockets, type WebSocketOptions } from '../../src/transport/websocket.js'
import { isLp2pError } from '../../src/errors.js'
import { collect } from '../helpers/channel.js'
import { portOf } from '../helpers/addr.js'
import { listenOn, selfSignedCert } from './listening.js'

let cert = ''
let key = ''

before(() => {
  ({ cert, key } = selfSignedCert('DNS:localhost'))
})

async function listening (addr: string, options: WebSocketOptions = { tls: { cert, key } }) {
  const l = await listenOn(webSockets(options), addr)
  const address = l.listener.getAddrs()[0] as Multiaddr
  return { ...l, addr: address, port: portOf(address) }
}

const trusting = (): ReturnType<typeof webSockets> => webSockets({ dialTls: { ca: cert } })

describe('TLS WebSockets', () => {
  it('listens on /wss and /tls/ws and carries bytes both ways, verified', async () => {
    for (const form of ['wss', 'tls/ws']) {
      const { listener, next, addr, port } = await listening(`/ip4/127.0.0.1/tcp/0/${form}`)
      assert.equal(addr.toString(), `/ip4/127.0.0.1/tcp/${port}/${form}`)
      const client = await trusting().dial(multiaddr(`/dns4/localhost/tcp/${port}/${form}`))
      const server = await next()
      assert.equal(server.remoteAddr.toString().endsWith(`/${form}`), true)
      const atServer = collect(server)
      const atClient = collect(client)
      const up = randomBytes(1024 * 1024)
      client.write(up)
      server.write(Buffer.from('over tls'))
      const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
      assert.equal(sha(await atServer.waitFor(up.length)), sha(up))
      assert.equal((await atClient.waitFor(8)).toString(), 'over tls')
      client.end()
      assert.equal(await atServer.closedP, undefined)
      assert.equal(await atClient.closedP, undefined)
      await listener.close()
    }
  })

  it('verifies the server certificate by default', async () => {
    const { listener, port, accepted } = await listening('/ip4/127.0.0.1/tcp/0/wss')
    // not trusted
    await assert.rejects(webSockets().dial(multiaddr(`/dns4/localhost/tcp/${port}/wss`)),
      (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED') && /self[- ]signed/i.test(String((e as Error).cause)))
    // trusted, but the certificate does not name 127.0.0.1
    await assert.rejects(trusting().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/wss`)),
      (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED') && /127\.0\.0\.1/.test(String((e as Error).cause)))
    // /sni names the host to verify (and to send as SNI) when dialing an IP address
    const viaSni = await trusting().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/tls/sni/localhost/ws`))
    viaSni.destroy()
    // verification can be turned off explicitly
    const insecure = await webSockets({ dialTls: { rejectUnauthorized: false } }).dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/wss`))
    insecure.destroy()
    while (accepted.length < 2) await new Promise((resolve) => setImmediate(resolve))
    for (const ch of accepted) ch.destroy()
    await listener.close()
  })

  it('sends the /sni name as TLS server name and HTTP Host', async () => {
    const server = https.createServer({ cert, key })
    const wss = new WebSocketServer({ server })
    const seen = new Promise<{ host?: string, servername: string | false | null }>((resolve) => {
      wss.on('connection', (ws, req) => {
        resolve({ host: req.headers.host, servername: (req.socket as tls.TLSSocket).servername })
        ws.close()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    const ch = await trusting().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/tls/sni/localhost/ws/http-path/p2p`))
    const got = await seen
    assert.equal(got.servername, 'localhost')
    assert.equal(got.host, `localhost:${port}`)
    ch.destroy()
    wss.close()
    server.close()
  })

  it('refuses to listen on a secure address without a usable certificate', async () => {
    const none = webSockets().createListener({ onConnection: () => {} })
    await assert.rejects(none.listen(multiaddr('/ip4/127.0.0.1/tcp/0/wss')), (e: unknown) => isLp2pError(e, 'ERR_LISTEN_FAILED') && /certificate/.test((e as Error).message))
    const bad = webSockets({ tls: { cert: 'not a certificate', key: 'not a key' } }).createListener({ onConnection: () => {} })
    await assert.rejects(bad.listen(multiaddr('/ip4/127.0.0.1/tcp/0/tls/ws')), (e: unknown) => isLp2pError(e, 'ERR_LISTEN_FAILED') && (e as Error).cause !== undefined)
    assert.equal(webSockets({ tls: { cert, key } }).canListen(multiaddr('/ip4/127.0.0.1/tcp/0/wss')), true)
  })

  it('survives clients that do not speak TLS or never finish the handshake', async () => {
    const { listener, next, port, accepted } = await listening('/ip4/127.0.0.1/tcp/0/wss', { tls: { cert, key }, handshakeTimeout: 200 })
    // a plain WebSocket dial to a TLS listener
    await assert.rejects(webSockets({ handshakeTimeout: 2000 }).dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`)),
      (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED'))
    // a TLS client that stops after its ClientHello: dropped at the deadline
    const stalled = net.connect({ host: '127.0.0.1', port })
    stalled.on('error', () => {})
    stalled.write(Buffer.from('16030100', 'hex'))
    await new Promise<void>((resolve) => stalled.once('close', () => { resolve() }))
    assert.equal(accepted.length, 0)
    // still serving
    const ok = await trusting().dial(multiaddr(`/dns4/localhost/tcp/${port}/wss`))
    ;(await next()).destroy()
    ok.destroy()
    await listener.close()
  })
})
