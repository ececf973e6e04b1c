import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../src/identity/index.js'
import type { Connection } from '../../src/interfaces/connection.js'
import { MemoryPeerStore } from '../../src/peer-store/memory-peer-store.js'
import { IdentifyService } from '../../src/protocols/identify.js'
import { decodeIdentify, encodeIdentify } from '../../src/protocols/identify-message.js'
import { decodeUvarint } from '../../src/wire/varint.js'

function unframe (bytes: Uint8Array): Uint8Array {
  const prefix = decodeUvarint(bytes, 0)
  assert.ok(prefix !== undefined)
  assert.equal(bytes.byteLength, prefix.length + prefix.value, 'one length-prefixed message')
  return bytes.subarray(prefix.length)
}

describe('IdentifyService.message', () => {
  const key = generateKeyPair()
  let addrs: Multiaddr[] = [multiaddr('/ip4/10.0.0.1/tcp/4001')]
  let protocols = ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0']
  const service = new IdentifyService({
    privateKey: key,
    agentVersion: 'lp2p/test',
    protocolVersion: 'ipfs/0.1.0',
    getMultiaddrs: () => [...addrs],
    getProtocols: () => [...protocols],
    getConnections: () => [],
    peerStore: new MemoryPeerStore(),
    onIdentify: () => {}
  })
  const conn = (remote: string): Connection => ({ remoteAddr: multiaddr(remote) }) as unknown as Connection

  it('carries every field, and each connection its own observedAddr', () => {
    for (const remote of ['/ip4/1.2.3.4/tcp/5555', '/ip6/::1/tcp/6666', '/ip4/1.2.3.4/tcp/5555']) {
      const msg = decodeIdentify(unframe(service.message(conn(remote))))
      assert.equal(msg.protocolVersion, 'ipfs/0.1.0')
      assert.equal(msg.agentVersion, 'lp2p/test')
      assert.deepEqual(msg.publicKey, key.publicKey.bytes)
      assert.deepEqual(msg.listenAddrs.map(String), ['/ip4/10.0.0.1/tcp/4001'])
      assert.deepEqual(msg.protocols, ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'])
      assert.equal(msg.observedAddr?.toString(), remote)
    }
  })

  it('follows changes of our protocols and addresses', () => {
    protocols = [...protocols, '/echo/1.0.0']
    let msg = decodeIdentify(unframe(service.message(conn('/ip4/1.2.3.4/tcp/1'))))
    assert.deepEqual(msg.protocols, ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', '/echo/1.0.0'])
    addrs = [multiaddr('/ip4/10.0.0.1/tcp/4001'), multiaddr('/ip4/10.0.0.2/tcp/4001')]
    msg = decodeIdentify(unframe(service.message(conn('/ip4/1.2.3.4/tcp/1'))))
    assert.deepEqual(msg.listenAddrs.map(String), ['/ip4/10.0.0.1/tcp/4001', '/ip4/10.0.0.2/tcp/4001'])
    addrs = [multiaddr('/ip4/10.0.0.3/tcp/4001'), multiaddr('/ip4/10.0.0.2/tcp/4001')]
    msg = decodeIdentify(unframe(service.message(conn('/ip4/1.2.3.4/tcp/1'))))
    assert.deepEqual(msg.listenAddrs.map(String), ['/ip4/10.0.0.3/tcp/4001', '/ip4/10.0.0.2/tcp/4001'])
    protocols = ['/a/1.0.0']
    msg = decodeIdentify(unframe(service.message(conn('/ip4/1.2.3.4/tcp/1'))))
    assert.deepEqual(msg.protocols, ['/a/1.0.0'])
  })
})

describe('identify message decoding keeps no view of the message', () => {
  it('copies the public key, the signed record and the addresses', () => {
    const encoded = encodeIdentify({
      publicKey: Uint8Array.of(8, 1, 18, 32, ...new Uint8Array(32).fill(7)),
      listenAddrs: [multiaddr('/ip4/192.0.2.1/tcp/4001')],
      observedAddr: multiaddr('/ip4/198.51.100.2/tcp/5555'),
      protocols: ['/ipfs/ping/1.0.0'],
      signedPeerRecord: Uint8Array.of(1, 2, 3)
    })
    const message = new Uint8Array(32 * 1024)
    message.set(encoded, 10)
    const msg = decodeIdentify(message.subarray(10, 10 + encoded.byteLength))
    const small = (b: Uint8Array | undefined): boolean => b === undefined || b.buffer.byteLength < 1024
    assert.ok(small(msg.publicKey))
    assert.ok(small(msg.signedPeerRecord))
    for (const a of [...msg.listenAddrs, msg.observedAddr]) {
      for (const c of a?.getComponents() ?? []) assert.ok(small(c.bytes))
    }
    message.fill(0)
    assert.equal(msg.listenAddrs[0]?.toString(), '/ip4/192.0.2.1/tcp/4001')
    assert.equal(msg.observedAddr?.toString(), '/ip4/198.51.100.2/tcp/5555')
    assert.deepEqual([...(msg.signedPeerRecord ?? [])], [1, 2, 3])
  })
})
