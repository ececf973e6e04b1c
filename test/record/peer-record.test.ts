import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import { isLp2pError } from '../../src/errors.js'
import { generateKeyPair, peerIdFromPrivateKey } from '../../src/identity/index.js'
import { sealEnvelope } from '../../src/record/envelope.js'
import {
  createSignedPeerRecord, decodePeerRecord, encodePeerRecord, openSignedPeerRecord,
  LEGACY_PEER_RECORD_DOMAIN, LEGACY_PEER_RECORD_PAYLOAD_TYPE, MAX_PEER_RECORD_ADDRESSES,
  PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE, type PeerRecord
} from '../../src/record/peer-record.js'
import { ProtobufWriter } from '../../src/wire/protobuf.js'
import { outcomeOf } from './helpers.js'
import { flip, toHex } from '../identity/helpers.js'

const alice = generateKeyPair('Ed25519')
const aliceId = peerIdFromPrivateKey(alice)
const bob = generateKeyPair('Ed25519')
const bobId = peerIdFromPrivateKey(bob)
const addrs = [multiaddr('/ip4/192.0.2.1/tcp/42'), multiaddr('/ip6/2001:db8::1/udp/4001/quic-v1')]


const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 65535 }))
  .map(([a, b, c, d, port]) => multiaddr(`/ip4/${a}.${b}.${c}.${d}/tcp/${port}`))

