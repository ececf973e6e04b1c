/**
 * Streaming opener of transport-phase messages (`specs/noise.md`, "Wire Format"):
 * `len (2 bytes, big-endian) || ciphertext || 16-byte tag`, each sealed with the next
 * nonce of the receiving CipherState.
 *
 * Ciphertext is fed to the decipher as it arrives, piece by piece, so a message split
 * across socket reads (over TCP nearly every 64 KiB message is: reads are 64 KiB, a
 * message with its prefix is 65537 bytes) is never reassembled into a new buffer. The
 * plaintext pieces are held until the tag has been checked (`final()`), and only then
 * released: nothing unauthenticated ever leaves this decoder.
 *
 * Pure and incremental (GUIDE rule 1). Memory held between calls: the plaintext of at
 * most one message in progress (< 64 KiB), a tag split across chunks (16 bytes) and
 * one prefix byte; nothing between messages.
 */
import type { DecipherChaCha20Poly1305 } from 'node:crypto'
import { codes, Lp2pError } from '../../errors.js'
import type { CipherState } from './cipher-state.js'
import { TAG_LENGTH } from './constants.js'

const PREFIX = 0
const BODY = 1
const TAG = 2

export class TransportDecoder {
  readonly #cs: CipherState
  #state: typeof PREFIX | typeof BODY | typeof TAG = PREFIX
  /** First prefix byte, when the prefix was split between two chunks (else -1). */
  #prefixHigh = -1
  /** Ciphertext bytes of the current message still to come. */
  #bodyRemaining = 0
  #decipher: DecipherChaCha20Poly1305 | undefined
  /** Plaintext of the current message, held until its tag verifies. */
  #pending: Buffer[] = []
  /**
   * A tag split across chunks is gathered here; allocated on first need and dropped
   * with the message, so an idle connection holds no buffer.
   */
  #tag: Uint8Array | undefined
  #tagFilled = 0
  #failed = false

  constructor (receive: CipherState) {
    this.#cs = receive
  }

  /** True when a message has been started but not completed. */
  get partial (): boolean {
    return this.#state !== PREFIX || this.#prefixHigh >= 0
  }

  /**
   * Consumes `chunk` and appends to `out` the plaintext of every message completed by
   * it, in order (a message may contribute several buffers; empty messages none).
   * Throws ERR_DECRYPTION_FAILED for a message that fails authentication or is too
   * short to hold a tag; the decoder is unusable afterwards. Plaintext of messages
   * completed before the failing one, in this chunk, is already in `out`.
   */
  decode (chunk: Uint8Array, out: Buffer[]): void {
    if (this.#failed) throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, 'the Noise transport decoder already failed')
    const end = chunk.byteLength
    let pos = 0
    while (pos < end) {
      if (this.#state === PREFIX) {
        let length: number
        if (this.#prefixHigh >= 0) {
          length = (this.#prefixHigh << 8) | (chunk[pos] as number)
          this.#prefixHigh = -1
          pos += 1
        } else if (end - pos >= 2) {
          length = ((chunk[pos] as number) << 8) | (chunk[pos + 1] as number)
          pos += 2
        } else {
          this.#prefixHigh = chunk[pos] as number
          return
        }
        this.#start(length)
      } else if (this.#state === BODY) {
        const take = Math.min(this.#bodyRemaining, end - pos)
        const plaintext = (this.#decipher as DecipherChaCha20Poly1305).update(chunk.subarray(pos, pos + take))
        if (plaintext.byteLength > 0) this.#pending.push(plaintext)
        pos += take
        this.#bodyRemaining -= take
        if (this.#bodyRemaining === 0) this.#state = TAG
      } else {
        let tag: Uint8Array
        if (this.#tagFilled === 0 && end - pos >= TAG_LENGTH) {
          tag = chunk.subarray(pos, pos + TAG_LENGTH)
          pos += TAG_LENGTH
        } else {
          const take = Math.min(TAG_LENGTH - this.#tagFilled, end - pos)
          const gathered = this.#tag ??= new Uint8Array(TAG_LENGTH)
          gathered.set(chunk.subarray(pos, pos + take), this.#tagFilled)
          this.#tagFilled += take
          pos += take
          if (this.#tagFilled < TAG_LENGTH) return
          tag = gathered
          this.#tag = undefined
        }
        this.#finish(tag, out)
      }
    }
  }

  #start (length: number): void {
    if (length < TAG_LENGTH) {
      this.#failed = true
      throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, `Noise transport message of ${length} bytes cannot hold its ${TAG_LENGTH}-byte tag`)
    }
    this.#decipher = this.#cs.nextDecipher()
    this.#bodyRemaining = length - TAG_LENGTH
    this.#tagFilled = 0
    this.#state = this.#bodyRemaining > 0 ? BODY : TAG
  }

  #finish (tag: Uint8Array, out: Buffer[]): void {
    const decipher = this.#decipher as DecipherChaCha20Poly1305
    this.#decipher = undefined
    try {
      decipher.setAuthTag(tag)
      decipher.final()
    } catch (err) {
      this.#failed = true
      this.#pending = []
      throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, 'Noise transport message failed authentication', { cause: err })
    }
    const pending = this.#pending
    if (pending.length === 1) out.push(pending[0] as Buffer)
    else for (const p of pending) out.push(p)
    if (pending.length > 0) this.#pending = []
    this.#tagFilled = 0
    this.#state = PREFIX
  }
}
