/**
 * Transport-phase messages (`specs/noise.md`, "Wire Format" and "Encryption and I/O"):
 * after the handshake every message is `len (2 bytes, big-endian) || ciphertext || tag`,
 * sealed with the sender's CipherState and an empty associated data (Noise §5.1,
 * `EncryptWithAd(zerolen, plaintext)`), at most 65535 bytes including the 16-byte tag.
 *
 * Pure code, written for throughput:
 * - `sealFrames` turns any number of plaintext buffers into as few messages as fit
 *   (65519 plaintext bytes each) and writes all prefixes, ciphertexts and tags into ONE
 *   output buffer, so the layer below sees one write. A yamux header and its payload,
 *   passed as two buffers, become one Noise message.
 * - Large plaintext pieces go to the cipher as they are (views, no copy); runs of
 *   small pieces are first gathered in place in the output buffer and encrypted with one
 *   cipher call, because each call into OpenSSL costs more than copying a few hundred
 *   bytes.
 * - `openFrame` decrypts a message given as a view of the received bytes.
 */
import { codes, Lp2pError } from '../../errors.js'
import type { CipherState } from './cipher-state.js'
import { LENGTH_PREFIX_LENGTH, MAX_PLAINTEXT_LENGTH, TAG_LENGTH } from './constants.js'

/** Bytes each message adds around its plaintext: the length prefix and the tag. */
export const FRAME_OVERHEAD = LENGTH_PREFIX_LENGTH + TAG_LENGTH

/**
 * Pieces shorter than this are copied together before encryption instead of being
 * encrypted one by one. 1 KiB: copying it costs well under a microsecond, about the
 * fixed cost of one `cipher.update` call; measured in `bench/noise-transport.ts`.
 */
const SMALL_PIECE = 1024

/** Total byte length of `chunks`. */
export function totalLength (chunks: readonly Uint8Array[]): number {
  let total = 0
  for (const c of chunks) total += c.byteLength
  return total
}

/** Size of the output `sealFrames` produces for `plaintextLength` bytes. */
export function sealedLength (plaintextLength: number): number {
  return plaintextLength + Math.ceil(plaintextLength / MAX_PLAINTEXT_LENGTH) * FRAME_OVERHEAD
}

/**
 * Encrypts `chunks`, taken as one concatenated plaintext of `total` bytes, into framed
 * transport messages in one new buffer. `total` must be `totalLength(chunks)` and > 0.
 * Throws (ERR_CONNECTION_CLOSED) only when the nonce space is exhausted.
 */
export function sealFrames (cs: CipherState, chunks: readonly Uint8Array[], total: number): Buffer {
  const out = Buffer.allocUnsafe(sealedLength(total))
  let pos = 0
  let ci = 0
  let co = 0
  let remaining = total
  while (remaining > 0) {
    const length = remaining < MAX_PLAINTEXT_LENGTH ? remaining : MAX_PLAINTEXT_LENGTH
    const messageLength = length + TAG_LENGTH
    out[pos] = messageLength >>> 8
    out[pos + 1] = messageLength & 0xff
    pos += LENGTH_PREFIX_LENGTH
    const cipher = cs.nextCipher()
    let need = length
    let runStart = -1
    while (need > 0) {
      const chunk = chunks[ci] as Uint8Array
      const available = chunk.byteLength - co
      if (available === 0) {
        ci++
        co = 0
        continue
      }
      const take = available < need ? available : need
      const piece = co === 0 && take === chunk.byteLength ? chunk : chunk.subarray(co, co + take)
      if (take < SMALL_PIECE) {
        if (runStart < 0) runStart = pos
        out.set(piece, pos)
        pos += take
      } else {
        if (runStart >= 0) {
          encryptInPlace(cipher, out, runStart, pos)
          runStart = -1
        }
        const encrypted = cipher.update(piece)
        out.set(encrypted, pos)
        pos += encrypted.byteLength
      }
      co += take
      need -= take
    }
    if (runStart >= 0) encryptInPlace(cipher, out, runStart, pos)
    cipher.final()
    out.set(cipher.getAuthTag(), pos)
    pos += TAG_LENGTH
    remaining -= length
  }
  return out
}

/**
 * Decrypts one transport message (ciphertext and tag, without the length prefix).
 * Fails with ERR_DECRYPTION_FAILED when it does not authenticate; the returned
 * plaintext is a new buffer the caller owns.
 */
export function openFrame (cs: CipherState, message: Uint8Array): Buffer {
  const bodyLength = message.byteLength - TAG_LENGTH
  if (bodyLength < 0) {
    throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, `a Noise transport message holds at least the ${TAG_LENGTH}-byte tag, got ${message.byteLength} bytes`)
  }
  const decipher = cs.nextDecipher(message.subarray(bodyLength))
  const plaintext = decipher.update(message.subarray(0, bodyLength))
  try {
    decipher.final()
  } catch (err) {
    throw new Lp2pError(codes.ERR_DECRYPTION_FAILED, 'Noise transport message failed authentication', { cause: err })
  }
  return plaintext
}

/** Encrypts `out[start, end)` and writes the ciphertext over it (ChaCha20 keeps lengths). */
function encryptInPlace (cipher: { update: (data: Uint8Array) => Buffer }, out: Buffer, start: number, end: number): void {
  const encrypted = cipher.update(out.subarray(start, end))
  out.set(encrypted, start)
}
