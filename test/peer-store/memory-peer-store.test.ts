/**
 * The in-memory peer store beyond addresses, on a simulated clock: protocols, keys,
 * versions, metadata, tags, events, the peer bound and eviction order, gc, argument
 * checks, and a property test of the invariants under random operations.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import { isLp2pError } from '../../src/errors.js'
import { generateKeyPair, peerIdFromPublicKey, peerIdFromString } from '../../src/identity/index.js'
import type { PeerUpdateEvent } from '../../src/interfaces/peer-store.js'
import { MemoryPeerStore } from '../../src/peer-store/memory-peer-store.js'
import { addr, setup, MIN, newPeer } from './helpers.js'


describe('peer store: what identify tells', () => {
  it('protocols are deduplicated and bounded (maxProtocolsPerPeer, 128 by default)', () => {
    const { store } = setup({ maxProtocolsPerPeer: 3 })
    const { id } = newPeer()
    store.patch(id, { protocols: ['/a', '/b', '/a', '/c', '/d'] })
    assert.deepEqual(store.get(id)?.protocols, ['/a', '/b', '/c'])
    const { store: big } = setup()
    big.patch(id, { protocols: Array.from({ length: 200 }, (_, i) => `/p/${i}`) })
    assert.equal(big.get(id)?.protocols.length, 128)
  })

  it('a public key must be the peer\'s (ERR_INVALID_KEY); an RSA key is kept, an inlined key is shown', () => {
    const { store } = setup()
    const rsa = generateKeyPair('RSA')
    // Parsed from text, as a peer id from the network or the user comes: no key with it.
    const rsaId = peerIdFromString(peerIdFromPublicKey(rsa.publicKey).toString())
    assert.equal(rsaId.publicKey, undefined, 'an RSA peer id does not inline its key')
    assert.throws(() => store.patch(rsaId, { publicKey: generateKeyPair('Ed25519').publicKey, protocols: ['/x'] }),
      (e) => isLp2pError(e, 'ERR_INVALID_KEY'))
    assert.equal(store.get(rsaId), undefined, 'nothing of the rejected patch was applied')
    store.patch(rsaId, { publicKey: rsa.publicKey, agentVersion: 'a/1', protocolVersion: 'ipfs/0.1.0' })
    const peer = store.get(rsaId)
    assert.ok(peer?.publicKey?.equals(rsa.publicKey))
    assert.equal(peer?.agentVersion, 'a/1')
    assert.equal(peer?.protocolVersion, 'ipfs/0.1.0')
    const { id } = newPeer()
    store.addAddresses(id, [addr(1)])
    assert.ok(store.get(id)?.publicKey?.equals(id.publicKey as NonNullable<typeof id.publicKey>))
  })
})

describe('peer store: metadata and tags', () => {
  it('metadata: set, replace, remove; values are copies; bounds are typed errors', () => {
    const { store } = setup({ maxMetadataKeys: 2, maxMetadataValueBytes: 4, maxKeyLength: 5 })
    const { id } = newPeer()
    const value = Uint8Array.of(1, 2)
    store.setMetadata(id, 'a', value)
    value[0] = 9
    assert.deepEqual(store.get(id)?.metadata.get('a'), Uint8Array.of(1, 2))
    store.setMetadata(id, 'b', Uint8Array.of(3))
    store.setMetadata(id, 'a', Uint8Array.of(4))
    assert.throws(() => store.setMetadata(id, 'c', Uint8Array.of(5)), (e) => isLp2pError(e, 'ERR_TOO_MANY_ENTRIES'))
    assert.throws(() => store.setMetadata(id, 'a', new Uint8Array(5)), RangeError)
    assert.throws(() => store.setMetadata(id, 'abcdef', Uint8Array.of(1)), RangeError)
    assert.throws(() => store.setMetadata(id, 'a', 'text' as unknown as Uint8Array), TypeError)
    store.setMetadata(id, 'a', undefined)
    assert.deepEqual([...store.get(id)?.metadata.keys() ?? []], ['b'])
    store.setMetadata(newPeer().id, 'x', undefined)
    assert.equal(store.size, 1, 'removing from an unknown peer creates nothing')
  })

  it('tags: value and optional lifetime; an expired tag is gone; bounded', () => {
    const { clock, store } = setup({ maxTagsPerPeer: 2 })
    const { id } = newPeer()
    store.tag(id, 'keep', 10)
    store.tag(id, 'short', 5, { ttl: MIN })
    assert.deepEqual(store.get(id)?.tags.get('short'), { value: 5, expires: clock.t + MIN })
    assert.throws(() => store.tag(id, 'third', 1), (e) => isLp2pError(e, 'ERR_TOO_MANY_ENTRIES'))
    clock.advance(MIN)
    assert.deepEqual([...store.get(id)?.tags.keys() ?? []], ['keep'])
    store.tag(id, 'third', 1)
    store.tag(id, 'keep', undefined)
    assert.deepEqual([...store.get(id)?.tags.entries() ?? []], [['third', { value: 1 }]])
    assert.throws(() => store.tag(id, 'x', Number.NaN), TypeError)
  })
})

describe('peer store: peer:update events', () => {
  it('emitted after the change is committed, with the previous snapshot; not for a write that changes nothing', () => {
    const { store } = setup()
    const { id } = newPeer()
    const events: PeerUpdateEvent[] = []
    store.on('peer:update', (e) => {
      assert.deepEqual(store.get(id), e.peer, 'the store already holds what the event says')
      events.push(e)
    })
    store.addAddresses(id, [addr(1)])
    store.addAddresses(id, [addr(1)])
    store.patch(id, { protocols: [] })
    store.patch(id, { protocols: ['/a'] })
    assert.equal(events.length, 2)
    assert.equal(events[0]?.previous, undefined, 'a new peer has no previous')
    assert.deepEqual(events[1]?.previous?.protocols, [])
    assert.deepEqual(events[1]?.peer.protocols, ['/a'])
  })

  it('a throwing listener neither breaks the write nor keeps the event from the others; it becomes a warning', async () => {
    const { store } = setup()
    const { id } = newPeer()
    const seen: string[] = []
    const warnings: Error[] = []
    const onWarning = (w: Error): void => { warnings.push(w) }
    process.on('warning', onWarning)
    try {
      store.on('peer:update', () => { seen.push('first'); throw new Error('listener bug') })
      store.once('peer:update', () => { seen.push('once') })
      store.on('peer:update', () => { seen.push('last') })
      store.addAddresses(id, [addr(1)])
      store.addAddresses(id, [addr(2)])
      assert.equal(store.get(id)?.addresses.length, 2, 'both writes committed')
      assert.deepEqual(seen, ['first', 'once', 'last', 'first', 'last'])
      await new Promise((resolve) => setImmediate(resolve))
      assert.ok(warnings.some((w) => w.message.includes('listener bug')), 'reported as a process warning')
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('peer store: the peer bound (maxPeers) and eviction', () => {
  it('evicts the least recently seen disconnected untagged peer first; never a connected one', () => {
    const { clock, store } = setup({ maxPeers: 3 })
    const [a, b, c, d, e] = Array.from({ length: 5 }, () => newPeer().id) as [ReturnType<typeof newPeer>['id'], ...Array<ReturnType<typeof newPeer>['id']>]
    store.connected(a, addr(1)) // oldest, but connected
    clock.advance(1)
    store.addAddresses(b as typeof a, [addr(2)])
    clock.advance(1)
    store.addAddresses(c as typeof a, [addr(3)])
    store.tag(b as typeof a, 'bootstrap', 1)
    store.addAddresses(d as typeof a, [addr(4)])
    assert.deepEqual([a, b, d].map((p) => store.has(p as typeof a)), [true, true, true])
    assert.equal(store.has(c as typeof a), false, 'c: untagged, disconnected')
    store.addAddresses(e as typeof a, [addr(5)])
    assert.equal(store.has(d as typeof a), false, 'then d, the untagged one')
    assert.equal(store.size, 3)
    store.tag(e as typeof a, 'x', 1)
    store.addAddresses(newPeer().id, [addr(6)])
    assert.equal(store.has(b as typeof a), false, 'all tagged: the least recently seen tagged one')
    assert.equal(store.has(a), true)
  })

  it('seeing a peer (a connection opened or closed) makes it the most recently seen', () => {
    const { store } = setup({ maxPeers: 2 })
    const p1 = newPeer().id; const p2 = newPeer().id
    store.addAddresses(p1, [addr(1)])
    store.addAddresses(p2, [addr(2)])
    store.connected(p1, addr(1))
    store.disconnected(p1)
    store.addAddresses(newPeer().id, [addr(3)])
    assert.equal(store.has(p1), true)
    assert.equal(store.has(p2), false)
  })

  it('when every peer is connected, a new disconnected peer is not stored; a connected one is', () => {
    const { store } = setup({ maxPeers: 2 })
    store.connected(newPeer().id)
    store.connected(newPeer().id)
    const late = newPeer().id
    store.addAddresses(late, [addr(1)])
    assert.equal(store.has(late), false)
    store.connected(late, addr(1))
    assert.equal(store.size, 3, 'the bound may be exceeded by connected peers only')
  })

  it('gc collects expired entries and removes the peers left with nothing', () => {
    const { clock, store } = setup()
    const gone = newPeer().id; const tagged = newPeer().id; const withMeta = newPeer().id; const conn = newPeer().id
    for (const p of [gone, tagged, withMeta]) store.addAddresses(p, [addr(1)], { class: 'temporary' })
    store.patch(gone, { protocols: ['/a'] })
    store.tag(tagged, 't', 1)
    store.setMetadata(withMeta, 'm', Uint8Array.of(1))
    store.connected(conn)
    clock.advance(2 * MIN)
    assert.equal(store.gc(), 1)
    assert.deepEqual([gone, tagged, withMeta, conn].map((p) => store.has(p)), [false, true, true, true])
    assert.deepEqual(store.get(tagged)?.addresses, [])
  })
})

describe('peer store: arguments', () => {
  it('TypeError for a wrong type, RangeError for a wrong value', () => {
    const { store } = setup()
    const { id } = newPeer()
    assert.throws(() => store.get('12D3Koo' as unknown as typeof id), TypeError)
    assert.throws(() => store.addAddresses(id, ['/ip4/1.2.3.4/tcp/1' as unknown as ReturnType<typeof multiaddr>]), TypeError)
    assert.throws(() => store.addAddresses(id, [addr(1)], { class: 'forever' as 'default' }), RangeError)
    assert.throws(() => store.addAddresses(id, [addr(1)], { ttl: -1 }), RangeError)
    assert.throws(() => store.patch(id, { protocols: [1 as unknown as string] }), TypeError)
    assert.throws(() => store.recordDial(id, addr(1), { at: 'now' } as unknown as { at: number, ok: boolean }), TypeError)
    assert.throws(() => new MemoryPeerStore({ maxPeers: 0 }), RangeError)
    assert.equal(store.size, 0)
  })
})

describe('peer store: invariants under random operations (property)', () => {
  it('bounds hold, no expired entry is ever read, snapshots are stable', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('add' as const), p: fc.nat(5), a: fc.nat(12), cls: fc.constantFrom('temporary', 'default', 'permanent', 'recently-connected') }),
      fc.record({ k: fc.constant('set' as const), p: fc.nat(5), a: fc.array(fc.nat(12), { maxLength: 4 }) }),
      fc.record({ k: fc.constant('conn' as const), p: fc.nat(5), a: fc.nat(12) }),
      fc.record({ k: fc.constant('disc' as const), p: fc.nat(5) }),
      fc.record({ k: fc.constant('tag' as const), p: fc.nat(5), ttl: fc.option(fc.nat(3 * MIN)) }),
      fc.record({ k: fc.constant('time' as const), ms: fc.nat(20 * MIN) }),
      fc.record({ k: fc.constant('gc' as const) })
    )
    const peers = Array.from({ length: 6 }, () => newPeer().id)
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const { clock, store } = setup({ maxPeers: 4, maxAddressesPerPeer: 3 })
      const connected = new Set<number>()
      for (const o of ops) {
        const p = 'p' in o ? peers[o.p] as typeof peers[0] : undefined
        switch (o.k) {
          case 'add': store.addAddresses(p as typeof peers[0], [addr(o.a)], { class: o.cls }); break
          case 'set': store.setAddresses(p as typeof peers[0], o.a.map((n) => addr(n))); break
          case 'conn': store.connected(p as typeof peers[0], addr(o.a)); connected.add(o.p); break
          case 'disc': store.disconnected(p as typeof peers[0]); connected.delete(o.p); break
          case 'tag': store.tag(p as typeof peers[0], 't', 1, o.ttl === null ? {} : { ttl: o.ttl }); break
          case 'time': clock.advance(o.ms); break
          case 'gc': store.gc(); break
        }
        // Every assertion has a message: without one, a failing assert.ok re-parses the
        // (transpiled) source to describe the expression, which took minutes here.
        assert.ok(store.size <= Math.max(4, connected.size), `${store.size} peers`)
        for (const peer of store.all()) {
          const unconnected = peer.addresses.filter((a) => a.class !== 'connected')
          assert.ok(unconnected.length <= 3, `${unconnected.length} unconnected addresses`)
          for (const a of peer.addresses) assert.ok(a.expires > clock.t, 'an expired address was read')
          for (const t of peer.tags.values()) assert.ok(t.expires === undefined || t.expires > clock.t, 'an expired tag was read')
          assert.ok(store.get(peer.id) === store.get(peer.id), 'a snapshot is reused until a change')
          assert.ok(Object.isFrozen(peer), 'snapshots are frozen')
        }
        for (const i of connected) assert.ok(store.has(peers[i] as typeof peers[0]), 'a connected peer was evicted')
      }
    }), { numRuns: Number(process.env.PROP_RUNS ?? 300), endOnFailure: true, ...(process.env.PROP_SEED !== undefined ? { seed: Number(process.env.PROP_SEED), path: process.env.PROP_PATH } : {}) })
  })
})
