/**
 * Cross-checks signed peer records against js-libp2p's own implementation
 * (`@libp2p/peer-record`, installed through `libp2p`): a record we sign opens and
 * certifies there with the same peer, seq and addresses, and one it seals opens here,
 * for every key type js-libp2p signs interoperably (not ECDSA: see
 * test/identity/js-interop.test.ts). go-libp2p and rust-libp2p records are checked
 * over the wire by `npm run interop` (the `peer-record` column).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import * as js from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey as jsPeerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord as JsPeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, peerIdFromPrivateKey, privateKeyFromProtobuf, type KeyType } from '../../src/identity/index.js'
import { envelopeSignatureData } from '../../src/record/envelope.js'
import { createSignedPeerRecord, openSignedPeerRecord, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE } from '../../src/record/peer-record.js'
import { toHex } from '../identity/helpers.js'

const TYPES: KeyType[] = ['Ed25519', 'secp256k1', 'RSA']
const addrs = [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip6/::1/tcp/4001/ws')]

describe('interop with js-libp2p peer records (@libp2p/peer-record)', () => {
  it('uses the same domain and payload type', () => {
    assert.equal(JsPeerRecord.DOMAIN, PEER_RECORD_DOMAIN)
    assert.equal(toHex(JsPeerRecord.CODEC), toHex(PEER_RECORD_PAYLOAD_TYPE))
  })

  for (const type of TYPES) {
    it(`${type}: a record we sign opens and certifies in js-libp2p`, async () => {
      const key = generateKeyPair(type)
      const signed = createSignedPeerRecord(key, addrs, 1_700_000_000_123n)
      const envelope = await RecordEnvelope.openAndCertify(signed.bytes, JsPeerRecord.DOMAIN)
      const theirs = JsPeerRecord.createFromProtobuf(envelope.payload)
      assert.equal(theirs.peerId.toString(), peerIdFromPrivateKey(key).toString())
      assert.equal(theirs.seqNumber, 1_700_000_000_123n)
      assert.deepEqual(theirs.multiaddrs.map(String), addrs.map(String))
      assert.equal(toHex(envelope.marshal()), toHex(signed.bytes), 'js re-encodes our envelope to the same bytes')
    })

    it(`${type}: a record js-libp2p seals opens here`, async () => {
      const key = await js.generateKeyPair(type as 'Ed25519')
      const peerId = jsPeerIdFromPrivateKey(key)
      const record = new JsPeerRecord({ peerId, multiaddrs: addrs, seqNumber: 42n })
      const envelope = await RecordEnvelope.seal(record, key)
      const bytes = envelope.marshal()
      const expectedPeer = peerIdFromPrivateKey(privateKeyFromProtobuf(js.privateKeyToProtobuf(key)))
      const opened = openSignedPeerRecord(bytes, { expectedPeer })
      assert.equal(opened.record.peerId.toString(), peerId.toString())
      assert.equal(opened.record.seq, 42n)
      assert.deepEqual(opened.record.addresses.map(String), addrs.map(String))
      assert.equal(toHex(envelopeSignatureData(PEER_RECORD_DOMAIN, opened.envelope.payloadType, opened.envelope.payload)),
        toHex(envelopeSignatureData(JsPeerRecord.DOMAIN, JsPeerRecord.CODEC, record.marshal())))
    })
  }
})