describe('peer record (RFC 0003)', () => {
  it('encodes as the RFC protobuf: peer_id = 1, seq = 2, AddressInfo { multiaddr = 1 } = 3', () => {
    const bytes = encodePeerRecord({ peerId: aliceId, seq: 300n, addresses: [addrs[0] as ReturnType<typeof multiaddr>] })
    const a = (addrs[0] as ReturnType<typeof multiaddr>).bytes
    const expected = new ProtobufWriter().bytes(1, aliceId.bytes).uint64(2, 300n)
      .message(3, new ProtobufWriter().bytes(1, a)).finish()
    assert.equal(toHex(bytes), toHex(expected))
    assert.equal(toHex(bytes.subarray(aliceId.bytes.length + 2, aliceId.bytes.length + 5)), '10ac02', 'seq 300 as a varint')
  })

  it('property: encode/decode round-trip for any uint64 seq and addresses', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.array(ipv4, { maxLength: 8 }), (seq, list) => {
      const back = decodePeerRecord(encodePeerRecord({ peerId: aliceId, seq, addresses: list }))
      assert.ok(back.peerId.equals(aliceId))
      assert.equal(back.seq, seq)
      assert.deepEqual(back.addresses.map(String), list.map(String))
    }), { numRuns: 300 })
  })

  it('signs with domain libp2p-peer-record and payload type 03 01 (go-libp2p and js-libp2p), and opens', () => {
    const signed = createSignedPeerRecord(alice, addrs, 7n)
    assert.deepEqual(signed.envelope.payloadType, PEER_RECORD_PAYLOAD_TYPE)
    assert.equal(PEER_RECORD_DOMAIN, 'libp2p-peer-record')
    const opened = openSignedPeerRecord(signed.bytes, { expectedPeer: aliceId })
    assert.ok(opened.record.peerId.equals(aliceId))
    assert.equal(opened.record.seq, 7n)
    assert.deepEqual(opened.record.addresses.map(String), addrs.map(String))
    assert.deepEqual(opened.bytes, signed.bytes)
  })

  it('accepts the RFC\'s own (rust-libp2p "legacy") form: libp2p-routing-state, /libp2p/routing-state-record', () => {
    const payload = encodePeerRecord({ peerId: aliceId, seq: 9n, addresses: addrs })
    const { bytes } = sealEnvelope(alice, LEGACY_PEER_RECORD_DOMAIN, LEGACY_PEER_RECORD_PAYLOAD_TYPE, payload)
    assert.equal(openSignedPeerRecord(bytes, { expectedPeer: aliceId }).record.seq, 9n)
  })

  it('each payload type verifies only under its own domain: ERR_INVALID_SIGNATURE', () => {
    const payload = encodePeerRecord({ peerId: aliceId, seq: 1n, addresses: addrs })
    const crossed = [
      sealEnvelope(alice, LEGACY_PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE, payload).bytes,
      sealEnvelope(alice, PEER_RECORD_DOMAIN, LEGACY_PEER_RECORD_PAYLOAD_TYPE, payload).bytes,
      sealEnvelope(alice, 'libp2p-routing-record', PEER_RECORD_PAYLOAD_TYPE, payload).bytes
    ]
    for (const b of crossed) assert.equal(outcomeOf(() => openSignedPeerRecord(b)), 'ERR_INVALID_SIGNATURE')
  })

  it('another payload type (even 0x0301 as a varint, 81 06) is not a peer record: ERR_INVALID_PEER_RECORD', () => {
    const payload = encodePeerRecord({ peerId: aliceId, seq: 1n, addresses: addrs })
    for (const type of [Uint8Array.of(0x81, 0x06), Uint8Array.of(0x03, 0x02), new Uint8Array(0)]) {
      const { bytes } = sealEnvelope(alice, PEER_RECORD_DOMAIN, type, payload)
      assert.equal(outcomeOf(() => openSignedPeerRecord(bytes)), 'ERR_INVALID_PEER_RECORD')
    }
  })

  it('a record of another peer than its signer is discarded: ERR_INVALID_PEER_RECORD', () => {
    const payload = encodePeerRecord({ peerId: bobId, seq: 1n, addresses: addrs })
    const { bytes } = sealEnvelope(alice, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE, payload)
    assert.equal(outcomeOf(() => openSignedPeerRecord(bytes)), 'ERR_INVALID_PEER_RECORD')
  })

  it('a record signed by someone else than the expected peer: ERR_UNEXPECTED_PEER', () => {
    const { bytes } = createSignedPeerRecord(bob, addrs, 1n)
    assert.equal(outcomeOf(() => openSignedPeerRecord(bytes, { expectedPeer: aliceId })), 'ERR_UNEXPECTED_PEER')
  })

  it('a signed payload that is not a record: ERR_INVALID_PEER_RECORD', () => {
    for (const payload of [Uint8Array.of(0xff, 0xff), new ProtobufWriter().uint(2, 5).finish(), new ProtobufWriter().bytes(1, Uint8Array.of(1, 2)).finish()]) {
      const { bytes } = sealEnvelope(alice, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE, payload)
      assert.equal(outcomeOf(() => openSignedPeerRecord(bytes)), 'ERR_INVALID_PEER_RECORD')
    }
  })

  it(`keeps at most ${MAX_PEER_RECORD_ADDRESSES} addresses (or maxAddresses) and drops those that do not parse`, () => {
    const many = Array.from({ length: 70 }, (_, i) => multiaddr(`/ip4/10.0.0.${i}/tcp/1`))
    const record: PeerRecord = { peerId: aliceId, seq: 1n, addresses: many }
    assert.equal(decodePeerRecord(encodePeerRecord(record)).addresses.length, MAX_PEER_RECORD_ADDRESSES)
    assert.equal(decodePeerRecord(encodePeerRecord(record), 3).addresses.length, 3)
    const w = new ProtobufWriter().bytes(1, aliceId.bytes).uint64(2, 1n)
      .message(3, new ProtobufWriter().bytes(1, Uint8Array.of(0xfe, 0xff, 0x7f, 1)))
      .message(3, new ProtobufWriter().bytes(1, (addrs[0] as ReturnType<typeof multiaddr>).bytes))
    assert.deepEqual(decodePeerRecord(w.finish()).addresses.map(String), [String(addrs[0])])
  })

  it('property: any bytes, any truncation and any bit flip give a record or a typed error; never a forged record', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => { outcomeOf(() => openSignedPeerRecord(b)) }), { numRuns: 2000 })
    const { bytes } = createSignedPeerRecord(alice, addrs, 5n)
    for (let n = 0; n < bytes.length; n++) assert.notEqual(outcomeOf(() => openSignedPeerRecord(bytes.subarray(0, n))), 'value')
    fc.assert(fc.property(fc.nat({ max: bytes.length * 8 - 1 }), (bit) => {
      let opened
      try { opened = openSignedPeerRecord(flip(bytes, bit)) } catch (err) { assert.ok(isLp2pError(err)); return }
      assert.equal(opened.record.seq, 5n)
      assert.deepEqual(opened.record.addresses.map(String), addrs.map(String))
    }), { numRuns: 1000 })
  })
})
