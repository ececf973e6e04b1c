/**
 * The address book of the in-memory peer store on a simulated clock: the five
 * classes and their lifetimes, merging, connections, identify's replacement rule,
 * signed peer records, the per-peer bound and lazy collection.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { isLp2pError } from '../../src/errors.js'
import { createSignedPeerRecord, encodePeerRecord, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE } from '../../src/record/peer-record.js'
import { sealEnvelope } from '../../src/record/envelope.js'
import { addr, setup, describeAddrs, HOUR, MIN, newPeer } from './helpers.js'


describe('peer store: address classes and lifetimes', () => {
  const cases = [
    { cls: 'temporary', life: 2 * MIN },
    { cls: 'default', life: HOUR },
    { cls: 'recently-connected', life: 15 * MIN }
  ] as const
  for (const { cls, life } of cases) {
    it(`${cls}: kept ${life / MIN} min, then collected on read`, () => {
      const { clock, store } = setup()
      const { id } = newPeer()
      store.addAddresses(id, [addr(1)], { class: cls })
      const held = store.get(id)?.addresses[0]
      assert.equal(held?.class, cls)
      assert.equal(held?.expires, clock.t + life)
      clock.advance(life - 1)
      assert.equal(store.get(id)?.addresses.length, 1)
      clock.advance(1)
      assert.deepEqual(store.get(id)?.addresses, [])
    })
  }

  it('default is the class when none is given; permanent never expires, whatever the ttl', () => {
    const { clock, store } = setup()
    const { id } = newPeer()
    store.addAddresses(id, [addr(1)])
    store.addAddresses(id, [addr(2)], { class: 'permanent', ttl: 1000 })
    assert.deepEqual(describeAddrs(store.get(id)), ['/ip4/10.0.0.1/tcp/4001 default', '/ip4/10.0.0.2/tcp/4001 permanent'])
    assert.equal(store.get(id)?.addresses[1]?.expires, Infinity)
    clock.advance(1000 * HOUR)
    assert.deepEqual(describeAddrs(store.get(id)), ['/ip4/10.0.0.2/tcp/4001 permanent'])
  })

  it('ttl overrides the lifetime of the other classes; the options set the defaults', () => {
    const { clock, store } = setup({ defaultTtl: 10_000, temporaryTtl: 5 })
    const { id } = newPeer()
    store.addAddresses(id, [addr(1)], { ttl: 30 })
    store.addAddresses(id, [addr(2)])
    store.addAddresses(id, [addr(3)], { class: 'temporary' })
    assert.deepEqual(store.get(id)?.addresses.map((a) => a.expires - clock.t), [30, 10_000, 5])
  })

  it('a known address keeps the stronger class and the later expiry', () => {
    const { clock, store } = setup()
    const { id } = newPeer()
    store.addAddresses(id, [addr(1)], { class: 'default' })
    const firstExpiry = clock.t + HOUR
    clock.advance(MIN)
    store.addAddresses(id, [addr(1)], { class: 'temporary' })
    assert.equal(store.get(id)?.addresses[0]?.class, 'default')
    assert.equal(store.get(id)?.addresses[0]?.expires, firstExpiry, 'a shorter lifetime never shortens it')
    store.addAddresses(id, [addr(1)], { class: 'recently-connected' })
    assert.equal(store.get(id)?.addresses[0]?.class, 'recently-connected', 'stronger class')
    assert.equal(store.get(id)?.addresses[0]?.expires, firstExpiry, 'but the later expiry')
    clock.advance(30 * MIN)
    store.addAddresses(id, [addr(1)])
    assert.equal(store.get(id)?.addresses[0]?.expires, clock.t + HOUR, 'refreshed')
  })

  it('strips /p2p/<peer>, skips addresses of another peer and bare peer ids', () => {
    const { store } = setup()
    const { id } = newPeer()
    const other = newPeer().id
    store.addAddresses(id, [
      multiaddr(`/ip4/10.0.0.1/tcp/1/p2p/${id.toString()}`),
      multiaddr(`/ip4/10.0.0.2/tcp/1/p2p/${other.toString()}`),
      multiaddr(`/p2p/${id.toString()}`),
      multiaddr(`/ip4/10.0.0.3/tcp/1/p2p/${other.toString()}/p2p-circuit`)
    ])
    assert.deepEqual(describeAddrs(store.get(id)), [
      '/ip4/10.0.0.1/tcp/1 default',
      `/ip4/10.0.0.3/tcp/1/p2p/${other.toString()}/p2p-circuit default`
    ])
  })
})

describe('peer store: connections', () => {
  it('connected: kept while connected, then recently-connected for 15 min', () => {
    const { clock, store } = setup()
    const { id } = newPeer()
    store.connected(id, addr(1))
    assert.deepEqual(describeAddrs(store.get(id)), ['/ip4/10.0.0.1/tcp/4001 connected'])
    assert.equal(store.get(id)?.addresses[0]?.expires, Infinity)
    assert.equal(store.get(id)?.lastSeen, clock.t)
    clock.advance(10 * HOUR)
    assert.equal(store.get(id)?.addresses.length, 1, 'never expires while connected')
    store.disconnected(id)
    assert.equal(store.get(id)?.lastSeen, clock.t)
    assert.deepEqual(describeAddrs(store.get(id)), ['/ip4/10.0.0.1/tcp/4001 recently-connected'])
    clock.advance(15 * MIN)
    assert.deepEqual(store.get(id)?.addresses, [])
  })

  it('a connected address that was also a listen address keeps the longer of the two lifetimes after the close', () => {
    const { clock, store } = setup()
    const { id } = newPeer()
    store.setAddresses(id, [addr(1)], { class: 'default' })
    store.connected(id, addr(1))
    assert.equal(store.get(id)?.addresses[0]?.class, 'connected')
    store.disconnected(id)
    assert.equal(store.get(id)?.addresses[0]?.class, 'recently-connected')
    assert.equal(store.get(id)?.addresses[0]?.expires, clock.t + HOUR, 'the hour of the listen address, not 15 min')
  })

  it('a permanent address stays permanent across a connection', () => {
    const { clock, store } = setup()
    const { id } = newPeer()
    store.addAddresses(id, [addr(1)], { class: 'permanent' })
    store.connected(id, addr(1))
    store.disconnected(id)
    clock.advance(100 * HOUR)
    assert.deepEqual(describeAddrs(store.get(id)), ['/ip4/10.0.0.1/tcp/4001 permanent'])
  })

  it('connected without an address marks the peer connected only; disconnected of an unknown peer is nothing', () => {
    const { store } = setup()
    const { id } = newPeer()
    store.connected(id)
    assert.deepEqual(store.get(id)?.addresses, [])
    store.disconnected(newPeer().id)
    assert.equal(store.size, 1)
  })
})

describe('peer store: identify listen addresses (setAddresses)', () => {
  it('replaces the previous listen addresses but never drops the connection\'s address', () => {
    const { store } = setup()
    const { id } = newPeer()
    store.connected(id, addr(9))
    store.setAddresses(id, [addr(1), addr(2), addr(9)], { class: 'default' })
    store.setAddresses(id, [addr(2), addr(3)], { class: 'default' })
    assert.deepEqual(describeAddrs(store.get(id)), [
      '/ip4/10.0.0.9/tcp/4001 connected', '/ip4/10.0.0.2/tcp/4001 default', '/ip4/10.0.0.3/tcp/4001 default'
    ])
    store.disconnected(id)
    assert.equal(store.get(id)?.addresses[0]?.class, 'recently-connected', 'no longer a listen address: 15 min')
  })

  it('leaves the other classes and certified addresses alone', () => {
    const { store } = setup()
    const { key, id } = newPeer()
    store.addAddresses(id, [addr(1)], { class: 'permanent' })
    store.addAddresses(id, [addr(2)], { class: 'temporary' })
    store.consumePeerRecord(createSignedPeerRecord(key, [addr(3)], 1n).bytes, id)
    store.setAddresses(id, [addr(4)], { class: 'default' })
    assert.deepEqual(describeAddrs(store.get(id)), [
      '/ip4/10.0.0.3/tcp/4001 default certified', '/ip4/10.0.0.1/tcp/4001 permanent',
      '/ip4/10.0.0.2/tcp/4001 temporary', '/ip4/10.0.0.4/tcp/4001 default'
    ])
    assert.throws(() => store.setAddresses(id, [], { class: 'connected' }), RangeError)
  })
})

describe('peer store: signed peer records', () => {
  it('stores the record\'s addresses as certified, first, with the envelope, seq and key', () => {
    const { store } = setup()
    const { key, id } = newPeer()
    store.addAddresses(id, [addr(1)])
    const signed = createSignedPeerRecord(key, [addr(2), addr(1)], 5n)
    const r = store.consumePeerRecord(signed.bytes, id)
    assert.equal(r.accepted, true)
    assert.ok(r.peer.equals(id))
    assert.equal(r.seq, 5n)
    const peer = store.get(id)
    assert.deepEqual(describeAddrs(peer), ['/ip4/10.0.0.1/tcp/4001 default certified', '/ip4/10.0.0.2/tcp/4001 default certified'])
    assert.deepEqual(peer?.peerRecordEnvelope, signed.bytes)
    assert.equal(peer?.peerRecordSeq, 5n)
    assert.ok(peer?.publicKey?.equals(key.publicKey))
  })

  it('keeps the highest seq: an older or equal record is not accepted and changes nothing', () => {
    const { store } = setup()
    const { key, id } = newPeer()
    const newer = createSignedPeerRecord(key, [addr(2)], 10n)
    store.consumePeerRecord(newer.bytes)
    for (const seq of [10n, 9n, 0n]) {
      const r = store.consumePeerRecord(createSignedPeerRecord(key, [addr(7)], seq).bytes, id)
      assert.equal(r.accepted, false, `seq ${seq}`)
    }
    assert.deepEqual(describeAddrs(store.get(id)), ['/ip4/10.0.0.2/tcp/4001 default certified'])
    assert.deepEqual(store.get(id)?.peerRecordEnvelope, newer.bytes)
  })

  it('a newer record drops the addresses only the older one certified, unless a connection or a permanent entry holds them', () => {
    const { store } = setup()
    const { key, id } = newPeer()
    store.consumePeerRecord(createSignedPeerRecord(key, [addr(1), addr(2), addr(3)], 1n).bytes)
    store.connected(id, addr(2))
    store.addAddresses(id, [addr(3)], { class: 'permanent' })
    store.consumePeerRecord(createSignedPeerRecord(key, [addr(4)], 2n).bytes)
    assert.deepEqual(describeAddrs(store.get(id)), [
      '/ip4/10.0.0.4/tcp/4001 default certified', '/ip4/10.0.0.2/tcp/4001 connected', '/ip4/10.0.0.3/tcp/4001 permanent'
    ])
  })

  it('the record held, sent again, is answered from the store: not accepted, same seq and addresses', () => {
    const { store } = setup()
    const { key, id } = newPeer()
    const signed = createSignedPeerRecord(key, [addr(1), addr(2)], 3n)
    store.consumePeerRecord(signed.bytes, id)
    const again = store.consumePeerRecord(Uint8Array.from(signed.bytes), id)
    assert.deepEqual([again.accepted, again.seq, again.addresses.map(String)], [false, 3n, [String(addr(1)), String(addr(2))]])
    assert.throws(() => store.consumePeerRecord(signed.bytes, newPeer().id), (e) => isLp2pError(e, 'ERR_UNEXPECTED_PEER'),
      'still checked against the expected peer')
  })

  it('rejects a record of another peer than expected (ERR_UNEXPECTED_PEER) and a forged one, storing nothing', () => {
    const { store } = setup()
    const { key, id } = newPeer()
    const other = newPeer()
    assert.throws(() => store.consumePeerRecord(createSignedPeerRecord(other.key, [addr(1)], 1n).bytes, id),
      (e) => isLp2pError(e, 'ERR_UNEXPECTED_PEER'))
    const forged = sealEnvelope(key, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE,
      encodePeerRecord({ peerId: other.id, seq: 1n, addresses: [addr(1)] })).bytes
    assert.throws(() => store.consumePeerRecord(forged), (e) => isLp2pError(e, 'ERR_INVALID_PEER_RECORD'))
    assert.throws(() => store.consumePeerRecord(Uint8Array.of(1, 2, 3)), (e) => isLp2pError(e))
    assert.equal(store.size, 0)
  })
})

describe('peer store: addresses per peer (maxAddressesPerPeer)', () => {
  it('keeps at most the bound, connected addresses not counted, the weakest going first', () => {
    const { clock, store } = setup({ maxAddressesPerPeer: 3 })
    const { key, id } = newPeer()
    store.consumePeerRecord(createSignedPeerRecord(key, [addr(1)], 1n).bytes)
    store.addAddresses(id, [addr(2)], { class: 'temporary' })
    store.addAddresses(id, [addr(3)], { class: 'default' })
    store.connected(id, addr(9))
    clock.advance(1)
    store.addAddresses(id, [addr(4)], { class: 'default' })
    assert.deepEqual(describeAddrs(store.get(id)), [
      '/ip4/10.0.0.1/tcp/4001 default certified', '/ip4/10.0.0.3/tcp/4001 default',
      '/ip4/10.0.0.9/tcp/4001 connected', '/ip4/10.0.0.4/tcp/4001 default'
    ], 'the temporary one went')
    store.addAddresses(id, [addr(5)], { class: 'default' })
    assert.ok(!describeAddrs(store.get(id)).includes('/ip4/10.0.0.3/tcp/4001 default'), 'then the uncertified default expiring first')
    store.addAddresses(id, [addr(6)], { class: 'temporary' })
    assert.ok(!describeAddrs(store.get(id)).some((l) => l.startsWith('/ip4/10.0.0.6/')), 'a new address weaker than all held is dropped')
    assert.ok(describeAddrs(store.get(id)).includes('/ip4/10.0.0.1/tcp/4001 default certified'), 'certified kept')
  })

  it('a connection\'s address released into a full book pushes out the weakest', () => {
    const { store } = setup({ maxAddressesPerPeer: 2 })
    const { id } = newPeer()
    store.addAddresses(id, [addr(1)], { class: 'temporary' })
    store.addAddresses(id, [addr(2)], { class: 'default' })
    store.connected(id, addr(3))
    store.disconnected(id)
    assert.deepEqual(describeAddrs(store.get(id)), ['/ip4/10.0.0.2/tcp/4001 default', '/ip4/10.0.0.3/tcp/4001 recently-connected'])
  })

  it('64 by default, as go-libp2p', () => {
    const { store } = setup()
    const { id } = newPeer()
    store.addAddresses(id, Array.from({ length: 100 }, (_, i) => addr(i)))
    assert.equal(store.get(id)?.addresses.length, 64)
  })
})

describe('peer store: dial outcomes', () => {
  it('records the last outcome per address; an unknown address is kept as temporary', () => {
    const { clock, store } = setup()
    const { id } = newPeer()
    store.addAddresses(id, [addr(1)])
    store.recordDial(id, addr(1), { at: clock.t, ok: false, code: 'ERR_TIMEOUT', durationMs: 3000 })
    store.recordDial(id, addr(2), { at: clock.t, ok: true })
    const [a, b] = store.get(id)?.addresses ?? []
    assert.deepEqual(a?.lastDial, { at: clock.t, ok: false, code: 'ERR_TIMEOUT', durationMs: 3000 })
    assert.equal(b?.class, 'temporary')
    assert.deepEqual(b?.lastDial, { at: clock.t, ok: true })
    store.recordDial(id, addr(1), { at: clock.t + 1, ok: true })
    assert.equal(store.get(id)?.addresses[0]?.lastDial?.ok, true)
  })
})
