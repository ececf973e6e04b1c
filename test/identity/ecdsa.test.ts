import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ECDH, generateKeyPairSync } from 'node:crypto'
import { generateKeyPair, peerIdFromPrivateKey, privateKeyFromProtobuf, publicKeyFromProtobuf } from '../../src/identity/index.js'
import { decodeDerSignature, encodeDerSignature } from '../../src/identity/ecdsa-signature.js'
import { encodeKeyMessage } from '../../src/identity/key-protobuf.js'
import { code, flip, utf8 } from './helpers.js'

const invalid = code('ERR_INVALID_KEY')
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

describe('ECDSA keys', () => {
  it('generates P-256 keys whose encodings round-trip and whose peer ids are sha2-256', () => {
    const key = generateKeyPair('ECDSA')
    assert.equal(key.type, 'ECDSA')
    assert.equal(key.publicKey.raw.length, 91) // SPKI of a P-256 uncompressed point
    const back = privateKeyFromProtobuf(key.bytes)
    assert.deepEqual(back.bytes, key.bytes)
    assert.deepEqual(back.publicKey.bytes, key.publicKey.bytes)
    assert.ok(peerIdFromPrivateKey(key).toString().startsWith('Qm'))
  })

  it('sign/verify round-trips; tampering fails (property)', () => {
    const key = generateKeyPair('ECDSA')
    const other = generateKeyPair('ECDSA')
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), (msg, bit) => {
      const sig = key.sign(msg)
      assert.ok(key.publicKey.verify(msg, sig))
      assert.equal(key.publicKey.verify(msg, flip(sig, bit)), false)
      assert.equal(key.publicKey.verify(flip(msg, bit), sig), false)
      assert.equal(other.publicKey.verify(msg, sig), false)
    }), { numRuns: 100 })
  })

  it('accepts both S forms (crypto/ecdsa signs high-S) and rejects out-of-range r, s', () => {
    const key = generateKeyPair('ECDSA')
    const msg = utf8('s')
    const { r, s } = decodeDerSignature(key.sign(msg))!
    assert.ok(key.publicKey.verify(msg, encodeDerSignature(r, P256_N - s)))
    assert.equal(key.publicKey.verify(msg, encodeDerSignature(r, s + P256_N)), false)
    assert.equal(key.publicKey.verify(msg, encodeDerSignature(r, 0n)), false)
    assert.equal(key.publicKey.verify(msg, encodeDerSignature(1n << 300n, s)), false)
  })

  for (const curve of ['P-384', 'P-521'] as const) {
    it(`accepts ${curve} keys (SHA-256 signatures, as go-libp2p)`, () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve })
      const sec1 = privateKey.export({ format: 'der', type: 'sec1' })
      const key = privateKeyFromProtobuf(encodeKeyMessage('ECDSA', sec1))
      assert.deepEqual(key.raw, new Uint8Array(sec1))
      const pub = publicKeyFromProtobuf(key.publicKey.bytes)
      const msg = utf8(curve)
      assert.ok(pub.verify(msg, key.sign(msg)))
    })
  }

  it('re-encodes a compressed-point SPKI in the canonical uncompressed form', () => {
    const key = generateKeyPair('ECDSA')
    const spki = Buffer.from(key.publicKey.raw)
    const point = spki.subarray(spki.length - 65)
    // SPKI for a 33-byte point: SEQ { AlgId (21 bytes), BIT STRING (0 unused bits, point) }
    const c = ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'compressed') as Buffer
    const alg = spki.subarray(2, 2 + 21)
    const compressedSpki = Buffer.concat([Buffer.from([0x30, 21 + 2 + 1 + 33]), alg, Buffer.from([0x03, 34, 0x00]), c])
    const pub = publicKeyFromProtobuf(encodeKeyMessage('ECDSA', compressedSpki))
    assert.deepEqual(pub.raw, key.publicKey.raw)
  })

  it('rejects an SPKI that is not canonical DER: a point BIT STRING declaring unused bits, a hybrid point', () => {
    const spki = Buffer.from(generateKeyPair('ECDSA').publicKey.raw)
    const at = spki.length - 66 // 0x00 unused-bits byte, then the 65-byte point
    assert.equal(spki[at], 0x00)
    const bad = Buffer.from(spki)
    bad[at] = 0x01 // OpenSSL accepts it and re-encodes 0x00 (found by npm run fuzz, target keys)
    assert.throws(() => publicKeyFromProtobuf(encodeKeyMessage('ECDSA', bad)), invalid)
    // The hybrid point form (06/07 || x || y), which OpenSSL accepts: refused too.
    const hybrid = Buffer.from(spki)
    hybrid[at + 1] = 0x06 | ((hybrid[spki.length - 1] as number) & 1)
    assert.throws(() => publicKeyFromProtobuf(encodeKeyMessage('ECDSA', hybrid)), invalid)
  })

  it('rejects other curves, other key types, garbage and a SEC 1 key with a foreign public key', () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
    assert.throws(() => publicKeyFromProtobuf(encodeKeyMessage('ECDSA', k1.publicKey.export({ format: 'der', type: 'spki' }))), invalid)
    assert.throws(() => privateKeyFromProtobuf(encodeKeyMessage('ECDSA', k1.privateKey.export({ format: 'der', type: 'sec1' }))), invalid)
    const ed = generateKeyPairSync('ed25519')
    assert.throws(() => publicKeyFromProtobuf(encodeKeyMessage('ECDSA', ed.publicKey.export({ format: 'der', type: 'spki' }))), invalid)
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    // PKCS#8 is not SEC 1
    assert.throws(() => privateKeyFromProtobuf(encodeKeyMessage('ECDSA', p256.privateKey.export({ format: 'der', type: 'pkcs8' }))), invalid)
    assert.throws(() => publicKeyFromProtobuf(encodeKeyMessage('ECDSA', Uint8Array.of(0x30, 0x00))), invalid)
    // trailing bytes after the SPKI (OpenSSL alone would ignore them)
    const spki = p256.publicKey.export({ format: 'der', type: 'spki' })
    assert.throws(() => publicKeyFromProtobuf(encodeKeyMessage('ECDSA', Buffer.concat([spki, Buffer.of(0)]))), invalid)
    // Swap the embedded public key (last 65 bytes of the SEC 1 DER) for another key's.
    const sec1 = Buffer.from(p256.privateKey.export({ format: 'der', type: 'sec1' }))
    const foreign = Buffer.from(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' }))
    foreign.copy(sec1, sec1.length - 65, foreign.length - 65)
    assert.throws(() => privateKeyFromProtobuf(encodeKeyMessage('ECDSA', sec1)), invalid)
  })
})

