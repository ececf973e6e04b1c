import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../src/identity/index.js'
import type { Connection } from '../../src/interfaces/connection.js'
import { MemoryPeerStore } from '../../src/peer-store/memory-peer-store.js'
import { IdentifyService } from '../../src/protocols/identify.js'
import { decodeIdentify } from '../../src/protocols/identify-message.js'
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
