/**
 * Memoised identity checks of the noise-libp2p handshake (`specs/noise.md`, "Static
 * Key Authentication"), shared by every handshake of one `noise()` instance.
 *
 * A payload proves its sender's identity with a signature by the identity key over
 * `noise-libp2p-static-key:` || the sender's static Noise key. Both keys are long-lived
 * (a node keeps one static Noise key for all its sessions, as the spec allows and
 * lp2p, js-libp2p and go-libp2p do), and Ed25519 signatures are deterministic (lp2p
 * also signs only once per static key, whatever the key type), so two connections
 * between the same nodes carry the same (identity key, static key, signature)
 * triple. Checking it costs an OpenSSL key
 * import and a verification (Ed25519: about 7 + 110 us); producing ours a signature
 * (about 35 us). Both results are remembered:
 *
 * - {@link IdentityCache.signature}: our signature over a static key, per identity key;
 * - {@link IdentityCache.verified}: triples that verified, with the decoded public
 *   key and peer id. The lookup key is the three byte strings with the identity key's
 *   length in front, so no two different triples share it; only a triple that
 *   verified is stored. A hit is exactly the answer a new verification would give:
 *   verification is a pure function of these bytes.
 *
 * Bounded: at most {@link IdentityCacheOptions.maxEntries} triples (least recently
 * used first out), and only triples of at most {@link MAX_CACHED_TRIPLE_BYTES} bytes
 * (every Ed25519, secp256k1 and ECDSA identity; RSA identities, whose verification is
 * cheap anyway, are checked every time).
 *
 * Pure: no I/O, no clock.
 */
import type { PeerId, PrivateKey, PublicKey } from '../../interfaces/keys.js'
import { bytesEqual } from '../../identity/util.js'

/**
 * Largest triple remembered, bytes: 512. An Ed25519 triple is 36 + 32 + 64 = 132,
 * secp256k1 37 + 32 + 72, ECDSA P-256 about 91 + 32 + 72; an RSA-2048 one about 650.
 */
export const MAX_CACHED_TRIPLE_BYTES = 512

/**
 * Default number of remembered triples: 1024, about 300 KiB at the largest size. It
 * covers the peers a node reconnects to; a miss only costs a verification.
 */
export const DEFAULT_IDENTITY_CACHE_ENTRIES = 1024

export interface IdentityCacheOptions {
  /** Most triples remembered (0 disables the verification cache). */
  maxEntries?: number
}

/** A verified remote identity. */
export interface VerifiedIdentity {
  readonly publicKey: PublicKey
  readonly peer: PeerId
}

export class IdentityCache {
  readonly #max: number
  readonly #verified = new Map<string, VerifiedIdentity>()
  readonly #signatures = new WeakMap<PrivateKey, { staticKey: Uint8Array, signature: Uint8Array }>()

  constructor (options: IdentityCacheOptions = {}) {
    const max = options.maxEntries ?? DEFAULT_IDENTITY_CACHE_ENTRIES
    if (!Number.isInteger(max) || max < 0) throw new RangeError('maxEntries must be a non-negative integer')
    this.#max = max
  }

  /** Triples remembered now. */
  get size (): number {
    return this.#verified.size
  }

  /**
   * `localKey`'s signature over `data` (the static-key signature data of
   * `staticKey`): computed once per identity key and static key.
   */
  signature (localKey: PrivateKey, staticKey: Uint8Array, data: Uint8Array): Uint8Array {
    const hit = this.#signatures.get(localKey)
    if (hit !== undefined && bytesEqual(hit.staticKey, staticKey)) return hit.signature
    const signature = localKey.sign(data)
    this.#signatures.set(localKey, { staticKey: Uint8Array.from(staticKey), signature })
    return signature
  }

  /** The identity a triple proved before, if it is remembered. */
  verified (identityKey: Uint8Array, staticKey: Uint8Array, signature: Uint8Array): VerifiedIdentity | undefined {
    const key = tripleKey(identityKey, staticKey, signature)
    if (key === undefined) return undefined
    const hit = this.#verified.get(key)
    if (hit !== undefined) {
      // Most recently used last: Map iteration order is insertion order.
      this.#verified.delete(key)
      this.#verified.set(key, hit)
    }
    return hit
  }

  /** Remembers a triple that verified. */
  add (identityKey: Uint8Array, staticKey: Uint8Array, signature: Uint8Array, identity: VerifiedIdentity): void {
    if (this.#max === 0) return
    const key = tripleKey(identityKey, staticKey, signature)
    if (key === undefined) return
    this.#verified.delete(key)
    this.#verified.set(key, identity)
    if (this.#verified.size > this.#max) {
      const oldest = this.#verified.keys().next().value as string
      this.#verified.delete(oldest)
    }
  }
}

/**
 * The lookup key: identity key length (2 bytes), identity key, static key length
 * (1 byte), static key, signature, as a latin1 string (one char per byte). The
 * lengths make the split unambiguous. `undefined` for a triple too large to remember.
 */
function tripleKey (identityKey: Uint8Array, staticKey: Uint8Array, signature: Uint8Array): string | undefined {
  const total = 3 + identityKey.byteLength + staticKey.byteLength + signature.byteLength
  if (total > MAX_CACHED_TRIPLE_BYTES || staticKey.byteLength > 255) return undefined
  const buf = Buffer.allocUnsafe(total)
  buf.writeUInt16BE(identityKey.byteLength, 0)
  buf.set(identityKey, 2)
  let at = 2 + identityKey.byteLength
  buf[at++] = staticKey.byteLength
  buf.set(staticKey, at)
  buf.set(signature, at + staticKey.byteLength)
  return buf.toString('latin1')
}
