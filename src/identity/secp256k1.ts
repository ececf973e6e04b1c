/**
 * secp256k1 keys (peer-ids.md, "Secp256k1"), on node:crypto.
 *
 * - Public key `Data`: the 33-byte compressed point (SEC 1 v2 section 2.3.3), "the
 *   standard Bitcoin EC encoding". The 65-byte uncompressed form is accepted too, as
 *   go-libp2p's parser does, and re-encoded compressed (go-libp2p derives peer ids from
 *   the re-encoding as well).
 * - Private key `Data`: the 32-byte big-endian scalar d, 1 <= d < n.
 * - Signatures: ECDSA over SHA-256(message), DER encoded (BIP 62 "DER encoding").
 *
 * Signing is deterministic (RFC 6979 section 3.2, HMAC-SHA-256), exactly as go-libp2p
 * signs through decred's `ecdsa.Sign`, so signatures reproduce go-libp2p's byte for byte,
 * and never depend on the quality of a random number generator. The nonce point k*G is
 * computed by OpenSSL (via ECDH key derivation, a constant-time scalar multiplication);
 * the scalar arithmetic s = k^-1 (e + r d) mod n uses BigInt, which is not constant
 * time, so it is blinded with a fresh random factor b: s = (b k)^-1 (b e + b r d).
 * The result is normalised to low S (s <= n/2, BIP 62 rule 5): js-libp2p (noble, which
 * defaults to `lowS: true`) and libsecp256k1 reject high-S signatures.
 *
 * Verification accepts high-S signatures. ECDSA is valid for both s and n - s; only
 * malleability (a third party turning one valid signature into another) distinguishes
 * them, and nothing in libp2p identifies a message by its signature bytes: handshakes
 * and records are authenticated, not deduplicated, by signature. go-libp2p (decred
 * `Verify`) and OpenSSL accept high S too, so accepting them only widens interop.
 */
import { createECDH, createHmac, createHash, createPublicKey, ECDH, randomBytes, verify, type KeyObject } from 'node:crypto'
import { bigIntToBytes, bytesToBigInt, decodeDerSignature, encodeDerSignature, toP1363 } from './ecdsa-signature.js'
import { BasePrivateKey, BasePublicKey, invalidKeyOf } from './key-base.js'

/** Group order n of secp256k1 (SEC 2 v2 section 2.4.1). */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const HALF_N = SECP256K1_N >> 1n
/** Scalars and coordinates are 32 bytes; a compressed point is 33, uncompressed 65. */
const SCALAR_BYTES = 32
export const SECP256K1_COMPRESSED_BYTES = 33
const UNCOMPRESSED_BYTES = 65

const invalidKey = invalidKeyOf('secp256k1')

/**
 * DER SubjectPublicKeyInfo header for an uncompressed secp256k1 point (RFC 5480:
 * id-ecPublicKey 1.2.840.10045.2.1 with namedCurve secp256k1 1.3.132.0.10, SEC 2).
 */
const SPKI_PREFIX = Buffer.from('3056301006072a8648ce3d020106052b8104000a034200', 'hex')

export class Secp256k1PublicKey extends BasePublicKey {
  readonly type = 'secp256k1' as const
  /** The validated uncompressed point, for the verification key. */
  readonly #point: Uint8Array
  /** Made on first verify (OpenSSL's import costs ~0.2 ms; decoding should not). */
  #key: KeyObject | undefined

  /** @internal use {@link secp256k1PublicKeyFromRaw}. */
  constructor (compressed: Uint8Array, uncompressed: Uint8Array) {
    super(compressed)
    this.#point = uncompressed
  }

