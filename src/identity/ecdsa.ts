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
import { codes, Lp2pError } from '../errors.js'
import type { PrivateKey, PublicKey } from '../interfaces/keys.js'
import { decodeDerSignature, toP1363 } from './ecdsa-signature.js'
import { encodeKeyMessage } from './key-protobuf.js'
import { bytesEqual, derSequenceContent, requireBytes, startsWith } from './util.js'

/** Accepted curves: OpenSSL name -> JWK name and scalar size in bytes (SEC 2 v2). */
const CURVES: Readonly<Record<string, { jwk: string, bytes: number }>> = {
  prime256v1: { jwk: 'P-256', bytes: 32 },
  secp384r1: { jwk: 'P-384', bytes: 48 },
  secp521r1: { jwk: 'P-521', bytes: 66 }
}

function invalidKey (message: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_KEY, `invalid ECDSA key: ${message}`, cause !== undefined ? { cause } : undefined)
}

export class EcdsaPublicKey implements PublicKey {
  readonly type = 'ECDSA' as const
  readonly raw: Uint8Array
  readonly #key: KeyObject
  readonly #scalarBytes: number
  #bytes: Uint8Array | undefined

  /** @internal use {@link ecdsaPublicKeyFromRaw}. */
  constructor (spki: Uint8Array, key: KeyObject, scalarBytes: number) {
    this.raw = spki
    this.#key = key
    this.#scalarBytes = scalarBytes
  }

  get bytes (): Uint8Array {
    this.#bytes ??= encodeKeyMessage('ECDSA', this.raw)
    return this.#bytes
  }

  verify (data: Uint8Array, sig: Uint8Array): boolean {
    requireBytes(data, 'data')
    requireBytes(sig, 'sig')
    const rs = decodeDerSignature(sig)
    if (rs === undefined || rs.r === 0n || rs.s === 0n) return false
    try {
      // toP1363 throws for an r or s wider than the curve; OpenSSL checks r, s < n.
      return verify('sha256', data, { key: this.#key, dsaEncoding: 'ieee-p1363' }, toP1363(rs, this.#scalarBytes))
    } catch {
      return false
    }
  }

  equals (other: PublicKey): boolean {
    return other.type === this.type && bytesEqual(other.raw, this.raw)
  }
}

export class EcdsaPrivateKey implements PrivateKey {
  readonly type = 'ECDSA' as const
  readonly publicKey: EcdsaPublicKey
  readonly raw: Uint8Array
  readonly #key: KeyObject
  #bytes: Uint8Array | undefined

  /** @internal use {@link ecdsaPrivateKeyFromRaw} or {@link generateEcdsa}. */
  constructor (sec1: Uint8Array, key: KeyObject, publicKey: EcdsaPublicKey) {
    this.raw = sec1
    this.#key = key
    this.publicKey = publicKey
  }

  get bytes (): Uint8Array {
    this.#bytes ??= encodeKeyMessage('ECDSA', this.raw)
    return this.#bytes
  }

  /** ECDSA over SHA-256(data) with a random nonce (OpenSSL), DER encoded. */
  sign (data: Uint8Array): Uint8Array {
    requireBytes(data, 'data')
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
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }
  const content = derSequenceContent(raw)
  if (content === undefined || content[0] !== 0x30) throw invalidKey('public key is not one DER SubjectPublicKeyInfo')
  let key: KeyObject
  try {
    key = createPublicKey({ key: Buffer.from(raw), format: 'der', type: 'spki' })
  } catch (err) {
    throw invalidKey('public key is not DER SubjectPublicKeyInfo', err)
  }
  const curve = curveOf(key)
  return publicFromJwk(key.export({ format: 'jwk' }), curve.bytes)
}

/**
 * A private key from DER ECPrivateKey (SEC 1).
 * @throws ERR_INVALID_KEY for bytes that are not one, an unsupported curve, or an
 *   embedded public key that the private scalar does not derive.
 */
export function ecdsaPrivateKeyFromRaw (raw: Uint8Array): EcdsaPrivateKey {
  // ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING, ... }; a
  // PKCS#8 key (version 0, then a SEQUENCE) is refused, as Go's ParseECPrivateKey does.
  const content = derSequenceContent(raw)
  if (content === undefined || !startsWith(content, [0x02, 0x01, 0x01, 0x04])) throw invalidKey('private key is not one DER ECPrivateKey (SEC 1)')
  let parsed: KeyObject
  try {
    parsed = createPrivateKey({ key: Buffer.from(raw), format: 'der', type: 'sec1' })
  } catch (err) {
    throw invalidKey('private key is not DER ECPrivateKey (SEC 1)', err)
  }
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
