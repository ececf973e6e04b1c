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

export class CipherState {
  #key: Buffer | undefined
  /** The 12-byte nonce as ChaChaPoly wants it; bytes 4..11 mirror `n`, updated in place. */
  readonly #nonce = Buffer.alloc(NONCE_LENGTH)
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
    // A private copy: the caller's buffer may be reused.
    this.#key = Buffer.from(key)
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
    this.#nonce.writeUInt32LE(this.#lo, 4)
    this.#nonce.writeUInt32LE(this.#hi, 8)
  }

  /**
   * A cipher keyed with `k` and the current nonce; `n` is incremented. The caller
   * feeds it (`update`), then calls `final()` and `getAuthTag()`.
   */
  nextCipher (): CipherChaCha20Poly1305 {
    const key = this.#requireKey(codes.ERR_CONNECTION_CLOSED)
    const cipher = createCipheriv(ALGORITHM, key, this.#nonce, AEAD_OPTIONS)
    this.#increment()
    return cipher
  }

  /**
   * A decipher keyed with `k` and the current nonce; `n` is incremented. `tag`, when
   * given, is set now; otherwise the caller sets it (`setAuthTag`) before `final()`,
   * which ChaCha20-Poly1305 allows after `update` (so ciphertext can be fed as it
   * arrives). `final()` throws when authentication fails; the caller turns that into an
   * error and must not release any output before it returned.
   */
  nextDecipher (tag?: Uint8Array): DecipherChaCha20Poly1305 {
    const key = this.#requireKey(codes.ERR_DECRYPTION_FAILED)
    const decipher = createDecipheriv(ALGORITHM, key, this.#nonce, AEAD_OPTIONS)
    if (tag !== undefined) decipher.setAuthTag(tag)
    this.#increment()
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
      this.#nonce.writeUInt32LE(lo, 4)
      this.#nonce.writeUInt32LE(hi, 8)
      throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, 'Noise message failed authentication', { cause: err })
    }
    return plaintext
  }

  /**
   * The key, once the nonce is known to be usable. `code` says how exhaustion shows:
   * a send fails with ERR_CONNECTION_CLOSED (the channel is finished), a receive with
   * ERR_DECRYPTION_FAILED (the message cannot be authenticated).
   */
  #requireKey (code: typeof codes.ERR_CONNECTION_CLOSED | typeof codes.ERR_DECRYPTION_FAILED): Buffer {
    const key = this.#key
    if (key === undefined) throw new Lp2pError(code, 'the Noise cipher state has no key yet')
    if (this.#lo === MAX_UINT32 && this.#hi === MAX_UINT32) {
      // §5.1: n = 2^64-1 is reserved; the session must end rather than reuse a nonce.
      throw new Lp2pError(code, 'Noise nonce space exhausted (2^64-1 messages); the connection must be closed')
    }
    return key
  }

  #increment (): void {
    if (this.#lo === MAX_UINT32) {
      this.#lo = 0
      this.#hi++
      this.#nonce.writeUInt32LE(this.#hi, 8)
    } else {
      this.#lo++
    }
    this.#nonce.writeUInt32LE(this.#lo, 4)
  }
}
