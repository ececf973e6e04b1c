/**
 * SECIO packets (`specs/secio.md`, "Creating the Cipher and HMAC signer" and "Secure
 * Message Framing"): `uint32 length | AES-CTR(body) | HMAC(ciphertext)`, where the
 * length counts the ciphertext and the MAC. Each direction has one CTR stream that
 * runs on across packets, and one HMAC key.
 *
 * The MAC covers only the ciphertext, with no sequence number: SECIO itself does not
 * detect a packet replayed within a session (it passes the MAC and decrypts to garbage
 * under the advanced keystream). That is the protocol, and one of the reasons it is
 * deprecated; the muxer above fails on the garbage.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, type Cipher, type Decipher } from 'node:crypto'
import { codes, Lp2pError } from '../../errors.js'
import { SECIO_CIPHERS, SECIO_HASHES, type SecioCipher, type SecioHash } from './algorithms.js'
import { SECIO_LENGTH_PREFIX_BYTES } from './frame-decoder.js'
import type { SecioKeys } from './keys.js'

/**
 * Most plaintext bytes we put in one packet: 64 KiB. Large enough that the per-packet
 * costs (an HMAC key setup, 4 + 32 bytes) vanish, small enough that a receiver holds
 * little before it can check a MAC; every implementation accepts up to the spec's 8 MiB.
 */
export const SECIO_MAX_PACKET_PLAINTEXT = 64 * 1024

/** Packets up to this size leave as one buffer (copied) rather than three: one write, one syscall. */
const SMALL_PACKET = 1024

/** Encrypts and authenticates outbound packets for one direction. */
export class PacketWriter {
  readonly #cipher: Cipher
  readonly #hash: string
  readonly #macKey: Buffer
  readonly #macBytes: number

  constructor (cipher: SecioCipher, hash: SecioHash, keys: SecioKeys) {
    this.#cipher = createCipheriv(SECIO_CIPHERS[cipher].algorithm, keys.cipherKey, keys.iv)
    this.#hash = SECIO_HASHES[hash].algorithm
    this.#macBytes = SECIO_HASHES[hash].macBytes
    this.#macKey = keys.macKey
  }

  /** Packets for `chunks` (`total` bytes of plaintext, > 0), as buffers to write in order. */
  seal (chunks: readonly Uint8Array[], total: number): Uint8Array[] {
    const out: Uint8Array[] = []
    let index = 0
    let offset = 0
    for (let left = total; left > 0;) {
      const size = Math.min(left, SECIO_MAX_PACKET_PLAINTEXT)
      const prefix = Buffer.allocUnsafe(SECIO_LENGTH_PREFIX_BYTES)
      prefix.writeUInt32BE(size + this.#macBytes, 0)
      const mac = createHmac(this.#hash, this.#macKey)
      const first = out.length
      out.push(prefix)
      for (let need = size; need > 0;) {
        const chunk = chunks[index] as Uint8Array
        const take = Math.min(need, chunk.byteLength - offset)
        const ciphertext = this.#cipher.update(chunk.subarray(offset, offset + take))
        mac.update(ciphertext)
        out.push(ciphertext)
        need -= take
        offset += take
        if (offset === chunk.byteLength) {
          index++
          offset = 0
        }
      }
      out.push(mac.digest())
      if (size <= SMALL_PACKET) out.splice(first, out.length - first, Buffer.concat(out.slice(first)))
      left -= size
    }
    return out
  }
}

/** Authenticates and decrypts inbound packets for one direction. */
export class PacketReader {
  readonly #decipher: Decipher
  readonly #hash: string
  readonly #macKey: Buffer
  /** Bytes of the MAC at the end of every packet; a shorter packet is malformed. */
  readonly macBytes: number

  constructor (cipher: SecioCipher, hash: SecioHash, keys: SecioKeys) {
    this.#decipher = createDecipheriv(SECIO_CIPHERS[cipher].algorithm, keys.cipherKey, keys.iv)
    this.#hash = SECIO_HASHES[hash].algorithm
    this.macBytes = SECIO_HASHES[hash].macBytes
    this.#macKey = keys.macKey
  }

  /**
   * The plaintext of one packet (without its length prefix). Throws
   * ERR_DECRYPTION_FAILED when the MAC does not verify or the packet is too short to
   * hold one; the CTR stream is not advanced then, but the session is over.
   */
  open (packet: Uint8Array): Buffer {
    const bodyLength = packet.byteLength - this.macBytes
    if (bodyLength < 0) {
      throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, `SECIO packet of ${packet.byteLength} bytes is shorter than its ${this.macBytes}-byte MAC`)
    }
    const body = packet.subarray(0, bodyLength)
    const expected = createHmac(this.#hash, this.#macKey).update(body).digest()
    if (!timingSafeEqual(expected, packet.subarray(bodyLength))) {
      throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, 'SECIO packet failed authentication (bad MAC)')
    }
    return this.#decipher.update(body)
  }
}
