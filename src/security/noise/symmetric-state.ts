/**
 * The Noise `SymmetricState` (Noise Protocol Framework, revision 34, §5.2) for SHA-256:
 * the chaining key `ck`, the handshake hash `h` and the handshake's CipherState.
 *
 * HKDF (§4.3) is `hkdfSync('sha256', ikm, salt = ck, info = empty, 64)`. Noise defines
 * HKDF(ck, ikm) as temp = HMAC(ck, ikm); out1 = HMAC(temp, 0x01);
 * out2 = HMAC(temp, out1 || 0x02). RFC 5869 with salt = ck and empty info computes
 * PRK = HMAC(salt, IKM) = temp, T(1) = HMAC(PRK, "" || 0x01) = out1 and
 * T(2) = HMAC(PRK, T(1) || "" || 0x02) = out2: the same bytes, so its first 64 output
 * bytes are out1 || out2. (Checked against the Noise test vectors in the tests.)
 */
import { createHash, hkdfSync } from 'node:crypto'
import { CipherState } from './cipher-state.js'
import { HASH_LENGTH } from './constants.js'

const EMPTY = Buffer.alloc(0)

/** Noise `HKDF(chaining_key, input_key_material, 2)` with SHA-256 (§4.3). */
export function hkdf2 (chainingKey: Uint8Array, ikm: Uint8Array): [Buffer, Buffer] {
  const out = Buffer.from(hkdfSync('sha256', ikm, chainingKey, EMPTY, 2 * HASH_LENGTH))
  return [out.subarray(0, HASH_LENGTH), out.subarray(HASH_LENGTH)]
}

function sha256 (a: Uint8Array, b: Uint8Array): Buffer {
  return createHash('sha256').update(a).update(b).digest()
}

export class SymmetricState {
  #ck: Buffer
  #h: Buffer
  readonly #cs = new CipherState()

  /**
   * `InitializeSymmetric(protocol_name)`: `h` is the name padded with zeros when it
   * fits in HASHLEN bytes, else its hash; `ck = h`; the cipher state has no key.
   */
  constructor (protocolName: string) {
    const name = Buffer.from(protocolName, 'utf8')
    if (name.byteLength <= HASH_LENGTH) {
      this.#h = Buffer.alloc(HASH_LENGTH)
      name.copy(this.#h)
    } else {
      this.#h = createHash('sha256').update(name).digest()
    }
    this.#ck = Buffer.from(this.#h)
  }

  /** The handshake hash `h` (channel binding value once the handshake is done, §11.2). */
  get handshakeHash (): Buffer {
    return Buffer.from(this.#h)
  }

  /** True once a DH result was mixed in, so payloads are encrypted. */
  hasKey (): boolean {
    return this.#cs.hasKey()
  }

  /** `MixKey(ikm)`: `ck, temp_k = HKDF(ck, ikm, 2)`; `InitializeKey(temp_k)`. */
  mixKey (ikm: Uint8Array): void {
    const [ck, tempKey] = hkdf2(this.#ck, ikm)
    this.#ck = ck
    // HASHLEN is 32, the ChaChaPoly key size, so temp_k needs no truncation.
    this.#cs.initializeKey(tempKey)
  }

  /** `MixHash(data)`: `h = HASH(h || data)`. */
  mixHash (data: Uint8Array): void {
    this.#h = sha256(this.#h, data)
  }

  /** `EncryptAndHash(plaintext)`: encrypts with `h` as associated data, then mixes the ciphertext. */
  encryptAndHash (plaintext: Uint8Array): Buffer {
    const ciphertext = this.#cs.encryptWithAd(this.#h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  /** `DecryptAndHash(ciphertext)`; fails with ERR_DECRYPTION_FAILED when not authentic. */
  decryptAndHash (ciphertext: Uint8Array): Buffer {
    const plaintext = this.#cs.decryptWithAd(this.#h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /**
   * `Split()`: two CipherStates, the first for initiator-to-responder messages, the
   * second for responder-to-initiator (§5.2).
   */
  split (): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.#ck, EMPTY)
    return [new CipherState(k1), new CipherState(k2)]
  }
}
