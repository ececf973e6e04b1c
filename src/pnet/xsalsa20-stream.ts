/**
 * One direction of a private network's cipher (`specs/pnet.md`, "Algorithm"):
 * XSalsa20 (https://cr.yp.to/snuffle/xsalsa-20081128.pdf) keyed by the PSK with the
 * sender's 24-byte nonce, as a keystream XORed over the bytes in order, across chunks
 * of any size.
 *
 * node:crypto has no Salsa20; the block function is `@noble/ciphers` (audited, no
 * dependencies). Its `xsalsa20(key, nonce, data, out, counter)` starts at a 64-byte
 * block boundary, so this keeps the position: whole blocks go to it directly, and a
 * chunk ending inside a block leaves that block's unused keystream for the next chunk.
 */
import { xsalsa20 } from '@noble/ciphers/salsa.js'

/** Salsa20 block size, bytes. */
const BLOCK = 64
/** XSalsa20 nonce size: 192 bits. */
export const XSALSA20_NONCE_BYTES = 24

const ZERO_BLOCK = new Uint8Array(BLOCK)

export class XSalsa20Stream {
  readonly #key: Uint8Array
  readonly #nonce: Uint8Array
  /** Counter of the next whole block to generate. */
  #counter = 0
  /** Keystream of the last block, of which the bytes from `#spareAt` are unused. */
  readonly #spare = new Uint8Array(BLOCK)
  #spareAt = BLOCK

  constructor (key: Uint8Array, nonce: Uint8Array) {
    if (key.byteLength !== 32) throw new RangeError('an XSalsa20 key is 32 bytes')
    if (nonce.byteLength !== XSALSA20_NONCE_BYTES) throw new RangeError(`an XSalsa20 nonce is ${XSALSA20_NONCE_BYTES} bytes`)
    this.#key = Uint8Array.from(key)
    this.#nonce = Uint8Array.from(nonce)
  }

  /** XORs the next `input.byteLength` keystream bytes over `input` into `output` (may be `input`). */
  xor (input: Uint8Array, output: Uint8Array): void {
    const n = input.byteLength
    let i = 0
    const spare = this.#spare
    while (i < n && this.#spareAt < BLOCK) output[i] = (input[i++] as number) ^ (spare[this.#spareAt++] as number)
    const whole = (n - i) - ((n - i) % BLOCK)
    if (whole > 0) {
      xsalsa20(this.#key, this.#nonce, input.subarray(i, i + whole), output.subarray(i, i + whole), this.#counter)
      this.#counter += whole / BLOCK
      i += whole
    }
    if (i < n) {
      xsalsa20(this.#key, this.#nonce, ZERO_BLOCK, spare, this.#counter++)
      this.#spareAt = 0
      while (i < n) output[i] = (input[i++] as number) ^ (spare[this.#spareAt++] as number)
    }
  }
}
