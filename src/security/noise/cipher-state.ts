/**
 * The Noise `CipherState` (Noise Protocol Framework, revision 34, §5.1) for the
 * ChaChaPoly cipher functions (§12.2): a 32-byte key `k` (or none) and a 64-bit nonce
 * `n` that counts the messages sent (or received) under `k`.
 *
 * Pure protocol code: it only computes. ChaCha20-Poly1305 itself is `node:crypto`
 * (OpenSSL), which costs one cipher object per message; there is no way around that in
 * Node, so this class hands out ready cipher objects and lets the transport codec feed
 * them without intermediate copies.
 *
 * Nonces: the 96-bit ChaChaPoly nonce is 4 zero bytes followed by `n` as a 64-bit
 * little-endian integer (§12.2). `n` is kept as two 32-bit halves because a JS number
 * cannot count to 2^64. The value 2^64-1 is reserved (§5.1): once `n` reaches it every
 * further encryption or decryption fails, which `specs/noise.md` ("Encryption and
 * I/O") turns into "terminate the connection". A nonce is therefore never reused.
 */
import { createCipheriv, createDecipheriv, type CipherChaCha20Poly1305, type DecipherChaCha20Poly1305 } from 'node:crypto'
import { codes, Lp2pError } from '../../errors.js'
import { KEY_LENGTH, NONCE_LENGTH, TAG_LENGTH } from './constants.js'

const ALGORITHM = 'chacha20-poly1305'
const AEAD_OPTIONS = { authTagLength: TAG_LENGTH } as const
const MAX_UINT32 = 0xffffffff

/**
 * The key and nonce handed to `createCipheriv`, shared by every CipherState of the
 * process: written right before each call (which copies them into the OpenSSL
 * context at once; JS is single-threaded) and the key wiped right after. A cipher
 * state itself keeps its key in a 32-byte typed array on the JS heap: node:crypto
 * moves any typed array it is given into a separate backing store for good (an
 * ArrayBuffer, its allocation and bookkeeping, ~150 bytes for 12 or 32 bytes of
 * data), and a pooled `Buffer` slice would pin a whole 8 KiB pool slab per idle
 * connection. Two cipher states per connection, each with a key and a nonce: about
 * 0.6 KiB per idle connection saved, plus the slabs.
 */
const SCRATCH_KEY = Buffer.alloc(KEY_LENGTH)
const SCRATCH_NONCE = Buffer.alloc(NONCE_LENGTH)

export class CipherState {
  /** `k`: a copy on the JS heap (see SCRATCH_KEY), or undefined while empty. */
  #key: Uint8Array | undefined
  /** `n` as two 32-bit halves. */
  #lo = 0
  #hi = 0

  /** `InitializeKey(key)`; `undefined` means "empty" (no encryption yet). Resets `n` to 0. */
  constructor (key?: Uint8Array) {
    if (key !== undefined) this.initializeKey(key)
  }

  /** `InitializeKey(key)`: sets `k` and resets `n` to zero (§5.1). */
  initializeKey (key: Uint8Array): void {
    if (key.byteLength !== KEY_LENGTH) {
      throw new Lp2pError(codes.ERR_INVALID_KEY, `a ChaChaPoly key is ${KEY_LENGTH} bytes, got ${key.byteLength}`)
    }
    // A private copy: the caller's buffer may be reused. `new Uint8Array(32)` stays on
    // the JS heap as long as it is never handed to native code (see SCRATCH_KEY).
    const k = new Uint8Array(KEY_LENGTH)
    k.set(key)
    this.#key = k
    this.setNonce(0n)
  }

  /** `HasKey()`. */
  hasKey (): boolean {
    return this.#key !== undefined
  }

