/**
 * Ed25519 keys (peer-ids.md, "Ed25519"; RFC 8032), on node:crypto.
 *
 * - Public key `Data`: the raw 32-byte key.
 * - Private key `Data`: `[32-byte seed][32-byte public key]` (64 bytes, the preferred
 *   form). The older `[seed][public][public]` form (96 bytes) is accepted when both
 *   public copies are identical, as the spec asks, and re-encoded as 64 bytes. In both
 *   forms the public key must be the one the seed derives: a mismatched pair would sign
 *   with one key and advertise another.
 * - Signatures: plain Ed25519 (64 bytes) over the message, no pre-hash.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto'
import { BasePrivateKey, BasePublicKey, invalidKeyOf } from './key-base.js'
import { bytesEqual } from './util.js'

/** RFC 8032 section 5.1.5: public keys and seeds are 32 bytes, signatures 64. */
export const ED25519_KEY_BYTES = 32
export const ED25519_SIGNATURE_BYTES = 64

const b64url = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64url')

const invalidKey = invalidKeyOf('Ed25519')

export class Ed25519PublicKey extends BasePublicKey {
  readonly type = 'Ed25519' as const
  /**
   * Made on first use: decoding a remote key (every handshake, every inlined peer id)
   * then costs a copy, and OpenSSL's key import (about 20 us through JWK, 5 times that
   * through DER) is paid only by keys that verify something.
   */
  #key: KeyObject | undefined

  /** @internal use {@link ed25519PublicKeyFromRaw}. */
  constructor (raw: Uint8Array, key?: KeyObject) {
    super(raw)
    this.#key = key
  }

  protected verifyBytes (data: Uint8Array, sig: Uint8Array): boolean {
    if (sig.length !== ED25519_SIGNATURE_BYTES) return false
    this.#key ??= createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(this.raw) }, format: 'jwk' })
    return verify(null, data, this.#key, sig)
  }
}

export class Ed25519PrivateKey extends BasePrivateKey<Ed25519PublicKey> {
  readonly type = 'Ed25519' as const
  readonly #key: KeyObject

  /** @internal use {@link ed25519PrivateKeyFromRaw} or {@link generateEd25519}. */
  constructor (raw: Uint8Array, key: KeyObject, publicKey: Ed25519PublicKey) {
    super(raw, publicKey)
    this.#key = key
  }

  protected signBytes (data: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, data, this.#key))
  }
}

/** A public key from its raw 32 bytes. @throws ERR_INVALID_KEY for another length. */
export function ed25519PublicKeyFromRaw (raw: Uint8Array): Ed25519PublicKey {
  if (raw.length !== ED25519_KEY_BYTES) throw invalidKey(`public key must be ${ED25519_KEY_BYTES} bytes, got ${raw.length}`)
  // Any 32 bytes are accepted here, as OpenSSL and Go accept them at import: a string
  // that is no curve point simply verifies nothing.
  return new Ed25519PublicKey(Uint8Array.from(raw))
}

/**
 * A private key from its `Data` bytes (64, or the legacy 96).
 * @throws ERR_INVALID_KEY for another length, differing public copies, or a public key
 *   the seed does not derive.
 */
export function ed25519PrivateKeyFromRaw (raw: Uint8Array): Ed25519PrivateKey {
  if (raw.length !== 2 * ED25519_KEY_BYTES && raw.length !== 3 * ED25519_KEY_BYTES) {
    throw invalidKey(`private key must be 64 bytes (or the legacy 96), got ${raw.length}`)
  }
  const seed = raw.subarray(0, ED25519_KEY_BYTES)
  const pub = raw.subarray(ED25519_KEY_BYTES, 2 * ED25519_KEY_BYTES)
  if (raw.length === 3 * ED25519_KEY_BYTES && !bytesEqual(pub, raw.subarray(2 * ED25519_KEY_BYTES))) {
    throw invalidKey('the two public key copies of a 96-byte private key differ')
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(pub) }, format: 'jwk' })
  } catch (err) {
    throw invalidKey('private key rejected by the crypto library', err)
  }
  // OpenSSL derives the public key from the seed and ignores the given one: compare.
  const derived = Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url')
  if (!bytesEqual(derived, pub)) throw invalidKey('the public key does not belong to the private key')
  return assemble(seed, derived, key)
}

/**
 * The key pair of a 32-byte seed (RFC 8032 §5.1.5: the private key is any 32 bytes),
 * imported as a JWK, whose public key OpenSSL derives.
 * @throws ERR_INVALID_KEY for another length.
 */
export function ed25519PrivateKeyFromSeed (seed: Uint8Array): Ed25519PrivateKey {
  if (seed.length !== ED25519_KEY_BYTES) throw invalidKey(`seed must be ${ED25519_KEY_BYTES} bytes, got ${seed.length}`)
  // `x` must be a string for Node but is ignored for a private key: OpenSSL derives it.
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: '' }, format: 'jwk' })
  const pub = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x as string, 'base64url')
  return assemble(seed, pub, key)
}

/**
 * A fresh random key pair: the key of a random seed. Not `generateKeyPairSync`: on
 * Node 20 a JWK export of a key it generated can deadlock under GC (see
 * `security/noise/x25519.ts`), and the public key's raw bytes are only cheap to read
 * through JWK.
 */
export function generateEd25519 (): Ed25519PrivateKey {
  return ed25519PrivateKeyFromSeed(randomBytes(ED25519_KEY_BYTES))
}

function assemble (seed: Uint8Array, pub: Uint8Array, key: KeyObject): Ed25519PrivateKey {
  const raw = new Uint8Array(2 * ED25519_KEY_BYTES)
  raw.set(seed, 0)
  raw.set(pub, ED25519_KEY_BYTES)
  const publicKey = new Ed25519PublicKey(raw.slice(ED25519_KEY_BYTES))
  return new Ed25519PrivateKey(raw, key, publicKey)
}
