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

/** Size of the shared aligned scratch (a whole number of blocks): one TCP read's worth. */
const SCRATCH_BYTES = 64 * 1024
/** Shared by every stream: used synchronously, never across an await. */
const scratch = new Uint8Array(SCRATCH_BYTES)

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
      this.#blocks(input.subarray(i, i + whole), output.subarray(i, i + whole))
      i += whole
    }
    if (i < n) {
      xsalsa20(this.#key, this.#nonce, ZERO_BLOCK, spare, this.#counter++)
      this.#spareAt = 0
      while (i < n) output[i] = (input[i++] as number) ^ (spare[this.#spareAt++] as number)
    }
  }

  /**
   * Whole blocks. @noble/ciphers XORs 32-bit words only when input and output start on
   * a 4-byte boundary, and byte by byte otherwise (measured here: 265 vs 187 MB/s, and
   * far worse inside a connection, where a chunk that ends mid-block leaves every next
   * chunk's blocks unaligned); unaligned blocks go through an aligned scratch buffer,
   * two memcpys, in slices of {@link SCRATCH_BYTES}.
   */
  #blocks (input: Uint8Array, output: Uint8Array): void {
    if ((input.byteOffset & 3) === 0 && (output.byteOffset & 3) === 0) {
      xsalsa20(this.#key, this.#nonce, input, output, this.#counter)
      this.#counter += input.byteLength / BLOCK
      return
    }
    for (let at = 0; at < input.byteLength; at += SCRATCH_BYTES) {
      const len = Math.min(SCRATCH_BYTES, input.byteLength - at)
      const work = scratch.subarray(0, len)
      work.set(input.subarray(at, at + len))
      xsalsa20(this.#key, this.#nonce, work, work, this.#counter)
      this.#counter += len / BLOCK
      output.set(work, at)
    }
  }
}
