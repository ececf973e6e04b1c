import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto'
import fc from 'fast-check'
import {
  createCertificate,
  CERTIFICATE_BACKDATE_MS,
  CERTIFICATE_VALIDITY_MS,
  decodeSignedKey,
  encodeSignedKey,
  SIGNED_KEY_EXTENSION_OID,
  verifyCertificate,
  verifyCertificateChain,
  parseCertificate
} from '../../../src/security/tls/index.js'
import { generateKeyPair, peerIdFromPrivateKey, peerIdFromPublicKey } from '../../../src/identity/index.js'
import type { KeyType } from '../../../src/interfaces/keys.js'
import { encodeOctetString, encodeSequence } from '../../../src/security/tls/der-encode.js'
import { isLp2pError } from '../../../src/errors.js'
import { buildCertificate, ED25519_ALG, p256Key, RSA_SHA256 } from './helpers.js'
import { specMissing, specText, tlsCertificateVectors } from '../../helpers/spec-vectors.js'

const KEY_TYPES: KeyType[] = ['Ed25519', 'secp256k1', 'ECDSA', 'RSA']
const NOW = Date.now()

/** The certificate test vectors of tls.md (test/fixtures/spec-vectors). */
function specVectors (): Array<{ title: string, der: Uint8Array, peerId: string | undefined }> {
  return tlsCertificateVectors().map((v) => ({ title: v.title, der: Uint8Array.from(Buffer.from(v.certificate, 'hex')), peerId: v.peerId }))
}

function assertRejected (fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isLp2pError(err, 'ERR_HANDSHAKE_FAILED'), `expected ERR_HANDSHAKE_FAILED, got ${String(err)}`)
    assert.match((err as Error).message, pattern)
    return true
  })
}

