import { describe, it, mock } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import { multiaddr } from '@multiformats/multiaddr'
import { tcp } from '../../src/transport/tcp.js'
import { INTERFACE_ADDRS_TTL_MS } from '../../src/transport/listen-util.js'
import { isLp2pError } from '../../src/errors.js'
import type { ByteChannel } from '../../src/interfaces/channel.js'
import { collect } from '../helpers/channel.js'
import { portOf } from '../helpers/addr.js'
import { listenOn, type Listening } from './listening.js'

async function listening (addr = '/ip4/127.0.0.1/tcp/0'): Promise<Listening> {
  return await listenOn(tcp(), addr)
}

describe('TCP transport', () => {
  it('reports the real port of a port-0 listener and carries bytes both ways', async () => {
    const { listener, next } = await listening()
    const [addr] = listener.getAddrs()
    assert.ok(addr !== undefined)
    assert.match(addr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/[1-9]\d*$/)
    const client = await tcp().dial(addr)
    const server = await next()
    const atServer = collect(server)
    const atClient = collect(client)
    client.write(Buffer.from('hello'))
    assert.equal((await atServer.waitFor(5)).toString(), 'hello')
    server.write(Buffer.from('world'))
    assert.equal((await atClient.waitFor(5)).toString(), 'world')
    assert.equal(server.remoteAddr.toString().startsWith('/ip4/127.0.0.1/tcp/'), true)
    client.destroy()
    server.destroy()
    await listener.close()
  })

  it('dials /dns4, /ip6 and addresses ending in /p2p', async () => {
    const { listener, next } = await listening('/ip4/127.0.0.1/tcp/0')
    const port = (listener.getAddrs()[0] as ReturnType<typeof multiaddr>).getComponents()[1]?.value
    const viaDns = await tcp().dial(multiaddr(`/dns4/localhost/tcp/${port}`))
    ;(await next()).destroy()
    viaDns.destroy()
    const withPeer = await tcp().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp`))
    ;(await next()).destroy()
    withPeer.destroy()
    await listener.close()

    const v6 = await listening('/ip6/::1/tcp/0')
    const [addr6] = v6.listener.getAddrs()
    assert.match(String(addr6), /^\/ip6\/::1\/tcp\/\d+$/)
    const c6 = await tcp().dial(addr6 as ReturnType<typeof multiaddr>)
    ;(await v6.next()).destroy()
    c6.destroy()
    await v6.listener.close()
  })

  it('expands a wildcard listen address to interface addresses', async () => {
    const { listener } = await listening('/ip4/0.0.0.0/tcp/0')
    const addrs = listener.getAddrs().map(String)
    assert.ok(addrs.some((a) => a.startsWith('/ip4/127.0.0.1/tcp/')), addrs.join(' '))
    assert.ok(addrs.every((a) => !a.includes('0.0.0.0')))
    await listener.close()
  })

  it('fails a refused dial with ERR_TRANSPORT_DIAL_FAILED', async () => {
    const { listener } = await listening()
    const addr = listener.getAddrs()[0] as ReturnType<typeof multiaddr>
    await listener.close()
    await assert.rejects(tcp().dial(addr), (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED') && e.cause !== undefined)
  })

  it('honours an abort signal', async () => {
    const ac = new AbortController()
    ac.abort()
    await assert.rejects(tcp().dial(multiaddr('/ip4/127.0.0.1/tcp/1'), { signal: ac.signal }), (e: unknown) => isLp2pError(e, 'ERR_ABORTED'))
    // 192.0.2.0/24 is TEST-NET-1: never routed, so the connect hangs until aborted
    const ac2 = new AbortController()
    const p = tcp().dial(multiaddr('/ip4/192.0.2.1/tcp/4001'), { signal: ac2.signal })
    setTimeout(() => ac2.abort(), 20)
    await assert.rejects(p, (e: unknown) => isLp2pError(e))
  })

  it('keeps accepted connections up after the listener closes', async () => {
    const { listener, next } = await listening()
    const client = await tcp().dial(listener.getAddrs()[0] as ReturnType<typeof multiaddr>)
    const server = await next()
    await listener.close()
    assert.deepEqual(listener.getAddrs(), [])
    const atServer = collect(server)
    client.write(Buffer.from('still here'))
    assert.equal((await atServer.waitFor(10)).toString(), 'still here')
    client.destroy()
    server.destroy()
  })

  it('filters addresses it cannot handle', () => {
    const t = tcp()
    assert.equal(t.canDial(multiaddr('/ip4/1.2.3.4/tcp/1')), true)
    assert.equal(t.canDial(multiaddr('/dns/example.com/tcp/1')), true)
    assert.equal(t.canListen(multiaddr('/dns/example.com/tcp/1')), false)
    assert.equal(t.canDial(multiaddr('/ip4/1.2.3.4/udp/1/quic-v1')), false)
    assert.equal(t.canDial(multiaddr('/ip4/1.2.3.4/tcp/1/ws')), false)
    assert.equal(t.canDial(multiaddr('/memory/x')), false)
  })

  it('fails to listen on a port in use with ERR_LISTEN_FAILED', async () => {
    const { listener } = await listening()
    const again = tcp().createListener({ onConnection: () => {} })
    await assert.rejects(again.listen(listener.getAddrs()[0] as ReturnType<typeof multiaddr>), (e: unknown) => isLp2pError(e, 'ERR_LISTEN_FAILED'))
    await listener.close()
  })

  it('expands a wildcard listener to the interface addresses, reused for the TTL', async () => {
    const iface = (address: string): os.NetworkInterfaceInfo => ({ address, family: 'IPv4', netmask: '255.0.0.0', mac: '00:00:00:00:00:00', internal: false, cidr: null })
    let interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = { lo: [iface('127.0.0.1')], eth0: [iface('10.1.2.3')] }
    const spy = mock.method(os, 'networkInterfaces', () => interfaces)
    let listener: Listening['listener'] | undefined
    try {
      mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
      listener = (await listening('/ip4/0.0.0.0/tcp/0')).listener
      const first = listener.getAddrs()
      assert.ok(first[0] !== undefined)
      const port = portOf(first[0])
      assert.deepEqual(first.map(String), [`/ip4/127.0.0.1/tcp/${port}`, `/ip4/10.1.2.3/tcp/${port}`])
      first.pop() // the caller's copy
      interfaces = { ...interfaces, wg0: [iface('10.9.9.9')] }
      assert.deepEqual(listener.getAddrs().map(String), [`/ip4/127.0.0.1/tcp/${port}`, `/ip4/10.1.2.3/tcp/${port}`])
      assert.equal(spy.mock.callCount(), 1)
      mock.timers.tick(INTERFACE_ADDRS_TTL_MS)
      assert.equal(listener.getAddrs().length, 3, 'a new interface shows once the TTL passed')
      assert.equal(spy.mock.callCount(), 2)
    } finally {
      mock.timers.reset()
      spy.mock.restore()
      await listener?.close()
    }
    assert.deepEqual(listener.getAddrs(), [])
  })

  it('reports the local and remote address of every accepted connection', async () => {
    const { listener, next } = await listening()
    const channels: ByteChannel[] = []
    try {
      const [addr] = listener.getAddrs()
      assert.ok(addr !== undefined)
      const clients: ByteChannel[] = []
      for (let i = 0; i < 2; i++) {
        clients.push(await tcp().dial(addr))
        channels.push(clients[i] as ByteChannel)
      }
      const servers: ByteChannel[] = []
      for (let i = 0; i < 2; i++) {
        servers.push(await next())
        channels.push(servers[i] as ByteChannel)
      }
      for (let i = 0; i < 2; i++) {
        assert.equal(servers[i]?.localAddr?.toString(), addr.toString())
        assert.equal(clients[i]?.remoteAddr.toString(), addr.toString())
        assert.equal(servers[i]?.remoteAddr.toString(), clients[i]?.localAddr?.toString())
      }
      assert.notEqual(servers[0]?.remoteAddr.toString(), servers[1]?.remoteAddr.toString())
    } finally {
      for (const c of channels) c.destroy()
      await listener.close()
    }
  })
})