  /** The current `n`, for tests and diagnostics. */
  get nonce (): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo)
  }

  /** `SetNonce(n)` (§5.1); tests use it to reach the end of the nonce space. */
  setNonce (n: bigint): void {
    if (n < 0n || n > 0xffffffffffffffffn) throw new RangeError('a Noise nonce is a 64-bit unsigned integer')
    this.#lo = Number(n & 0xffffffffn)
    this.#hi = Number(n >> 32n)
  }

  /**
   * A cipher keyed with `k` and the current nonce; `n` is incremented. The caller
   * feeds it (`update`), then calls `final()` and `getAuthTag()`.
   */
  nextCipher (): CipherChaCha20Poly1305 {
    this.#prepare(codes.ERR_CONNECTION_CLOSED)
    try {
      return createCipheriv(ALGORITHM, SCRATCH_KEY, SCRATCH_NONCE, AEAD_OPTIONS)
    } finally {
      SCRATCH_KEY.fill(0)
    }
  }

  /**
   * A decipher keyed with `k` and the current nonce; `n` is incremented. `tag`, when
   * given, is set now; otherwise the caller sets it (`setAuthTag`) before `final()`,
   * which ChaCha20-Poly1305 allows after `update` (so ciphertext can be fed as it
   * arrives). `final()` throws when authentication fails; the caller turns that into an
   * error and must not release any output before it returned.
   */
  nextDecipher (tag?: Uint8Array): DecipherChaCha20Poly1305 {
    this.#prepare(codes.ERR_DECRYPTION_FAILED)
    let decipher: DecipherChaCha20Poly1305
    try {
      decipher = createDecipheriv(ALGORITHM, SCRATCH_KEY, SCRATCH_NONCE, AEAD_OPTIONS)
    } finally {
      SCRATCH_KEY.fill(0)
    }
    if (tag !== undefined) decipher.setAuthTag(tag)
    return decipher
  }

  /**
   * `EncryptWithAd(ad, plaintext)`: ciphertext followed by the 16-byte tag, or the
   * plaintext unchanged (copied) while there is no key (§5.1).
   */
  encryptWithAd (ad: Uint8Array, plaintext: Uint8Array): Buffer {
    if (this.#key === undefined) return Buffer.from(plaintext)
    const cipher = this.nextCipher()
    if (ad.byteLength > 0) cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const out = Buffer.allocUnsafe(plaintext.byteLength + TAG_LENGTH)
    const body = cipher.update(plaintext)
    body.copy(out, 0)
    cipher.final()
    cipher.getAuthTag().copy(out, body.byteLength)
    return out
  }

  /**
   * `DecryptWithAd(ad, ciphertext)`: the plaintext, or the input unchanged (copied)
   * while there is no key. Fails with `ERR_DECRYPTION_FAILED` when the tag does not
   * authenticate; the nonce is then not advanced, as §5.1 requires.
   */
  decryptWithAd (ad: Uint8Array, ciphertext: Uint8Array): Buffer {
    if (this.#key === undefined) return Buffer.from(ciphertext)
    if (ciphertext.byteLength < TAG_LENGTH) {
      throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, `a Noise ciphertext holds at least the ${TAG_LENGTH}-byte tag, got ${ciphertext.byteLength} bytes`)
    }
    const bodyLength = ciphertext.byteLength - TAG_LENGTH
    const lo = this.#lo
    const hi = this.#hi
    const decipher = this.nextDecipher(ciphertext.subarray(bodyLength))
    if (ad.byteLength > 0) decipher.setAAD(ad, { plaintextLength: bodyLength })
    const plaintext = decipher.update(ciphertext.subarray(0, bodyLength))
    try {
      decipher.final()
    } catch (err) {
      this.#lo = lo
      this.#hi = hi
      throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, 'Noise message failed authentication', { cause: err })
    }
    return plaintext
  }

  /**
   * Puts `k` and the current nonce in the scratch buffers and increments `n`, once the
   * nonce is known to be usable. `code` says how exhaustion shows: a send fails with
   * ERR_CONNECTION_CLOSED (the channel is finished), a receive with
   * ERR_DECRYPTION_FAILED (the message cannot be authenticated).
   */
  #prepare (code: typeof codes.ERR_CONNECTION_CLOSED | typeof codes.ERR_DECRYPTION_FAILED): void {
    const key = this.#key
    if (key === undefined) throw new Lp2pError(code, 'the Noise cipher state has no key yet')
    const lo = this.#lo
    const hi = this.#hi
    if (lo === MAX_UINT32 && hi === MAX_UINT32) {
      // §5.1: n = 2^64-1 is reserved; the session must end rather than reuse a nonce.
      throw new Lp2pError(code, 'Noise nonce space exhausted (2^64-1 messages); the connection must be closed')
    }
    SCRATCH_KEY.set(key)
    // Bytes 0..3 stay zero; 4..11 are `n`, little-endian (§12.2).
    SCRATCH_NONCE.writeUInt32LE(lo, 4)
    SCRATCH_NONCE.writeUInt32LE(hi, 8)
    if (lo === MAX_UINT32) {
      this.#lo = 0
      this.#hi = hi + 1
    } else {
      this.#lo = lo + 1
    }
  }
}
