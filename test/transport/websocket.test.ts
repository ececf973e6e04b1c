import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from '../../src/interfaces/channel.js'
import { webSockets, type WebSocketOptions } from '../../src/transport/websocket.js'
import { tcp } from '../../src/transport/tcp.js'
import type { WebSocketChannel } from '../../src/transport/websocket-channel.js'
import { isLp2pError } from '../../src/errors.js'
import { collect, tick } from '../helpers/channel.js'
import { portOf } from '../helpers/addr.js'
import { listenOn } from './listening.js'

async function listening (addr = '/ip4/127.0.0.1/tcp/0/ws', options: WebSocketOptions = {}) {
  const l = await listenOn(webSockets(options), addr)
  return { ...l, addr: l.listener.getAddrs()[0] as Multiaddr }
}

describe('WebSocket transport', () => {
  it('reports the real port of a port-0 listener and carries bytes both ways', async () => {
    const { listener, next, addr } = await listening()
    assert.match(addr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/[1-9]\d*\/ws$/)
    const client = await webSockets().dial(addr)
    const server = await next()
    const atServer = collect(server)
    const atClient = collect(client)
    client.write(Buffer.from('hello'))
    assert.equal((await atServer.waitFor(5)).toString(), 'hello')
    server.writev([Buffer.from('wo'), new Uint8Array(0), Buffer.from('rld')])
    assert.equal((await atClient.waitFor(5)).toString(), 'world')
    assert.match(server.remoteAddr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws$/)
    assert.equal(server.remoteAddr.toString(), client.localAddr?.toString())
    assert.equal(client.remoteAddr.toString(), addr.toString())
    client.destroy()
    server.destroy()
    await listener.close()
  })

  it('dials /dns4, /ip6, /p2p and /http-path addresses', async () => {
    const { listener, next, addr } = await listening()
    const port = portOf(addr)
    const peer = '12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp'
    for (const a of [`/dns4/localhost/tcp/${port}/ws`, `/ip4/127.0.0.1/tcp/${port}/ws/p2p/${peer}`, `/ip4/127.0.0.1/tcp/${port}/ws/http-path/a%2Fb`]) {
      const ch = await webSockets().dial(multiaddr(a))
      ;(await next()).destroy()
      ch.destroy()
    }
    await listener.close()

    const v6 = await listening('/ip6/::1/tcp/0/ws')
    assert.match(String(v6.addr), /^\/ip6\/::1\/tcp\/\d+\/ws$/)
    const c6 = await webSockets().dial(v6.addr)
    const s6 = await v6.next()
    assert.match(s6.remoteAddr.toString(), /^\/ip6\/::1\/tcp\/\d+\/ws$/)
    s6.destroy()
    c6.destroy()
    await v6.listener.close()
  })

  it('serves only its /http-path when it listens on one', async () => {
    const { listener, next, addr } = await listening('/ip4/127.0.0.1/tcp/0/ws/http-path/libp2p%2Fws')
    assert.match(addr.toString(), /\/ws\/http-path\/libp2p%2Fws$/)
    const ok = await webSockets().dial(addr)
    ;(await next()).destroy()
    ok.destroy()
    const wrong = multiaddr(`/ip4/127.0.0.1/tcp/${portOf(addr)}/ws/http-path/other`)
    await assert.rejects(webSockets().dial(wrong), (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED') && /404/.test(String((e as Error).cause)))
    await listener.close()
  })

  it('expands a wildcard listen address to interface addresses ending in /ws', async () => {
    const { listener } = await listening('/ip4/0.0.0.0/tcp/0/ws')
    const addrs = listener.getAddrs().map(String)
    assert.ok(addrs.some((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws$/.test(a)), addrs.join(' '))
    assert.ok(addrs.every((a) => !a.includes('0.0.0.0') && a.endsWith('/ws')))
    await listener.close()
  })

  it('carries a large transfer both ways at once, intact', async () => {
    const { listener, next, addr } = await listening()
    const client = await webSockets().dial(addr)
    const server = await next()
    const size = 8 * 1024 * 1024
    const up = randomBytes(size)
    const down = randomBytes(size)
    const atServer = collect(server)
    const atClient = collect(client)
    const pump = (ch: ByteChannel, data: Buffer): void => {
      let offset = 0
      let round = 0
      const go = (): void => {
        while (offset < data.length) {
          // writev of uneven pieces: small ones are joined, large ones framed alone,
          // and anything above one message is split over several messages
          const sizes = [1 + (round % 7), 300 + (round % 900), 20_000 + ((round * 7919) % 90_000)]
          round++
          const pieces: Buffer[] = []
          for (const s of sizes) {
            const end = Math.min(data.length, offset + s)
            pieces.push(data.subarray(offset, end))
            offset = end
          }
          if (!ch.writev(pieces)) return
        }
      }
      const handler = ch === server ? atServer : atClient
      handler.onDrain = go
      go()
    }
    pump(client, up)
    pump(server, down)
    const [gotUp, gotDown] = await Promise.all([atServer.waitFor(size), atClient.waitFor(size)])
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
    assert.equal(sha(gotUp), sha(up))
    assert.equal(sha(gotDown), sha(down))
    client.destroy()
    server.destroy()
    await listener.close()
  })

  it('applies backpressure: a paused reader makes write() return false, drain follows', async () => {
    const { listener, next, addr } = await listening()
    const client = await webSockets().dial(addr)
    const server = await next()
    const atServer = collect(server)
    const atClient = collect(client)
    server.pause()
    const chunk = Buffer.alloc(64 * 1024, 7)
    let written = 0
    // Write until write() says stop; wait for a drain; repeat until no drain comes
    // because the socket buffers on both ends are full (a few MiB on loopback).
    let stuck = false
    while (!stuck && written < 256 * 1024 * 1024) {
      while (client.write(chunk)) written += chunk.length
      written += chunk.length
      const drains = atClient.drains
      for (let i = 0; i < 50 && atClient.drains === drains; i++) await new Promise((resolve) => setTimeout(resolve, 4))
      stuck = atClient.drains === drains
    }
    assert.ok(stuck, `the writer never had to wait (${written} bytes written)`)
    assert.equal(atServer.chunks.length, 0, 'a paused channel delivered data')
    // what the paused side holds in memory is bounded by what was in flight, not by
    // what the writer wrote: the rest waits in the kernel and in the writer's socket
    const held = (server as WebSocketChannel).heldBytes
    assert.ok(held <= 1024 * 1024, `held ${held} bytes while paused`)
    server.resume()
    await atServer.waitFor(written)
    await tick(5)
    assert.ok(atClient.drains >= 1, 'no drain after the reader resumed')
    client.destroy()
    server.destroy()
    await listener.close()
  })

  it('ends cleanly: end() sends what was written, then both sides see end and close', async () => {
    const { listener, next, addr } = await listening()
    const client = await webSockets().dial(addr)
    const server = await next()
    const atServer = collect(server)
    const atClient = collect(client)
    const payload = randomBytes(300_000)
    client.write(payload)
    client.end()
    assert.equal(client.write(Buffer.from('ignored')), true)
    assert.equal(await atServer.closedP, undefined)
    assert.equal(await atClient.closedP, undefined)
    assert.ok(atServer.ended && atClient.ended)
    assert.ok(atServer.bytes().equals(payload))
    assert.ok(server.closed && client.closed)
    await listener.close()
  })

  it('a destroyed side closes the other with ERR_CONNECTION_CLOSED', async () => {
    const { listener, next, addr } = await listening()
    const client = await webSockets().dial(addr)
    const server = await next()
    const atServer = collect(server)
    const atClient = collect(client)
    client.destroy(new Error('local reason'))
    const err = await atServer.closedP
    assert.ok(isLp2pError(err, 'ERR_CONNECTION_CLOSED'), String(err))
    assert.ok(err.cause !== undefined)
    assert.equal(atServer.ended, false)
    assert.equal((await atClient.closedP)?.message, 'local reason')
    await listener.close()
  })

  it('fails a refused dial with ERR_TRANSPORT_DIAL_FAILED', async () => {
    const { listener, addr } = await listening()
    await listener.close()
    await assert.rejects(webSockets().dial(addr), (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED') && e.cause !== undefined)
  })

  it('fails a dial to a server that is not a WebSocket server', async () => {
    // An HTTP server that answers 200 to everything.
    const server = net.createServer((s) => {
      s.once('data', () => { s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n') })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    await assert.rejects(webSockets().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`)),
      (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED') && /200/.test(String((e as Error).cause)))
    server.close()
  })

  it('honours an abort signal, before and during the dial', async () => {
    const ac = new AbortController()
    ac.abort()
    await assert.rejects(webSockets().dial(multiaddr('/ip4/127.0.0.1/tcp/1/ws'), { signal: ac.signal }), (e: unknown) => isLp2pError(e, 'ERR_ABORTED'))
    // A TCP server that accepts and never answers the HTTP upgrade.
    const sockets: net.Socket[] = []
    const silent = net.createServer((s) => { sockets.push(s) })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as net.AddressInfo).port
    const ac2 = new AbortController()
    const p = webSockets().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`), { signal: ac2.signal })
    while (sockets.length === 0) await tick()
    ac2.abort()
    await assert.rejects(p, (e: unknown) => isLp2pError(e, 'ERR_ABORTED'))
    // the dialer closed its socket
    await new Promise<void>((resolve) => { (sockets[0] as net.Socket).on('close', () => { resolve() }).resume() })
    // and the handshake deadline applies without a signal
    await assert.rejects(webSockets({ handshakeTimeout: 50 }).dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`)),
      (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED') && /timed out/.test(String((e as Error).cause)))
    for (const s of sockets) s.destroy()
    silent.close()
  })

  it('keeps accepted connections up after the listener closes', async () => {
    const { listener, next, addr } = await listening()
    const client = await webSockets().dial(addr)
    const server = await next()
    await listener.close()
    assert.deepEqual(listener.getAddrs(), [])
    await assert.rejects(webSockets().dial(addr), (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED'))
    const atServer = collect(server)
    const atClient = collect(client)
    client.write(Buffer.from('still here'))
    assert.equal((await atServer.waitFor(10)).toString(), 'still here')
    server.write(Buffer.from('me too'))
    assert.equal((await atClient.waitFor(6)).toString(), 'me too')
    client.destroy()
    server.destroy()
  })

  it('filters addresses it cannot handle', () => {
    const t = webSockets()
    for (const a of ['/ip4/1.2.3.4/tcp/1/ws', '/dns/example.com/tcp/443/wss', '/ip6/::1/tcp/1/tls/ws', '/ip4/1.2.3.4/tcp/1/tls/sni/example.com/ws',
      '/ip4/1.2.3.4/ws', '/dns/example.com/wss/http-path/a%2Fb', '/ip4/1.2.3.4/tcp/1/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp']) {
      assert.equal(t.canDial(multiaddr(a)), true, a)
    }
    for (const a of ['/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.4/udp/1/quic-v1', '/memory/x', '/ip4/1.2.3.4/tcp/1/ws/tls', '/ip4/1.2.3.4/tcp/1/tls/wss',
      '/ip4/1.2.3.4/tcp/1/ws/ws', '/ip4/1.2.3.4/tcp/1/http', '/ip4/1.2.3.4/tcp/1/ws/p2p-circuit']) {
      assert.equal(t.canDial(multiaddr(a)), false, a)
    }
    assert.equal(tcp().canDial(multiaddr('/ip4/1.2.3.4/tcp/1/ws')), false)
    assert.equal(tcp().canDial(multiaddr('/ip4/1.2.3.4/tcp/1/wss')), false)
    assert.equal(t.canListen(multiaddr('/ip4/0.0.0.0/tcp/0/ws')), true)
    assert.equal(t.canListen(multiaddr('/dns/example.com/tcp/1/ws')), false)
    assert.equal(t.canListen(multiaddr('/ip4/0.0.0.0/tcp/0/wss')), false, 'no certificate configured')
    assert.equal(t.canListen(multiaddr('/ip4/0.0.0.0/tcp/0/tls/sni/a.example/ws')), false)
  })

  it('fails to listen on a port in use with ERR_LISTEN_FAILED, and rejects bad listen addresses', async () => {
    const { listener, addr } = await listening()
    const again = webSockets().createListener({ onConnection: () => {} })
    await assert.rejects(again.listen(addr), (e: unknown) => isLp2pError(e, 'ERR_LISTEN_FAILED'))
    const other = webSockets().createListener({ onConnection: () => {} })
    await assert.rejects(other.listen(multiaddr('/dns4/localhost/tcp/0/ws')), (e: unknown) => isLp2pError(e, 'ERR_INVALID_MULTIADDR'))
    await assert.rejects(other.listen(multiaddr('/ip4/127.0.0.1/tcp/0')), (e: unknown) => isLp2pError(e, 'ERR_INVALID_MULTIADDR'))
    await assert.rejects(other.listen(multiaddr('/ip4/127.0.0.1/tcp/0/wss')), (e: unknown) => isLp2pError(e, 'ERR_LISTEN_FAILED'))
    await listener.close()
  })

  it('validates its options at the API edge', () => {
    assert.throws(() => webSockets({ maxMessageSize: 1000 }), RangeError)
    assert.throws(() => webSockets({ handshakeTimeout: -1 }), RangeError)
    assert.throws(() => webSockets({ closeTimeout: '5' as unknown as number }), TypeError)
    assert.throws(() => webSockets({ clientMask: 'none' as unknown as 'zero' }), RangeError)
    assert.throws(() => webSockets(null as unknown as WebSocketOptions), TypeError)
    assert.equal(webSockets().name, 'ws')
  })

  it('works with an all-zero client mask', async () => {
    const { listener, next, addr } = await listening()
    const client = await webSockets({ clientMask: 'zero' }).dial(addr)
    const server = await next()
    const atServer = collect(server)
    const data = randomBytes(200_000)
    client.write(data)
    assert.ok((await atServer.waitFor(data.length)).equals(data))
    client.destroy()
    server.destroy()
    await listener.close()
  })
})
