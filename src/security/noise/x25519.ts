/**
 * The 25519 DH functions of Noise (§12.1): X25519 (RFC 7748 §5) from `node:crypto`.
 *
 * Public keys travel as their 32 raw bytes (RFC 7748 §5, which is also what
 * `specs/noise.md` signs). `node:crypto` wants DER, so raw keys are wrapped in the fixed
 * SubjectPublicKeyInfo / PKCS#8 prefixes for the X25519 OID 1.3.101.110 (RFC 8410 §3, §7).
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { codes, Lp2pError } from '../../errors.js'
import { DH_LENGTH } from './constants.js'

/** DER SubjectPublicKeyInfo header for an X25519 key; the 32 key bytes follow (RFC 8410 §4). */
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')
/** DER PKCS#8 header for an X25519 private key; the 32 key bytes follow (RFC 8410 §7). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** A Noise DH key pair: the raw public key and the private key as a KeyObject. */
export interface X25519KeyPair {
  /** The 32-byte public key as sent on the wire. */
  readonly publicKey: Buffer
  readonly privateKey: KeyObject
}

/** `GENERATE_KEYPAIR()` (Noise §4.1) from the system CSPRNG. */
export function generateX25519KeyPair (): X25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519')
  return { publicKey: rawPublicKey(publicKey), privateKey }
}

/** A key pair from 32 private key bytes (test vectors; a configured static key). */
export function x25519KeyPairFromPrivateKey (raw: Uint8Array): X25519KeyPair {
  if (raw.byteLength !== DH_LENGTH) {
    throw new Lp2pError(codes.ERR_INVALID_KEY, `an X25519 private key is ${DH_LENGTH} bytes, got ${raw.byteLength}`)
  }
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' })
  return { publicKey: rawPublicKey(createPublicKey(privateKey)), privateKey }
}

/**
 * `DH(key_pair, public_key)` (Noise §4.1): the 32-byte X25519 shared secret.
 * A remote public key that yields the all-zero secret (a low-order point, RFC 7748
 * §6.1) makes OpenSSL refuse the derivation; that surfaces as ERR_HANDSHAKE_FAILED,
 * since such a key can only come from a broken or hostile peer.
 */
export function x25519 (privateKey: KeyObject, remotePublicKey: Uint8Array): Buffer {
  if (remotePublicKey.byteLength !== DH_LENGTH) {
    throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `an X25519 public key is ${DH_LENGTH} bytes, got ${remotePublicKey.byteLength}`)
  }
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, remotePublicKey]), format: 'der', type: 'spki' })
    return diffieHellman({ privateKey, publicKey })
  } catch (err) {
    throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'X25519 key agreement failed (invalid or low-order remote key)', { cause: err })
  }
}

function rawPublicKey (key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' })
  return der.subarray(SPKI_PREFIX.byteLength)
}
