import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, peerIdFromPrivateKey } from '../../src/identity/index.js'
import type { Connection } from '../../src/interfaces/connection.js'
import { MemoryPeerStore } from '../../src/peer-store/memory-peer-store.js'
import { IdentifyService } from '../../src/protocols/identify.js'
import { openSignedPeerRecord } from '../../src/record/peer-record.js'
import { memoryNode } from '../helpers/nodes.js'
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

describe('IdentifyService: our signed peer record (field 8)', () => {
  const key = generateKeyPair()
  let addrs: Multiaddr[] = [multiaddr('/ip4/10.0.0.1/tcp/4001')]
  const host = {
    privateKey: key,
    agentVersion: 'lp2p/test',
    protocolVersion: 'ipfs/0.1.0',
    getMultiaddrs: () => [...addrs],
    getProtocols: () => ['/ipfs/id/1.0.0'],
    getConnections: () => [],
    peerStore: new MemoryPeerStore(),
    onIdentify: () => {}
  }
  const conn = { remoteAddr: multiaddr('/ip4/1.2.3.4/tcp/1') } as unknown as Connection
  const record = (service: IdentifyService): ReturnType<typeof openSignedPeerRecord> => {
    const bytes = decodeIdentify(unframe(service.message(conn))).signedPeerRecord
    assert.ok(bytes !== undefined, 'the message carries a signed peer record')
    return openSignedPeerRecord(bytes, { expectedPeer: peerIdFromPrivateKey(key) })
  }

  it('certifies our listen addresses; signed once while they stay the same; a higher seq when they change', () => {
    const service = new IdentifyService(host)
    const first = record(service)
    assert.deepEqual(first.record.addresses.map(String), ['/ip4/10.0.0.1/tcp/4001'])
    assert.deepEqual(record(service).bytes, first.bytes, 'the same signature: not signed again')
    addrs = [multiaddr('/ip4/10.0.0.1/tcp/4001'), multiaddr('/ip4/10.0.0.2/tcp/4001')]
    const second = record(service)
    assert.deepEqual(second.record.addresses.map(String), addrs.map(String))
    assert.ok(second.record.seq > first.record.seq)
    // A second service (a restarted node in this process) never goes back either.
    assert.ok(record(new IdentifyService(host)).record.seq > second.record.seq)
    const ms = BigInt(Date.now())
    assert.ok(second.record.seq <= ms + 10n && second.record.seq > ms - 60_000n, 'seq is milliseconds since the epoch')
  })
})

describe('IdentifyService: a failed query is retried, at most once per retryInterval', () => {
  it('caches the failure until the interval has passed, then runs again', async () => {
    let attempts = 0
    const conn = {
      remoteAddr: multiaddr('/ip4/1.2.3.4/tcp/1'),
      newStream: async () => { attempts++; throw new Error(`refused ${attempts}`) }
    } as unknown as Connection
    const service = new IdentifyService({
      privateKey: generateKeyPair(),
      agentVersion: 'a',
      protocolVersion: 'p',
      getMultiaddrs: () => [],
      getProtocols: () => [],
      getConnections: () => [],
      peerStore: new MemoryPeerStore(),
      onIdentify: () => {}
    }, { retryInterval: 200 })
    await assert.rejects(service.identify(conn), /refused 1/)
    await assert.rejects(service.identify(conn), /refused 1/, 'within the interval: the cached failure')
    assert.equal(attempts, 1)
    await new Promise((resolve) => setTimeout(resolve, 250))
    await assert.rejects(service.identify(conn), /refused 2/, 'after it: a new query')
    assert.equal(attempts, 2)
  })
})

describe('identify between two nodes: signed peer records and the store', () => {
  it('stores the remote\'s certified addresses and keeps the dialed address as connected', async () => {
    const a = await memoryNode()
    const b = await memoryNode()
    try {
      const target = b.getMultiaddrs()[0] as Multiaddr
      const conn = await a.dial(target)
      const result = await a.identify(conn)
      assert.equal(result.signedPeerRecord?.accepted, true)
      assert.deepEqual(result.signedPeerRecord?.addresses.map(String), result.listenAddrs.map(String))
      const peer = a.peerStore.get(b.peerId)
      assert.ok(peer?.peerRecordEnvelope !== undefined)
      const dialed = target.decapsulateCode(421).toString()
      const byAddr = new Map(peer?.addresses.map((r) => [r.multiaddr.toString(), r]))
      assert.equal(byAddr.get(dialed)?.class, 'connected', 'the dialed address, now connected')
      assert.equal(byAddr.get(dialed)?.certified, true, 'and certified by the record')
      // identify again on a new connection: same seq, not accepted again, nothing lost
      await a.hangUp(b.peerId)
      const again = await a.identify(await a.dial(b.peerId))
      assert.equal(again.signedPeerRecord?.accepted, false)
      assert.ok(a.peerStore.get(b.peerId)?.addresses.some((r) => r.certified))
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
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
