import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  generateKeyPair, peerIdFromPrivateKey, peerIdFromPublicKey, privateKeyFromProtobuf, publicKeyFromProtobuf
} from '../../src/identity/index.js'
import { code, flip, hex, toHex, utf8 } from './helpers.js'

// peer-ids.md, "Test vectors"
const PRIV = '080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e'
const PUB = '080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e'

// RFC 8032 section 7.1, TEST 2 (one-byte message 0x72)
const RFC_SEED = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb'
const RFC_PUB = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'
const RFC_SIG = '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'

describe('Ed25519 keys', () => {
  it('decodes the spec vectors, re-encodes them byte for byte, and derives the public key', () => {
    const priv = privateKeyFromProtobuf(hex(PRIV))
    assert.equal(priv.type, 'Ed25519')
    assert.equal(toHex(priv.bytes), PRIV)
    assert.equal(toHex(priv.publicKey.bytes), PUB)
    const pub = publicKeyFromProtobuf(hex(PUB))
    assert.equal(toHex(pub.bytes), PUB)
    assert.equal(toHex(pub.raw), PUB.slice(8))
    assert.ok(pub.equals(priv.publicKey))
    const sig = priv.sign(utf8('hello'))
    assert.ok(pub.verify(utf8('hello'), sig))
    assert.equal(peerIdFromPublicKey(pub).toString(), '12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq')
  })

  it('signs exactly as RFC 8032 TEST 2', () => {
    const raw = RFC_SEED + RFC_PUB
    const priv = privateKeyFromProtobuf(hex('08011240' + raw))
    assert.equal(toHex(priv.publicKey.raw), RFC_PUB)
    assert.equal(toHex(priv.sign(hex('72'))), RFC_SIG)
    assert.ok(priv.publicKey.verify(hex('72'), hex(RFC_SIG)))
  })

  it('accepts the legacy 96-byte private form and re-encodes it as 64 bytes', () => {
    const raw = PRIV.slice(8)
    const legacy = privateKeyFromProtobuf(hex('08011260' + raw + raw.slice(64)))
    assert.equal(toHex(legacy.bytes), PRIV)
  })

  it('rejects a 96-byte form whose public copies differ, a wrong public half, and bad lengths', () => {
    const raw = PRIV.slice(8)
    const other = 'ff' + raw.slice(66)
    assert.throws(() => privateKeyFromProtobuf(hex('08011260' + raw + other)), code('ERR_INVALID_KEY'))
    assert.throws(() => privateKeyFromProtobuf(hex('08011240' + raw.slice(0, 64) + other)), code('ERR_INVALID_KEY'))
    assert.throws(() => privateKeyFromProtobuf(hex('08011220' + raw.slice(0, 64))), code('ERR_INVALID_KEY'))
    assert.throws(() => publicKeyFromProtobuf(hex('0801121f' + PUB.slice(8, 70))), code('ERR_INVALID_KEY'))
    assert.throws(() => publicKeyFromProtobuf(hex('08011221' + PUB.slice(8) + '00')), code('ERR_INVALID_KEY'))
  })

  it('generates working keys whose encoding round-trips', () => {
    const k = generateKeyPair()
    assert.equal(k.type, 'Ed25519')
    assert.equal(k.raw.length, 64)
    const back = privateKeyFromProtobuf(k.bytes)
    assert.deepEqual(back.bytes, k.bytes)
    assert.ok(back.publicKey.equals(k.publicKey))
    assert.ok(peerIdFromPrivateKey(back).equals(peerIdFromPrivateKey(k)))
    assert.equal(peerIdFromPrivateKey(k).toString().slice(0, 7), '12D3Koo')
  })

  it('sign/verify round-trips over arbitrary messages; tampering fails (property)', () => {
    const k = generateKeyPair('Ed25519')
    const other = generateKeyPair('Ed25519')
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (msg, bit) => {
      const sig = k.sign(msg)
      assert.equal(sig.length, 64)
      assert.ok(k.publicKey.verify(msg, sig))
      assert.equal(k.publicKey.verify(msg, flip(sig, bit)), false)
      assert.equal(other.publicKey.verify(msg, sig), false)
      if (msg.length > 0) assert.equal(k.publicKey.verify(flip(msg, bit), sig), false)
    }), { numRuns: 200 })
  })

  it('verify returns false (never throws) for signatures of the wrong size', () => {
    const k = generateKeyPair()
    for (const n of [0, 1, 63, 65, 1000]) assert.equal(k.publicKey.verify(utf8('x'), new Uint8Array(n)), false)
  })
})
