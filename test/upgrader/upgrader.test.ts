/**
 * The connection upgrade end to end over in-memory channels and real TCP: the
 * multistream-select na/retry path of the spec's diagram, muxer negotiation inlined
 * and over multistream-select, lazy negotiation, inbound timeout, and which step
 * failed.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryChannel } from '../../src/transport/memory-channel.js'
import { Upgrader } from '../../src/upgrader/upgrader.js'
import { noise } from '../../src/security/noise/index.js'
import { tls } from '../../src/security/tls/index.js'
import { yamux } from '../../src/muxer/yamux/index.js'
import { generateKeyPair, peerIdFromPrivateKey } from '../../src/identity/index.js'
import { isLp2pError, UpgradeError } from '../../src/errors.js'
import type { SecurityProtocol } from '../../src/interfaces/security.js'
import { createNode } from '../../src/node.js'
import { memoryNode } from '../helpers/nodes.js'

/** A real Noise that offers no muxers in its handshake, like peers without inlined negotiation. */
function noiseWithoutEarlyMuxers (): SecurityProtocol {
  const inner = noise()
  return {
    protocol: inner.protocol,
    secureOutbound: async (c, o) => await inner.secureOutbound(c, { ...o, muxers: [] }),
    secureInbound: async (c, o) => await inner.secureInbound(c, { ...o, muxers: [] })
  }
}

function upgraders (dialer: Partial<ConstructorParameters<typeof Upgrader>[0]>, listener: Partial<ConstructorParameters<typeof Upgrader>[0]>) {
  const dk = generateKeyPair()
  const lk = generateKeyPair()
  return {
    dialer: new Upgrader({ privateKey: dk, security: [noise()], muxers: [yamux()], ...dialer }),
    listener: new Upgrader({ privateKey: lk, security: [noise()], muxers: [yamux()], ...listener }),
    dialerId: peerIdFromPrivateKey(dk),
    listenerId: peerIdFromPrivateKey(lk)
  }
}

describe('connection upgrade', () => {
  it('falls back from /tls/1.0.0 to /noise after an na (connections spec diagram)', async () => {
    const u = upgraders({ security: [tls(), noise()] }, { security: [noise()] })
    const [a, b] = MemoryChannel.pair()
    const [out, inb] = await Promise.all([u.dialer.upgradeOutbound(a), u.listener.upgradeInbound(b)])
    assert.equal(out.encryption, '/noise')
    assert.equal(inb.encryption, '/noise')
    assert.equal(out.remotePeer.toString(), u.listenerId.toString())
    assert.equal(inb.remotePeer.toString(), u.dialerId.toString())
    assert.equal(out.muxerNegotiation, 'inlined')
  })

  it('uses TLS when both prefer it, with the muxer agreed in ALPN', async () => {
    const u = upgraders({ security: [tls()] }, { security: [noise(), tls()] })
    const [a, b] = MemoryChannel.pair()
    const [out, inb] = await Promise.all([u.dialer.upgradeOutbound(a), u.listener.upgradeInbound(b)])
    assert.equal(out.encryption, '/tls/1.0.0')
    assert.equal(inb.encryption, '/tls/1.0.0')
    assert.equal(out.multiplexer, '/yamux/1.0.0')
    assert.equal(out.muxerNegotiation, 'inlined')
  })

  it('negotiates the muxer with multistream-select when the handshake carries none', async () => {
    for (const lazy of [true, false]) {
      const u = upgraders({ security: [noiseWithoutEarlyMuxers()], lazy }, { security: [noiseWithoutEarlyMuxers()] })
      const [a, b] = MemoryChannel.pair()
      const [out, inb] = await Promise.all([u.dialer.upgradeOutbound(a), u.listener.upgradeInbound(b)])
      assert.equal(out.muxerNegotiation, lazy ? 'lazy' : 'multistream')
      assert.equal(inb.muxerNegotiation, 'multistream')
      assert.equal(inb.multiplexer, '/yamux/1.0.0')
    }
  })

  it('names the failed step: security negotiation refused', async () => {
    const u = upgraders({ security: [tls()] }, { security: [noise()] })
    const [a, b] = MemoryChannel.pair()
    const [out, inb] = await Promise.allSettled([u.dialer.upgradeOutbound(a), u.listener.upgradeInbound(b)])
    assert.equal(out.status, 'rejected')
    const err = (out as PromiseRejectedResult).reason as UpgradeError
    assert.ok(err instanceof UpgradeError)
    assert.equal(err.step, 'security-negotiation')
    assert.equal(err.code, 'ERR_UNSUPPORTED_PROTOCOL')
    assert.equal(inb.status, 'rejected')
    assert.equal(a.closed, true)
  })

  it('names the failed step: wrong remote peer in the handshake', async () => {
    const u = upgraders({}, {})
    const [a, b] = MemoryChannel.pair()
    const other = peerIdFromPrivateKey(generateKeyPair())
    const [out] = await Promise.allSettled([u.dialer.upgradeOutbound(a, { remotePeer: other }), u.listener.upgradeInbound(b)])
    const err = (out as PromiseRejectedResult).reason as UpgradeError
    assert.equal(err.step, 'security-handshake')
    assert.equal(err.code, 'ERR_UNEXPECTED_PEER')
  })

  it('times out a silent inbound connection', async () => {
    const u = upgraders({}, { inboundUpgradeTimeout: 50 })
    const [, b] = MemoryChannel.pair()
    // memory channels hold no handle: keep the event loop alive for the (unref'd) timer
    const keepAlive = setTimeout(() => {}, 5000)
    await assert.rejects(u.listener.upgradeInbound(b), (e: unknown) => isLp2pError(e, 'ERR_TIMEOUT') && (e as UpgradeError).step === 'security-negotiation')
    assert.equal(b.closed, true)
    clearTimeout(keepAlive)
  })

  it('a node closes a raw TCP connection that never speaks, after the inbound timeout', async () => {
    const node = createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], timeouts: { inboundUpgrade: 100 } })
    await node.start()
    const port = Number(node.getMultiaddrs()[0]?.getComponents()[1]?.value)
    const sock = net.connect(port, '127.0.0.1')
    await once(sock, 'connect')
    const started = Date.now()
    sock.resume()
    await once(sock, 'close')
    assert.ok(Date.now() - started < 5000)
    await node.stop()
  })

  it('default nodes: dial with Noise, accept TLS from a TLS-only dialer', async () => {
    const listener = await memoryNode()
    const tlsOnly = await memoryNode({ connectionEncrypters: [tls()] })
    const noiseDialer = await memoryNode()
    const viaTls = await tlsOnly.dial(listener.getMultiaddrs()[0] as ReturnType<typeof multiaddr>)
    assert.equal(viaTls.encryption, '/tls/1.0.0')
    const viaNoise = await noiseDialer.dial(listener.getMultiaddrs()[0] as ReturnType<typeof multiaddr>)
    assert.equal(viaNoise.encryption, '/noise')
    assert.ok((await tlsOnly.ping(listener.peerId)) >= 0)
    await Promise.all([listener.stop(), tlsOnly.stop(), noiseDialer.stop()])
  })
})