  protected verifyBytes (data: Uint8Array, sig: Uint8Array): boolean {
    const rs = decodeDerSignature(sig)
    if (rs === undefined) return false
    if (rs.r < 1n || rs.r >= SECP256K1_N || rs.s < 1n || rs.s >= SECP256K1_N) return false
    this.#key ??= createPublicKey({ key: Buffer.concat([SPKI_PREFIX, this.#point]), format: 'der', type: 'spki' })
    return verify('sha256', data, { key: this.#key, dsaEncoding: 'ieee-p1363' }, toP1363(rs, SCALAR_BYTES))
  }
}

export class Secp256k1PrivateKey extends BasePrivateKey<Secp256k1PublicKey> {
  readonly type = 'secp256k1' as const
  readonly #d: bigint

  /** @internal use {@link secp256k1PrivateKeyFromRaw} or {@link generateSecp256k1}. */
  constructor (raw: Uint8Array, publicKey: Secp256k1PublicKey) {
    super(raw, publicKey)
    this.#d = bytesToBigInt(raw)
  }

  /** Deterministic (RFC 6979) low-S ECDSA over SHA-256(data), DER encoded. */
  protected signBytes (data: Uint8Array): Uint8Array {
    const h = createHash('sha256').update(data).digest()
    // bits2int(H) for a 256-bit hash and a 256-bit order is the hash itself; reduce once.
    const e = bytesToBigInt(h) % SECP256K1_N
    const nonces = rfc6979Nonces(this.raw, bigIntToBytes(e, SCALAR_BYTES))
    for (;;) {
      const k = nonces.next()
      const r = bytesToBigInt(pointX(k)) % SECP256K1_N
      if (r === 0n) continue // RFC 6979 section 3.2 step h.3: try the next k
      const b = randomScalar()
      const bk = (b * bytesToBigInt(k)) % SECP256K1_N
      let s = (modInverse(bk, SECP256K1_N) * ((b * e + ((b * r) % SECP256K1_N) * this.#d) % SECP256K1_N)) % SECP256K1_N
      if (s === 0n) continue
      if (s > HALF_N) s = SECP256K1_N - s
      return encodeDerSignature(r, s)
    }
  }
}

/**
 * A public key from its 33-byte compressed (or 65-byte uncompressed) point.
 * @throws ERR_INVALID_KEY for another length or a point not on the curve.
 */
export function secp256k1PublicKeyFromRaw (raw: Uint8Array): Secp256k1PublicKey {
  if (raw.length === SECP256K1_COMPRESSED_BYTES) {
    if (raw[0] !== 0x02 && raw[0] !== 0x03) throw invalidKey('a compressed point starts with 0x02 or 0x03')
  } else if (raw.length === UNCOMPRESSED_BYTES) {
    if (raw[0] !== 0x04) throw invalidKey('an uncompressed point starts with 0x04')
  } else {
    throw invalidKey(`public key must be ${SECP256K1_COMPRESSED_BYTES} bytes (compressed) or ${UNCOMPRESSED_BYTES} (uncompressed), got ${raw.length}`)
  }
  let uncompressed: Uint8Array
  try {
    // OpenSSL decodes the point and rejects any that is not on the curve.
    uncompressed = new Uint8Array(convert(raw, 'uncompressed'))
  } catch (err) {
    throw invalidKey('not a point on the curve', err)
  }
  return new Secp256k1PublicKey(compress(uncompressed), uncompressed)
}

/** SEC 1 section 2.3.3: 0x02 or 0x03 (the parity of y), then x. */
function compress (uncompressed: Uint8Array): Uint8Array {
  const out = new Uint8Array(SECP256K1_COMPRESSED_BYTES)
  out[0] = 0x02 | ((uncompressed[UNCOMPRESSED_BYTES - 1] as number) & 1)
  out.set(uncompressed.subarray(1, 1 + SCALAR_BYTES), 1)
  return out
}

/**
 * A private key from its 32-byte scalar.
 * @throws ERR_INVALID_KEY for another length or a scalar outside [1, n).
 */
export function secp256k1PrivateKeyFromRaw (raw: Uint8Array): Secp256k1PrivateKey {
  if (raw.length !== SCALAR_BYTES) throw invalidKey(`private key must be ${SCALAR_BYTES} bytes, got ${raw.length}`)
  const d = bytesToBigInt(raw)
  if (d === 0n || d >= SECP256K1_N) throw invalidKey('private scalar is outside [1, n)')
  const ecdh = createECDH('secp256k1')
  ecdh.setPrivateKey(raw)
  const uncompressed = new Uint8Array(ecdh.getPublicKey())
  const pub = new Secp256k1PublicKey(compress(uncompressed), uncompressed)
  return new Secp256k1PrivateKey(Uint8Array.from(raw), pub)
}

/** A fresh random key pair. */
export function generateSecp256k1 (): Secp256k1PrivateKey {
  return secp256k1PrivateKeyFromRaw(bigIntToBytes(randomScalar(), SCALAR_BYTES))
}

function convert (point: Uint8Array, format: 'compressed' | 'uncompressed'): Buffer {
  return ECDH.convertKey(point, 'secp256k1', undefined, undefined, format) as Buffer
}

/** x coordinate of k*G, computed by OpenSSL. */
function pointX (k: Uint8Array): Uint8Array {
  const ecdh = createECDH('secp256k1')
  ecdh.setPrivateKey(k)
  return ecdh.getPublicKey().subarray(1, 1 + SCALAR_BYTES)
}

/** A uniformly random scalar in [1, n) (rejection sampling; n is within 2^-128 of 2^256). */
function randomScalar (): bigint {
  for (;;) {
    const v = bytesToBigInt(randomBytes(SCALAR_BYTES))
    if (v > 0n && v < SECP256K1_N) return v
  }
}

/** a^-1 mod m for prime m (extended Euclid). */
function modInverse (a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m]
  let [oldS, s] = [1n, 0n]
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s]
  }
  return ((oldS % m) + m) % m
}

/**
 * The RFC 6979 section 3.2 nonce generator for secp256k1 with HMAC-SHA-256:
 * x = int2octets(d), h1 = bits2octets(H(m)); yields successive candidates k in [1, n).
 */
export function rfc6979Nonces (x: Uint8Array, h1: Uint8Array): { next: () => Uint8Array } {
  const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
    const m = createHmac('sha256', key)
    for (const p of parts) m.update(p)
    return m.digest()
  }
  let v: Uint8Array = new Uint8Array(32).fill(0x01) // step b
  let k: Uint8Array = new Uint8Array(32) // step c
  k = hmac(k, v, Uint8Array.of(0x00), x, h1) // step d
  v = hmac(k, v) // step e
  k = hmac(k, v, Uint8Array.of(0x01), x, h1) // step f
  v = hmac(k, v) // step g
  let first = true
  return {
    next () {
      for (;;) {
        if (!first) { // step h.3: after a rejected candidate
          k = hmac(k, v, Uint8Array.of(0x00))
          v = hmac(k, v)
        }
        first = false
        v = hmac(k, v) // step h.2: qlen = hlen = 256, one block is enough
        const candidate = bytesToBigInt(v)
        if (candidate >= 1n && candidate < SECP256K1_N) return Uint8Array.from(v)
      }
    }
  }
}
