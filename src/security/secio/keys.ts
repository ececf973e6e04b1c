/**
 * SECIO key material (`specs/secio.md`, "Key Exchange", "Shared Secret Generation",
 * "Key Stretching"), on node:crypto, synchronous.
 */
import { createECDH, createHmac, type ECDH } from 'node:crypto'
import { codes, Lp2pError } from '../../errors.js'
import {
  SECIO_CIPHERS, SECIO_CURVES, SECIO_HASHES, SECIO_IV_BYTES, SECIO_MAC_KEY_BYTES,
  type SecioCipher, type SecioCurve, type SecioHash
} from './algorithms.js'

/** One direction's keys: the IV and key of AES-CTR and the HMAC key. */
export interface SecioKeys {
  iv: Buffer
  cipherKey: Buffer
  macKey: Buffer
}

/** An ephemeral ECDH key pair for one handshake. */
export class EphemeralKey {
  readonly curve: SecioCurve
  /** Uncompressed point (0x04 || X || Y), "Key marshaling" (ANSI X9.62 4.3.6). */
  readonly publicKey: Buffer
  readonly #ecdh: ECDH

  constructor (curve: SecioCurve) {
    this.curve = curve
    this.#ecdh = createECDH(SECIO_CURVES[curve].curve)
    this.publicKey = this.#ecdh.generateKeys()
  }

  /**
   * The shared secret with the remote's ephemeral point: the X coordinate of the
   * product, as a big-endian integer WITHOUT leading zero bytes. Interop: the spec
   * only says "the result of the multiplication"; go-libp2p (`big.Int.Bytes()` in
   * `GenerateEKeyPair`) and py-libp2p (`int_bytelen`) drop leading zeros, so about one
   * secret in 256 is shorter than the field; we do the same, or that one handshake in
   * 256 would fail against them.
   *
   * Throws ERR_INVALID_KEY for a point that is not uncompressed, not of this curve's
   * size, or not on the curve ("the connection must be closed").
   */
  sharedSecret (remotePoint: Uint8Array): Buffer {
    const expected = SECIO_CURVES[this.curve].pointBytes
    if (remotePoint.byteLength !== expected || remotePoint[0] !== 0x04) {
      throw new Lp2pError(codes.ERR_INVALID_KEY, `the remote ephemeral key is not an uncompressed ${this.curve} point (${remotePoint.byteLength} bytes)`)
    }
    let secret: Buffer
    try {
      secret = this.#ecdh.computeSecret(remotePoint)
    } catch (err) {
      throw new Lp2pError(codes.ERR_INVALID_KEY, `the remote ephemeral key is not a point of ${this.curve}`, { cause: err })
    }
    let zeros = 0
    while (zeros < secret.byteLength - 1 && secret[zeros] === 0) zeros++
    return secret.subarray(zeros)
  }
}

/**
 * Key stretching ("Key Stretching"): HMAC(secret) over the seed "key expansion",
 * iterated, gives `2 * (iv + cipherKey + macKey)` bytes, split into k1 and k2:
 * `| k1.IV | k1.CipherKey | k1.MacKey | k2.IV | k2.CipherKey | k2.MacKey |`.
 */
export function stretchKeys (cipher: SecioCipher, hash: SecioHash, secret: Uint8Array): [SecioKeys, SecioKeys] {
  const keyBytes = SECIO_CIPHERS[cipher].keyBytes
  const half = SECIO_IV_BYTES + keyBytes + SECIO_MAC_KEY_BYTES
  const output = Buffer.alloc(2 * half)
  const algorithm = SECIO_HASHES[hash].algorithm
  const seed = Buffer.from('key expansion', 'utf8')
  let a = createHmac(algorithm, secret).update(seed).digest()
  for (let filled = 0; filled < output.byteLength;) {
    const b = createHmac(algorithm, secret).update(a).update(seed).digest()
    filled += b.copy(output, filled, 0, Math.min(b.byteLength, output.byteLength - filled))
    a = createHmac(algorithm, secret).update(a).digest()
  }
  const split = (at: number): SecioKeys => ({
    iv: output.subarray(at, at + SECIO_IV_BYTES),
    cipherKey: output.subarray(at + SECIO_IV_BYTES, at + SECIO_IV_BYTES + keyBytes),
    macKey: output.subarray(at + SECIO_IV_BYTES + keyBytes, at + half)
  })
  return [split(0), split(half)]
}
