/**
 * SubjectPublicKeyInfo (RFC 5280 4.1.2.7) to node:crypto key, and the check that the
 * key node:tls authenticated is the one in the certificate we parsed.
 *
 * Why this exists: the host key signs the SPKI bytes *we* parse
 * (`specs/tls.md`, "libp2p Public Key Extension"), while the TLS handshake proves
 * possession of the key *OpenSSL* parsed from the same certificate. Checking that both
 * are the same key closes any gap between the two parsers. It is also faster: OpenSSL 3
 * takes ~0.3 ms to decode an SPKI (DER or JWK import, for EC keys), whereas the key
 * TLS already holds costs nothing and exports to JWK in ~10 us, so we compare the
 * JWK members with the SPKI contents instead of decoding the SPKI again.
 *
 * Pure code apart from node:crypto key objects.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { DerReader } from './der.js'

/** id-ecPublicKey (RFC 5480 2.1.1) and the named curves TLS certificate keys use. */
const EC_PUBLIC_KEY = '1.2.840.10045.2.1'
const EC_CURVES: ReadonlyMap<string, { crv: string, size: number }> = new Map([
  ['1.2.840.10045.3.1.7', { crv: 'P-256', size: 32 }],
  ['1.3.132.0.34', { crv: 'P-384', size: 48 }],
  ['1.3.132.0.35', { crv: 'P-521', size: 66 }],
  ['1.3.132.0.10', { crv: 'secp256k1', size: 32 }]
])
/** RFC 8410 3: the EdDSA key OIDs, whose BIT STRING is the raw public key. */
const OKP_CURVES: ReadonlyMap<string, { crv: string, size: number }> = new Map([
  ['1.3.101.112', { crv: 'Ed25519', size: 32 }],
  ['1.3.101.113', { crv: 'Ed448', size: 57 }]
])
/** rsaEncryption (RFC 8017 A.1): the BIT STRING holds RSAPublicKey { n, e }. */
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1'

function b64url (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** An unsigned INTEGER's magnitude without sign-padding zeros, as JWK wants it. */
function magnitude (int: Uint8Array): Uint8Array {
  let i = 0
  while (i < int.byteLength - 1 && int[i] === 0) i++
  return int.subarray(i)
}

/**
 * The public key of an SPKI as JWK members, for EC (uncompressed points), EdDSA and
 * RSA keys; undefined for anything else (the caller then decodes the DER). Throws
 * `ERR_INVALID_MESSAGE` for a malformed SPKI.
 */
export function spkiToJwk (spki: Uint8Array): JsonWebKey | undefined {
  const top = new DerReader(spki)
  const s = top.sequence('subjectPublicKeyInfo')
  top.end('subjectPublicKeyInfo')
  const alg = s.sequence('subjectPublicKeyInfo.algorithm')
  const oid = alg.oid('subjectPublicKeyInfo.algorithm.algorithm')
  const params = alg.done ? undefined : alg.next('subjectPublicKeyInfo.algorithm.parameters')
  alg.end('subjectPublicKeyInfo.algorithm')
  const key = s.bitString('subjectPublicKeyInfo.subjectPublicKey')
  s.end('subjectPublicKeyInfo')

  if (oid === EC_PUBLIC_KEY && params !== undefined) {
    const curve = EC_CURVES.get(new DerReader(params.encoded).oid('namedCurve'))
    // Compressed points (0x02/0x03) are legal but unusual: left to the DER decoder.
    if (curve === undefined || key[0] !== 0x04 || key.byteLength !== 1 + 2 * curve.size) return undefined
    return {
      kty: 'EC',
      crv: curve.crv,
      x: b64url(key.subarray(1, 1 + curve.size)),
      y: b64url(key.subarray(1 + curve.size))
    }
  }
  const okp = OKP_CURVES.get(oid)
  if (okp !== undefined) {
    if (params !== undefined || key.byteLength !== okp.size) return undefined
    return { kty: 'OKP', crv: okp.crv, x: b64url(key) }
  }
  if (oid === RSA_ENCRYPTION) {
    const top2 = new DerReader(key)
    const rsa = top2.sequence('RSAPublicKey')
    top2.end('RSAPublicKey')
    const n = rsa.integer('RSAPublicKey.modulus')
    const e = rsa.integer('RSAPublicKey.publicExponent')
    rsa.end('RSAPublicKey')
    return { kty: 'RSA', n: b64url(magnitude(n)), e: b64url(magnitude(e)) }
  }
  return undefined
}

const MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const

/**
 * True when `key` (a public KeyObject, e.g. node:tls's `X509Certificate.publicKey`) is
 * the key encoded in `spki`. Throws `ERR_INVALID_MESSAGE` for a malformed SPKI and
 * whatever node:crypto throws for one it cannot decode.
 */
export function keyMatchesSpki (key: KeyObject, spki: Uint8Array): boolean {
  const expected = spkiToJwk(spki)
  if (expected === undefined) {
    return key.equals(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }))
  }
  let actual: JsonWebKey
  try {
    actual = key.export({ format: 'jwk' })
  } catch {
    return false // a key type JWK cannot express is not one of the types above
  }
  return MEMBERS.every((m) => actual[m] === expected[m])
}

/** Decodes an SPKI into a KeyObject: via JWK where that is cheaper, else the DER. */
export function publicKeyFromSpki (spki: Uint8Array): KeyObject {
  const jwk = spkiToJwk(spki)
  // OpenSSL 3 imports RSA and EdDSA JWKs ~20x faster than their DER; EC keys no faster.
  if (jwk !== undefined && jwk.kty !== 'EC') return createPublicKey({ key: jwk, format: 'jwk' })
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
}
