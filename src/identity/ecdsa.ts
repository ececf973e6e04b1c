/**
 * ECDSA keys (peer-ids.md, "ECDSA"), on node:crypto.
 *
 * - Public key `Data`: DER SubjectPublicKeyInfo (RFC 5480) with a named curve and an
 *   uncompressed point. The spec text says "ASN.1 DER"; go-libp2p, the reference for
 *   this key type, writes `x509.MarshalPKIXPublicKey`, which is this.
 * - Private key `Data`: DER `ECPrivateKey` (SEC 1 v2 appendix C.4, RFC 5915), what
 *   go-libp2p writes with `x509.MarshalECPrivateKey` and the spec vectors hold (the
 *   spec's "DER-encoded PKIX" for private keys does not match any implementation).
 * - Signatures: ECDSA over SHA-256(message), DER `ECDSA-Sig-Value`. SHA-256 on every
 *   curve, as go-libp2p and js-libp2p do. High-S signatures are valid: go-libp2p signs
 *   with `crypto/ecdsa`, which does not normalise S (the fixture 3.sig is high-S).
 *
 * Curves: P-256 is generated; P-256, P-384 and P-521 are accepted on decode, the
 * curves go-libp2p and js-libp2p accept. Re-encoding is canonical (named curve,
 * uncompressed point), as go-libp2p re-marshals parsed keys.
 *
 * Interop note: js-libp2p signs ECDSA in the IEEE P1363 (r || s) form of WebCrypto,
 * not DER, so ECDSA identities do not interoperate with js-libp2p (its own docs say it
 * rejects ECDSA host keys); this module follows the spec and go-libp2p.
 */