describe('tls.md certificate test vectors', () => {
  const vectors = specVectors()

  it('has all four vectors of the spec', () => {
    assert.equal(vectors.length, 4)
    assert.deepEqual(vectors.map((v) => v.peerId !== undefined), [true, true, true, false])
  })

  it('the fixture is what specs/tls.md says', { skip: specMissing('tls.md') }, () => {
    const md = specText('tls.md') as string
    const inSpec = [...md.matchAll(/### (\d\. [^\n]+)\n\n[\s\S]*?Certificate:\n```\n([0-9a-f]+)\n```(?:\n\nPeerId: `(\w+)`)?/g)]
      .map((m) => ({ title: m[1], certificate: m[2], ...(m[3] !== undefined ? { peerId: m[3] } : {}) }))
    assert.deepEqual(inSpec, tlsCertificateVectors())
  })

  for (const v of vectors.filter((v) => v.peerId !== undefined)) {
    it(`${v.title} verifies to ${v.peerId as string}`, () => {
      const peer = verifyCertificate(v.der, { now: NOW })
      assert.equal(peer.peerId.toString(), v.peerId)
      assert.ok(peer.peerId.equals(peerIdFromPublicKey(peer.publicKey)))
    })
  }

  it('4. Invalid certificate fails: the host key did not sign this certificate key', () => {
    const v = vectors[3] as { der: Uint8Array }
    assertRejected(() => verifyCertificate(v.der, { now: NOW }), /host key signature .* does not verify/)
  })
})

describe('generated certificates', () => {
  for (const type of KEY_TYPES) {
    it(`authenticate a ${type} host key`, () => {
      const key = generateKeyPair(type)
      const cert = createCertificate(key, { now: NOW })
      const peer = verifyCertificate(cert.der, { now: NOW })
      assert.ok(peer.peerId.equals(peerIdFromPrivateKey(key)))
      assert.ok(peer.publicKey.equals(key.publicKey))
    })
  }

  it('carry a critical SignedKey extension, a back-dated ~100-year validity and a fresh key each time', () => {
    const key = generateKeyPair('Ed25519')
    const a = createCertificate(key, { now: NOW })
    const b = createCertificate(key, { now: NOW })
    const pa = parseCertificate(a.der)
    assert.equal(pa.version, 3)
    assert.deepEqual(pa.extensions.map((e) => [e.oid, e.critical]), [[SIGNED_KEY_EXTENSION_OID, true]])
    assert.equal(pa.notBefore, Math.floor((NOW - CERTIFICATE_BACKDATE_MS) / 1000) * 1000)
    assert.equal(pa.notAfter, Math.floor((NOW + CERTIFICATE_VALIDITY_MS) / 1000) * 1000)
    assert.deepEqual(pa.issuer, pa.subject)
    assert.notDeepEqual(pa.subjectPublicKeyInfo, parseCertificate(b.der).subjectPublicKeyInfo)
    assert.notDeepEqual(pa.serialNumber, parseCertificate(b.der).serialNumber)
    const signed = decodeSignedKey((pa.extensions[0] as { value: Uint8Array }).value)
    assert.deepEqual(signed.publicKey, key.publicKey.bytes)
  })

  it('are accepted by node\'s X509Certificate (OpenSSL) with a valid self-signature', () => {
    const cert = createCertificate(generateKeyPair('Ed25519'), { now: NOW })
    const x = new X509Certificate(Buffer.from(cert.der))
    assert.equal(x.verify(x.publicKey), true)
    assert.equal(x.publicKey.asymmetricKeyType, 'ec')
    assert.equal(x.issuer, x.subject)
    assert.equal(x.checkPrivateKey(createPrivateKey(cert.keyPem)), true)
    assert.equal(new Date(x.validFrom).getTime(), Math.floor((NOW - CERTIFICATE_BACKDATE_MS) / 1000) * 1000)
    assert.equal(new Date(x.validTo).getTime(), Math.floor((NOW + CERTIFICATE_VALIDITY_MS) / 1000) * 1000)
  })

  it('are shown by `openssl x509 -text` with the critical libp2p extension', () => {
    const cert = createCertificate(generateKeyPair('Ed25519'), { now: NOW })
    const text = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-text'], { input: Buffer.from(cert.der) }).toString()
    assert.match(text, /Version: 3 \(0x2\)/)
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/)
    assert.match(text, /ASN1 OID: prime256v1/)
    assert.match(text, /1\.3\.6\.1\.4\.1\.53594\.1\.1: critical/)
  })

  it('take a given P-256 certificate key and refuse any other', () => {
    const certKey = p256Key()
    const cert = createCertificate(generateKeyPair('Ed25519'), { now: NOW, certificateKey: certKey })
    assert.equal(new X509Certificate(Buffer.from(cert.der)).checkPrivateKey(certKey), true)
    const ed = generateKeyPairSync('ed25519').privateKey
    assert.throws(() => createCertificate(generateKeyPair('Ed25519'), { certificateKey: ed }), RangeError)
  })
})

describe('certificate verification failures', () => {
  const host = generateKeyPair('Ed25519')
  const other = generateKeyPair('Ed25519')

  it('accepts a well-built certificate (the baseline the failures below change)', () => {
    const peer = verifyCertificate(buildCertificate({ hostKey: host }).der, { now: NOW })
    assert.ok(peer.peerId.equals(peerIdFromPrivateKey(host)))
  })

  it('rejects an extension signed by another key', () => {
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, extensionSigner: other }).der, { now: NOW }),
      /host key signature .* does not verify/)
  })

  it('rejects an extension signature over something else than prefix + SPKI', () => {
    const wrongPrefix = (spki: Uint8Array): Uint8Array => Buffer.concat([Buffer.from('libp2p-tls-handshake;'), spki])
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, extensionMessage: wrongPrefix }).der, { now: NOW }),
      /does not verify/)
    const otherSpki = (): Uint8Array => Buffer.concat([Buffer.from('libp2p-tls-handshake:'), new Uint8Array(91)])
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, extensionMessage: otherSpki }).der, { now: NOW }),
      /does not verify/)
  })

  it('rejects an expired and a not yet valid certificate, with inclusive bounds', () => {
    const notBefore = Date.UTC(2030, 0, 1)
    const notAfter = Date.UTC(2031, 0, 1)
    const der = buildCertificate({ hostKey: host, notBefore, notAfter }).der
    assertRejected(() => verifyCertificate(der, { now: notAfter + 1000 }), /expired/)
    assertRejected(() => verifyCertificate(der, { now: notBefore - 1 }), /not yet valid/)
    assert.ok(verifyCertificate(der, { now: notBefore }))
    assert.ok(verifyCertificate(der, { now: notAfter }))
  })

  it('rejects a chain of two certificates, and an empty chain', () => {
    const a = buildCertificate({ hostKey: host }).der
    assertRejected(() => verifyCertificateChain([a, a], { now: NOW }), /2 certificates/)
    assertRejected(() => verifyCertificateChain([], { now: NOW }), /no certificate/)
    assert.ok(verifyCertificateChain([a], { now: NOW }))
  })

  it('rejects a certificate without the libp2p extension, or without extensions', () => {
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, extension: 'absent', extraExtensions: [{ oid: '2.5.29.14', critical: false, value: encodeOctetString(new Uint8Array(20)) }] }).der, { now: NOW }),
      /extension is missing/)
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, noExtensions: true }).der, { now: NOW }),
      /extension is missing/)
  })

  it('rejects a bad self-signature and a signature algorithm that differs inside and outside', () => {
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, corruptSignature: true }).der, { now: NOW }),
      /self-signature (does not verify|is malformed)/)
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, outerAlgorithmOid: '1.2.840.10045.4.3.3' }).der, { now: NOW }),
      /signature algorithm differs/)
  })

  it('rejects unknown critical extensions and ignores unknown non-critical ones', () => {
    const ext = { oid: '1.2.3.4.5', value: new Uint8Array([5, 0]) }
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, extraExtensions: [{ ...ext, critical: true }] }).der, { now: NOW }),
      /unknown critical extension 1\.2\.3\.4\.5/)
    assert.ok(verifyCertificate(buildCertificate({ hostKey: host, extraExtensions: [{ ...ext, critical: false }] }).der, { now: NOW }))
  })

  it('accepts the libp2p extension marked critical or not', () => {
    assert.ok(verifyCertificate(buildCertificate({ hostKey: host, extension: 'non-critical' }).der, { now: NOW }))
    assert.ok(verifyCertificate(buildCertificate({ hostKey: host, extension: 'critical' }).der, { now: NOW }))
  })

  it('rejects a duplicated extension', () => {
    const dup = { oid: SIGNED_KEY_EXTENSION_OID, critical: false, value: new Uint8Array([5, 0]) }
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, extraExtensions: [dup] }).der, { now: NOW }),
      /duplicate extension/)
  })

  it('rejects malformed SignedKey values and host keys', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array([5, 0]), /SignedKey/],
      [encodeSequence(encodeOctetString(host.publicKey.bytes)), /SignedKey\.signature: missing/],
      [encodeSequence(encodeOctetString(host.publicKey.bytes), encodeOctetString(new Uint8Array(64)), encodeOctetString(new Uint8Array(4))), /after the signature/],
      [encodeSignedKey({ publicKey: Uint8Array.of(8, 1, 18, 3, 1, 2, 3), signature: new Uint8Array(64) }), /invalid libp2p public key extension/],
      [encodeSignedKey({ publicKey: Uint8Array.of(0xff, 0xff), signature: new Uint8Array(64) }), /invalid libp2p public key extension/]
    ]
    for (const [value, pattern] of cases) {
      assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, extensionValue: value }).der, { now: NOW }), pattern)
    }
  })

  it('rejects unsupported signature algorithms and issuer/subject unique ids', () => {
    // RSASSA-PSS is not accepted; the key does not matter, the algorithm is refused first.
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 1024 }).privateKey
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, certKey: pss, algorithm: { oid: '1.2.840.113549.1.1.10', hash: 'sha256' } }).der, { now: NOW }),
      /unsupported signature algorithm/)
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, issuerUniqueId: true }).der, { now: NOW }),
      /UniqueID/)
  })

  it('accepts Ed25519 and RSA certificate keys (other implementations may use them)', () => {
    const ed = generateKeyPairSync('ed25519').privateKey
    assert.ok(verifyCertificate(buildCertificate({ hostKey: host, certKey: ed, algorithm: ED25519_ALG }).der, { now: NOW }))
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
    assert.ok(verifyCertificate(buildCertificate({ hostKey: host, certKey: rsa, algorithm: RSA_SHA256 }).der, { now: NOW }))
    // An ECDSA signature algorithm with an Ed25519 key is a mismatch.
    assertRejected(() => verifyCertificate(buildCertificate({ hostKey: host, certKey: ed, algorithm: ED25519_ALG, outerAlgorithmOid: '1.2.840.10045.4.3.2' }).der, { now: NOW }),
      /differs/)
  })

  it('rejects a certificate over the size limit before parsing it', () => {
    const der = buildCertificate({ hostKey: host }).der
    assert.throws(() => verifyCertificate(der, { now: NOW, maxCertificateBytes: der.length - 1 }), (err: unknown) => {
      assert.ok(isLp2pError(err, 'ERR_HANDSHAKE_FAILED'))
      assert.ok(isLp2pError((err as Error).cause, 'ERR_MESSAGE_TOO_LARGE'))
      return true
    })
  })

  it('rejects every truncation of a valid certificate', () => {
    const der = createCertificate(host, { now: NOW }).der
    for (let n = 0; n < der.length; n++) {
      assertRejected(() => verifyCertificate(der.subarray(0, n), { now: NOW }), /invalid/)
    }
  })

  it('either rejects a certificate with one corrupted byte or still authenticates the same peer (property)', () => {
    const der = createCertificate(host, { now: NOW }).der
    const id = peerIdFromPrivateKey(host)
    fc.assert(fc.property(fc.nat({ max: der.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, xor) => {
      const copy = Uint8Array.from(der)
      copy[index] = (copy[index] as number) ^ xor
      try {
        const peer = verifyCertificate(copy, { now: NOW })
        assert.ok(peer.peerId.equals(id), 'a corrupted certificate authenticated another peer')
      } catch (err) {
        assert.ok(isLp2pError(err, 'ERR_HANDSHAKE_FAILED'), String(err))
      }
    }), { numRuns: 300 })
  })

  it('rejects garbage with a typed error (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (junk) => {
      assert.throws(() => verifyCertificate(junk, { now: NOW }), (err: unknown) => isLp2pError(err, 'ERR_HANDSHAKE_FAILED'))
    }), { numRuns: 500 })
  })
})
