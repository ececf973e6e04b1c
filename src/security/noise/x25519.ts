/**
 * The 25519 DH functions of Noise (§12.1): X25519 (RFC 7748 §5) from `node:crypto`.
 *
 * Public keys travel as their 32 raw bytes (RFC 7748 §5, which is also what
 * `specs/noise.md` signs). `node:crypto` only computes with KeyObjects, so a remote
 * key must be imported and our ephemeral public key exported once per handshake.
 *
 * Cost (Node 20, OpenSSL 3, measured in `bench/micro/x25519.ts`): importing a raw key
 * as a JWK (`{ kty: 'OKP', crv: 'X25519', x }`) takes about 6 us, because Node hands
 * the raw bytes straight to `EVP_PKEY_new_raw_public_key`; the same key wrapped in a
 * DER SubjectPublicKeyInfo takes about 80 us, because OpenSSL 3 runs its generic
 * decoder framework on it. Exporting is alike (JWK under 1 us, DER about 70 us). Both
 * directions therefore use JWK; the raw bytes are its base64url `x` member (RFC 8037
 * §2). Each handshake imports every remote key once ({@link importX25519PublicKey})
 * and reuses the KeyObject for every DH that involves it.
 *
 * Key pairs are made from 32 random bytes imported as a JWK, never with
 * `generateKeyPairSync`: on Node 20 a JWK export of a key from `generateKeyPairSync`
 * can deadlock the process. The export holds the key's mutex while it allocates the
 * `x` string; when that allocation triggers a GC which finalizes the key generation
 * job, the job's destructor takes the same mutex (seen with gdb in
 * `~KeyGenJob` under `ExportJWKEdKey`; a loop of generate + JWK export hangs within
 * seconds, for x25519, ed25519 and EC keys alike). Imported keys have no such job.
 * Any 32 bytes are a valid X25519 private key (RFC 7748 §5 clamps the scalar), so
 * this is exactly Noise's GENERATE_KEYPAIR, at the same cost (about 45 us, almost all
 * of it the scalar multiplication that derives the public key).
 */
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto'
import { codes, Lp2pError } from '../../errors.js'
import { DH_LENGTH } from './constants.js'

/** A Noise DH key pair: the raw public key and the private key as a KeyObject. */
export interface X25519KeyPair {
  /** The 32-byte public key as sent on the wire. */
  readonly publicKey: Buffer
  readonly privateKey: KeyObject
}

/** `GENERATE_KEYPAIR()` (Noise §4.1) from the system CSPRNG. */
export function generateX25519KeyPair (): X25519KeyPair {
  const raw = randomBytes(DH_LENGTH)
  const pair = x25519KeyPairFromPrivateKey(raw)
  raw.fill(0)
  return pair
}

/** A key pair from 32 private key bytes (test vectors; a configured static key). */
export function x25519KeyPairFromPrivateKey (raw: Uint8Array): X25519KeyPair {
  if (raw.byteLength !== DH_LENGTH) {
    throw new Lp2pError(codes.ERR_INVALID_KEY, `an X25519 private key is ${DH_LENGTH} bytes, got ${raw.byteLength}`)
  }
  // Node wants `x` to be a string but derives the public key from `d` (RFC 8037 §2
  // members; the derived key is what `rawPublicKey` reads back).
  const d = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url')
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: '' }, format: 'jwk' })
  return { publicKey: rawPublicKey(createPublicKey(privateKey)), privateKey }
}

/**
 * A remote X25519 public key (its 32 raw bytes) as a KeyObject, for {@link x25519}.
 * Any 32 bytes import (RFC 7748 §5: every string is a u-coordinate); a low-order one
 * fails later, in the DH. A key of another length is ERR_HANDSHAKE_FAILED.
 */
export function importX25519PublicKey (raw: Uint8Array): KeyObject {
  if (raw.byteLength !== DH_LENGTH) {
    throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `an X25519 public key is ${DH_LENGTH} bytes, got ${raw.byteLength}`)
  }
  try {
    const x = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url')
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' })
  } catch (err) {
    throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'the remote X25519 public key was rejected', { cause: err })
  }
}

/**
 * `DH(key_pair, public_key)` (Noise §4.1): the 32-byte X25519 shared secret. The
 * remote key is a KeyObject from {@link importX25519PublicKey}, or its raw bytes
 * (imported here, for one-off use).
 * A remote public key that yields the all-zero secret (a low-order point, RFC 7748
 * §6.1) makes OpenSSL refuse the derivation; that surfaces as ERR_HANDSHAKE_FAILED,
 * since such a key can only come from a broken or hostile peer.
 */
export function x25519 (privateKey: KeyObject, remotePublicKey: KeyObject | Uint8Array): Buffer {
  const publicKey = remotePublicKey instanceof Uint8Array ? importX25519PublicKey(remotePublicKey) : remotePublicKey
  try {
    return diffieHellman({ privateKey, publicKey })
  } catch (err) {
    throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'X25519 key agreement failed (invalid or low-order remote key)', { cause: err })
  }
}

/** The 32 raw bytes of a public key: the JWK `x` member (RFC 8037 §2), see the module comment for why not DER. */
function rawPublicKey (key: KeyObject): Buffer {
  const x = key.export({ format: 'jwk' }).x
  if (typeof x !== 'string') throw new Lp2pError(codes.ERR_INVALID_KEY, 'not an X25519 key')
  return Buffer.from(x, 'base64url')
}