import { createECDH, createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto'
import { decodeDerSignature, toP1363 } from './ecdsa-signature.js'
import { BasePrivateKey, BasePublicKey, invalidKeyOf, keyFromDerPrivate, keyFromSpki, type DerPrivateKeyFormat } from './key-base.js'

/** Accepted curves: OpenSSL name -> JWK name and scalar size in bytes (SEC 2 v2). */
const CURVES: Readonly<Record<string, { jwk: string, bytes: number }>> = {
  prime256v1: { jwk: 'P-256', bytes: 32 },
  secp384r1: { jwk: 'P-384', bytes: 48 },
  secp521r1: { jwk: 'P-521', bytes: 66 }
}

/**
 * ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING, ... }; a
 * PKCS#8 key (version 0, then a SEQUENCE) is refused, as Go's ParseECPrivateKey does.
 */
const SEC1: DerPrivateKeyFormat = { type: 'sec1', name: 'ECPrivateKey (SEC 1)', prefix: [0x02, 0x01, 0x01, 0x04] }

const invalidKey = invalidKeyOf('ECDSA')

export class EcdsaPublicKey extends BasePublicKey {
  readonly type = 'ECDSA' as const
  readonly #key: KeyObject
  readonly #scalarBytes: number

  /** @internal use {@link ecdsaPublicKeyFromRaw}. */
  constructor (spki: Uint8Array, key: KeyObject, scalarBytes: number) {
    super(spki)
    this.#key = key
    this.#scalarBytes = scalarBytes
  }

  protected verifyBytes (data: Uint8Array, sig: Uint8Array): boolean {
    const rs = decodeDerSignature(sig)
    if (rs === undefined || rs.r === 0n || rs.s === 0n) return false
    // toP1363 throws (so false) for an r or s wider than the curve; OpenSSL checks r, s < n.
    return verify('sha256', data, { key: this.#key, dsaEncoding: 'ieee-p1363' }, toP1363(rs, this.#scalarBytes))
  }
}

export class EcdsaPrivateKey extends BasePrivateKey<EcdsaPublicKey> {
  readonly type = 'ECDSA' as const
  readonly #key: KeyObject

  /** @internal use {@link ecdsaPrivateKeyFromRaw} or {@link generateEcdsa}. */
  constructor (sec1: Uint8Array, key: KeyObject, publicKey: EcdsaPublicKey) {
    super(sec1, publicKey)
    this.#key = key
  }

  /** ECDSA over SHA-256(data) with a random nonce (OpenSSL), DER encoded. */
  protected signBytes (data: Uint8Array): Uint8Array {
    return new Uint8Array(sign('sha256', data, { key: this.#key, dsaEncoding: 'der' }))
  }
}

function curveOf (key: KeyObject): { name: string, jwk: string, bytes: number } {
  if (key.asymmetricKeyType !== 'ec') throw invalidKey(`not an EC key (${String(key.asymmetricKeyType)})`)
  const name = key.asymmetricKeyDetails?.namedCurve
  const curve = name !== undefined ? CURVES[name] : undefined
  if (name === undefined || curve === undefined) throw invalidKey(`unsupported curve ${String(name)} (P-256, P-384, P-521)`)
  return { name, ...curve }
}

/** The canonical SPKI (named curve, uncompressed point) of a public JWK. */
function publicFromJwk (jwk: JsonWebKey, scalarBytes: number): EcdsaPublicKey {
  const key = createPublicKey({ key: { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' })
  const spki = new Uint8Array(key.export({ format: 'der', type: 'spki' }))
  return new EcdsaPublicKey(spki, key, scalarBytes)
}

/**
 * A public key from DER SubjectPublicKeyInfo.
 * @throws ERR_INVALID_KEY for bytes that are not an EC SPKI on an accepted curve.
 */
export function ecdsaPublicKeyFromRaw (raw: Uint8Array): EcdsaPublicKey {
  const key = keyFromSpki(raw, invalidKey)
  const curve = curveOf(key)
  if (!plainPoint(raw, curve.bytes)) throw invalidKey('the EC point is neither uncompressed (04) nor compressed (02, 03)')
  return publicFromJwk(key.export({ format: 'jwk' }), curve.bytes)
}

/**
 * Whether the SPKI ends in a BIT STRING holding an uncompressed (04 || x || y) or a
 * compressed (02/03 || x) point (SEC 1 section 2.3.3). OpenSSL also accepts the
 * "hybrid" form (06/07 || x || y), which no libp2p implementation sends and Go
 * rejects (found by `npm run fuzz`, target `keys`); it would be normalised here into a
 * key whose bytes differ from the ones received.
 */
function plainPoint (spki: Uint8Array, scalarBytes: number): boolean {
  const uncompressed = 1 + 2 * scalarBytes
  const compressed = 1 + scalarBytes
  const at = (n: number): number | undefined => spki[spki.length - n]
  return (spki.length > uncompressed && at(uncompressed) === 0x04 && at(uncompressed + 1) === 0x00) ||
    ((at(compressed) === 0x02 || at(compressed) === 0x03) && at(compressed + 1) === 0x00)
}

/**
 * A private key from DER ECPrivateKey (SEC 1).
 * @throws ERR_INVALID_KEY for bytes that are not one, an unsupported curve, or an
 *   embedded public key that the private scalar does not derive.
 */
export function ecdsaPrivateKeyFromRaw (raw: Uint8Array): EcdsaPrivateKey {
  const parsed = keyFromDerPrivate(raw, SEC1, invalidKey)
  const curve = curveOf(parsed)
  const jwk = parsed.export({ format: 'jwk' })
  // The SEC 1 structure carries its own copy of the public key; it must be d*G.
  const ecdh = createECDH(curve.name)
  try {
    ecdh.setPrivateKey(Buffer.from(jwk.d as string, 'base64url'))
  } catch (err) {
    throw invalidKey('private scalar is out of range', err)
  }
  const derived = ecdh.getPublicKey()
  const stored = Buffer.concat([Buffer.of(0x04), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')])
  if (!derived.equals(stored)) throw invalidKey('the embedded public key does not belong to the private key')
  return assemble(jwk, curve.bytes)
}

/**
 * A fresh random P-256 key pair, from `createECDH` (raw scalar and point) rather than
 * `generateKeyPairSync`, whose keys can deadlock a JWK export on Node 20 (see
 * `security/noise/x25519.ts`).
 */
export function generateEcdsa (): EcdsaPrivateKey {
  const ecdh = createECDH('prime256v1')
  const point = ecdh.generateKeys() // uncompressed: 0x04 || x (32) || y (32), SEC 1 §2.3.3
  const d = ecdh.getPrivateKey()
  // getPrivateKey drops leading zero bytes; JWK wants the full 32 (RFC 7518 §6.2.2.1).
  const scalar = Buffer.alloc(32)
  d.copy(scalar, 32 - d.byteLength)
  return assemble({
    kty: 'EC',
    crv: 'P-256',
    d: scalar.toString('base64url'),
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33, 65).toString('base64url')
  }, 32)
}

function assemble (jwk: JsonWebKey, scalarBytes: number): EcdsaPrivateKey {
  const key = createPrivateKey({ key: { kty: 'EC', crv: jwk.crv, d: jwk.d, x: jwk.x, y: jwk.y }, format: 'jwk' })
  const sec1 = new Uint8Array(key.export({ format: 'der', type: 'sec1' }))
  return new EcdsaPrivateKey(sec1, key, publicFromJwk(jwk, scalarBytes))
}
