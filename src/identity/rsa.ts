/**
 * RSA keys (peer-ids.md, "RSA"), on node:crypto.
 *
 * - Public key `Data`: DER PKIX SubjectPublicKeyInfo (RFC 5280 section 4.1, RFC 3279
 *   section 2.3.1 `rsaEncryption`).
 * - Private key `Data`: DER PKCS#1 `RSAPrivateKey` (RFC 8017 appendix A.1.2).
 * - Signatures: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 section 8.2), deterministic,
 *   so they reproduce go-libp2p's byte for byte.
 *
 * Sizes. peer-ids.md sets no bounds; the implementations do, and we use theirs:
 * - at least {@link MIN_RSA_BITS} = 2048 bits (go-libp2p `MinRsaKeyBits`; smaller keys
 *   are factorable with public effort and every implementation refuses them);
 * - at most {@link MAX_RSA_BITS} = 8192 bits (go-libp2p `maxRsaKeyBits`, js-libp2p
 *   `MAX_RSA_KEY_SIZE`): verification cost grows with the square of the modulus size,
 *   so without a cap a peer could make every handshake with it cost us arbitrary CPU;
 * - a public exponent in [3, 2^31 - 1] (Go's `crypto/rsa` `checkPub` bounds, since a
 *   huge exponent is the other way to make verification slow);
 * - generation between 2048 and 4096 bits: 4096 already takes seconds, and nobody
 *   needs more for a peer identity.
 */
import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { invalidArgValue } from '../errors.js'
import { BasePrivateKey, BasePublicKey, invalidKeyOf, keyFromDerPrivate, keyFromSpki, type DerPrivateKeyFormat } from './key-base.js'

export const MIN_RSA_BITS = 2048
export const MAX_RSA_BITS = 8192
export const MAX_GENERATE_RSA_BITS = 4096
export const DEFAULT_RSA_BITS = 2048
/** Go `crypto/rsa` rejects exponents above 2^31 - 1 and below 2 (and even ones fail). */
const MAX_RSA_EXPONENT = 0x7fffffffn

/**
 * RSAPrivateKey ::= SEQUENCE { version INTEGER (0), modulus INTEGER, ... }; PKCS#8
 * would have an AlgorithmIdentifier SEQUENCE (0x30) after the version.
 */
const PKCS1: DerPrivateKeyFormat = { type: 'pkcs1', name: 'PKCS#1 RSAPrivateKey', prefix: [0x02, 0x01, 0x00, 0x02] }

const invalidKey = invalidKeyOf('RSA')

export class RsaPublicKey extends BasePublicKey {
  readonly type = 'RSA' as const
  readonly #key: KeyObject
  /** Signature length: the modulus size in bytes (RFC 8017 section 8.2.2 step 1). */
  readonly #sigBytes: number

  /** @internal use {@link rsaPublicKeyFromRaw}. */
  constructor (spki: Uint8Array, key: KeyObject, bits: number) {
    super(spki)
    this.#key = key
    this.#sigBytes = Math.ceil(bits / 8)
  }

  /** Modulus size in bits. */
  get bits (): number {
    return this.#key.asymmetricKeyDetails?.modulusLength as number
  }

  protected verifyBytes (data: Uint8Array, sig: Uint8Array): boolean {
    if (sig.length !== this.#sigBytes) return false
    return verify('sha256', data, this.#key, sig)
  }
}

export class RsaPrivateKey extends BasePrivateKey<RsaPublicKey> {
  readonly type = 'RSA' as const
  readonly #key: KeyObject

  /** @internal use {@link rsaPrivateKeyFromRaw} or {@link generateRsa}. */
  constructor (pkcs1: Uint8Array, key: KeyObject, publicKey: RsaPublicKey) {
    super(pkcs1, publicKey)
    this.#key = key
  }

  /** RSASSA-PKCS1-v1_5 with SHA-256 (deterministic). */
  protected signBytes (data: Uint8Array): Uint8Array {
    return new Uint8Array(sign('sha256', data, this.#key))
  }
}

/** Checks type, size and exponent; returns the modulus size in bits. */
function checkKey (key: KeyObject): number {
  if (key.asymmetricKeyType !== 'rsa') throw invalidKey(`not an rsaEncryption key (${String(key.asymmetricKeyType)})`)
  const bits = key.asymmetricKeyDetails?.modulusLength
  const e = key.asymmetricKeyDetails?.publicExponent
  if (bits === undefined || e === undefined) throw invalidKey('key details unavailable')
  if (bits < MIN_RSA_BITS) throw invalidKey(`${bits}-bit modulus is below the minimum of ${MIN_RSA_BITS}`)
  if (bits > MAX_RSA_BITS) throw invalidKey(`${bits}-bit modulus is above the maximum of ${MAX_RSA_BITS}`)
  if (e < 3n || e > MAX_RSA_EXPONENT || e % 2n === 0n) throw invalidKey(`public exponent ${e} is not an odd number in [3, 2^31 - 1]`)
  return bits
}

function publicFrom (key: KeyObject): RsaPublicKey {
  const bits = checkKey(key)
  const spki = new Uint8Array(key.export({ format: 'der', type: 'spki' }))
  return new RsaPublicKey(spki, key, bits)
}

/**
 * A public key from DER SubjectPublicKeyInfo.
 * @throws ERR_INVALID_KEY for bytes that are not an RSA SPKI, or a size or exponent
 *   outside the bounds above.
 */
export function rsaPublicKeyFromRaw (raw: Uint8Array): RsaPublicKey {
  return publicFrom(keyFromSpki(raw, invalidKey))
}

/** Fixed message for the consistency check of an imported private key. */
const SELF_TEST = new TextEncoder().encode('lp2p RSA private key consistency check')

/**
 * A private key from DER PKCS#1 RSAPrivateKey.
 * @throws ERR_INVALID_KEY for bytes that are not one, a size or exponent outside the
 *   bounds, or inconsistent components (checked by signing and verifying once).
 */
export function rsaPrivateKeyFromRaw (raw: Uint8Array): RsaPrivateKey {
  const key = keyFromDerPrivate(raw, PKCS1, invalidKey)
  checkKey(key)
  const priv = assemble(key)
  // OpenSSL does not check that n = p q, d e = 1 mod lcm(p-1, q-1), ... at import; a
  // corrupted file would sign garbage under a valid-looking identity. One signature
  // (a few ms, only when a key is loaded) proves the parts agree.
  let ok = false
  try {
    ok = priv.publicKey.verify(SELF_TEST, priv.sign(SELF_TEST))
  } catch {}
  if (!ok) throw invalidKey('the private key components are inconsistent')
  return priv
}

/**
 * A fresh key pair of `bits` bits (default 2048).
 * @throws RangeError for `bits` outside [2048, 4096] or not a multiple of 8.
 */
export function generateRsa (bits = DEFAULT_RSA_BITS): RsaPrivateKey {
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > MAX_GENERATE_RSA_BITS || bits % 8 !== 0) {
    throw invalidArgValue('bits', `must be a multiple of 8 in [${MIN_RSA_BITS}, ${MAX_GENERATE_RSA_BITS}], got ${String(bits)}`)
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 })
  return assemble(privateKey)
}

function assemble (key: KeyObject): RsaPrivateKey {
  const pkcs1 = new Uint8Array(key.export({ format: 'der', type: 'pkcs1' }))
  return new RsaPrivateKey(pkcs1, key, publicFrom(createPublicKey(key)))
}
