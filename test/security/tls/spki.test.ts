import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import fc from 'fast-check'
import { keyMatchesSpki, publicKeyFromSpki, spkiToJwk, verifyCertificate, createCertificate } from '../../../src/security/tls/index.js'
import { generateKeyPair } from '../../../src/identity/index.js'
import { isLp2pError } from '../../../src/errors.js'
import { encodeBitString, encodeOid, encodeSequence } from '../../../src/security/tls/der-encode.js'

function spkiOf (key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }))
}

const KEYS: Array<[string, () => KeyObject]> = [
  ['EC P-256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey],
  ['EC P-384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey],
  ['EC P-521', () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey],
  ['EC secp256k1', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey],
  ['Ed25519', () => generateKeyPairSync('ed25519').publicKey],
  ['Ed448', () => generateKeyPairSync('ed448').publicKey],
  ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey]
]

describe('SubjectPublicKeyInfo keys', () => {
  for (const [name, make] of KEYS) {
    it(`${name}: JWK members equal node's export; the key matches its SPKI and no other`, () => {
      const key = make()
      const spki = spkiOf(key)
      const jwk = spkiToJwk(spki)
      assert.ok(jwk !== undefined)
      const exported = key.export({ format: 'jwk' })
      for (const m of ['kty', 'crv', 'x', 'y', 'n', 'e'] as const) assert.equal(jwk[m], exported[m], m)
      assert.equal(keyMatchesSpki(key, spki), true)
      assert.equal(keyMatchesSpki(make(), spki), false)
      assert.ok(publicKeyFromSpki(spki).equals(key))
    })
  }

  it('does not match keys of another type', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey
    const ed = generateKeyPairSync('ed25519').publicKey
    assert.equal(keyMatchesSpki(ed, spkiOf(ec)), false)
    assert.equal(keyMatchesSpki(ec, spkiOf(ed)), false)
  })

  it('falls back to the DER decoder for a compressed EC point', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey
    const point = new Uint8Array(key.export({ format: 'der', type: 'spki' })).subarray(-65)
    const y = point[64] as number
    const compressed = Uint8Array.from([0x02 | (y & 1), ...point.subarray(1, 33)])
    const spki = encodeSequence(encodeSequence(encodeOid('1.2.840.10045.2.1'), encodeOid('1.2.840.10045.3.1.7')), encodeBitString(compressed))
    assert.equal(spkiToJwk(spki), undefined)
    assert.ok(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).equals(key))
    assert.equal(keyMatchesSpki(key, spki), true)
    assert.ok(publicKeyFromSpki(spki).equals(key))
  })

  it('rejects malformed SPKI with ERR_INVALID_MESSAGE (property)', () => {
    const good = spkiOf(generateKeyPairSync('ed25519').publicKey)
    fc.assert(fc.property(fc.nat({ max: good.length - 1 }), (n) => {
      assert.throws(() => spkiToJwk(good.subarray(0, n)), (err: unknown) => isLp2pError(err, 'ERR_INVALID_MESSAGE'))
    }))
  })

  it('makes certificate verification fail when TLS authenticated another key', () => {
    const host = generateKeyPair('Ed25519')
    const cert = createCertificate(host)
    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey
    assert.throws(() => verifyCertificate(cert.der, { now: Date.now(), certificateKey: stranger }),
      (err: unknown) => isLp2pError(err, 'ERR_HANDSHAKE_FAILED') && /not the certificate's subject public key/.test((err as Error).message))
    const own = createPublicKey(cert.keyPem)
    assert.ok(verifyCertificate(cert.der, { now: Date.now(), certificateKey: own }))
  })
})
