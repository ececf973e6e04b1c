/**
 * Cross-checks against js-libp2p's own key and peer id code (@libp2p/crypto,
 * @libp2p/peer-id, installed as dev dependencies through libp2p): keys made on either
 * side decode on the other with the same bytes and peer id, and signatures verify both
 * ways for every key type js-libp2p can sign interoperably.
 *
 * ECDSA is left out: js-libp2p 3 signs ECDSA in the P1363 form of WebCrypto instead
 * of DER, encodes ECDSA public keys differently from go-libp2p and the spec vectors,
 * and refuses ECDSA keys in @libp2p/peer-id. ECDSA is checked against the spec vectors
 * and the go-libp2p fixtures instead (vectors.test.ts).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as js from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey as jsPeerIdFromPrivateKey, peerIdFromString as jsPeerIdFromString } from '@libp2p/peer-id'
import {
  generateKeyPair, peerIdFromPrivateKey, peerIdFromString, privateKeyFromProtobuf, publicKeyFromProtobuf, type KeyType
} from '../../src/identity/index.js'
import { decodeDerSignature } from '../../src/identity/ecdsa-signature.js'
import { SECP256K1_N } from '../../src/identity/secp256k1.js'
import { toHex, utf8 } from './helpers.js'

const SIGNING_TYPES: KeyType[] = ['Ed25519', 'secp256k1', 'RSA']

describe('interop with js-libp2p keys and peer ids', () => {
  for (const type of SIGNING_TYPES) {
    it(`${type}: our keys load in js-libp2p with the same peer id; signatures verify both ways`, async () => {
      const ours = generateKeyPair(type)
      const theirs = js.privateKeyFromProtobuf(ours.bytes)
      assert.equal(toHex(js.privateKeyToProtobuf(theirs)), toHex(ours.bytes))
      assert.equal(toHex(js.publicKeyToProtobuf(theirs.publicKey)), toHex(ours.publicKey.bytes))
      const jsId = jsPeerIdFromPrivateKey(theirs)
      const id = peerIdFromPrivateKey(ours)
      assert.equal(jsId.toString(), id.toString())
      assert.equal(jsId.toCID().toString(), id.toCID())
      const runs = type === 'RSA' ? 10 : 50
      await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 128 }), async (msg) => {
        assert.equal(await theirs.publicKey.verify(msg, ours.sign(msg)), true)
        assert.ok(ours.publicKey.verify(msg, await theirs.sign(msg)))
      }), { numRuns: runs })
    })

    it(`${type}: js-libp2p keys load here with the same bytes and peer id`, async () => {
      const theirs = await js.generateKeyPair(type as 'Ed25519')
      const bytes = js.privateKeyToProtobuf(theirs)
      const ours = privateKeyFromProtobuf(bytes)
      assert.equal(toHex(ours.bytes), toHex(bytes))
      const pub = publicKeyFromProtobuf(js.publicKeyToProtobuf(theirs.publicKey))
      assert.ok(pub.equals(ours.publicKey))
      assert.equal(peerIdFromPrivateKey(ours).toString(), jsPeerIdFromPrivateKey(theirs).toString())
      const msg = utf8(`from js ${type}`)
      assert.ok(pub.verify(msg, await theirs.sign(msg)))
    })
  }

  it('secp256k1: js-libp2p (noble, lowS) accepts every signature we make, because they are all low-S', async () => {
    const ours = generateKeyPair('secp256k1')
    const theirs = js.publicKeyFromProtobuf(ours.publicKey.bytes)
    for (let i = 0; i < 64; i++) {
      const msg = utf8(`low-S ${i}`)
      const sig = ours.sign(msg)
      assert.ok(decodeDerSignature(sig)!.s <= SECP256K1_N >> 1n)
      assert.equal(await theirs.verify(msg, sig), true)
    }
  })

  it('peer id text forms agree with js-libp2p in both directions', async () => {
    for (const type of SIGNING_TYPES) {
      const id = peerIdFromPrivateKey(generateKeyPair(type === 'RSA' ? 'ECDSA' : type)) // a sha2-256 id without RSA keygen
      assert.equal(jsPeerIdFromString(id.toCID()).toString(), id.toString())
      assert.equal(jsPeerIdFromString(id.toString()).toCID().toString(), id.toCID())
      const jsId = jsPeerIdFromPrivateKey(await js.generateKeyPair(type as 'Ed25519'))
      assert.ok(peerIdFromString(jsId.toString()).equals(jsId.toCID().toString()))
    }
  })
})
