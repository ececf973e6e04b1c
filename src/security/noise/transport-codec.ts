/**
 * Sealing transport-phase messages (`specs/noise.md`, "Wire Format" and "Encryption and
 * I/O"): after the handshake every message is `len (2 bytes, big-endian) || ciphertext
 * || tag`, sealed with the sender's CipherState and empty associated data (Noise §5.1,
 * `EncryptWithAd(zerolen, plaintext)`), at most 65535 bytes including the 16-byte tag.
 *
 * Pure code, written for throughput. `sealFrames` turns any number of plaintext
 * buffers into as few messages as fit (65519 plaintext bytes each), returned as a short
 * list of buffers for ONE `writev` below:
 * - Small pieces (under {@link SMALL_PIECE}) and every prefix and tag go into one
 *   scratch buffer, and runs of small plaintext are encrypted in place there with a
 *   single cipher call (one call into OpenSSL costs more than copying a few hundred
 *   bytes). A writev of many small buffers (a yamux header and a small payload, a burst
 *   of window updates) becomes one message in one buffer.
 * - A large piece is encrypted as it is (a view, no copy) and its ciphertext, the
 *   buffer `cipher.update` returns, is passed on as its own part instead of being
 *   copied next to its prefix and tag: that copy plus a fresh 64 KiB allocation cost
 *   about 15% of the encryption itself (`bench/noise-transport.ts`). A 64 KiB yamux
 *   frame therefore leaves as [prefix + encrypted 12-byte header, ciphertext, tag].
 */
import { codes, Lp2pError } from '../../errors.js'
import type { CipherState } from './cipher-state.js'
import { LENGTH_PREFIX_LENGTH, MAX_PLAINTEXT_LENGTH, TAG_LENGTH } from './constants.js'
import { totalLength } from '../codec-channel.js'

/** Bytes each message adds around its plaintext: the length prefix and the tag. */
export const FRAME_OVERHEAD = LENGTH_PREFIX_LENGTH + TAG_LENGTH

/**
 * Pieces shorter than this are copied into the scratch buffer and encrypted together;
 * longer ones are encrypted in place. 1 KiB: copying it costs well under a microsecond,
 * less than the fixed cost of one `cipher.update` call plus one more buffer for the
 * socket's writev (measured in `bench/noise-transport.ts`).
 */
export const SMALL_PIECE = 1024

export { totalLength }

/** Bytes `sealFrames` produces (over all parts) for `plaintextLength` bytes. */
export function sealedLength (plaintextLength: number): number {
  return plaintextLength + Math.ceil(plaintextLength / MAX_PLAINTEXT_LENGTH) * FRAME_OVERHEAD
}

/**
 * Encrypts `chunks`, taken as one concatenated plaintext of `total` bytes (> 0, equal
 * to `totalLength(chunks)`), into framed transport messages. Returns the wire bytes as
 * buffers to send in order; their total length is `sealedLength(total)`. Throws
 * (ERR_CONNECTION_CLOSED) only when the nonce space is exhausted.
 */
export function sealFrames (cs: CipherState, chunks: readonly Uint8Array[], total: number): Buffer[] {
  const count = Math.ceil(total / MAX_PLAINTEXT_LENGTH)
  // Scratch: every prefix and tag, and exactly the bytes that take the small path. Sized
  // exactly (not by an upper bound) so that it usually fits Node's pooled allocations
  // (under 4 KiB): a 256 KiB flush of four 64 KiB yamux frames needs ~300 bytes, where
  // the bound asked for 10 KiB, a separate ArrayBuffer on every flush.
  const scratch = Buffer.allocUnsafe(smallPathBytes(chunks, total) + count * FRAME_OVERHEAD)
  const parts: Buffer[] = []
  let sp = 0
  let partStart = 0
  let ci = 0
  let co = 0
  let remaining = total
  while (remaining > 0) {
    const length = remaining < MAX_PLAINTEXT_LENGTH ? remaining : MAX_PLAINTEXT_LENGTH
    const messageLength = length + TAG_LENGTH
    scratch[sp] = messageLength >>> 8
    scratch[sp + 1] = messageLength & 0xff
    sp += LENGTH_PREFIX_LENGTH
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
        if (runStart < 0) runStart = sp
        scratch.set(piece, sp)
        sp += take
      } else {
        if (runStart >= 0) {
          scratch.set(cipher.update(scratch.subarray(runStart, sp)), runStart)
          runStart = -1
        }
        if (sp > partStart) {
          parts.push(scratch.subarray(partStart, sp))
          partStart = sp
        }
        parts.push(cipher.update(piece))
      }
      co += take
      need -= take
    }
    if (runStart >= 0) scratch.set(cipher.update(scratch.subarray(runStart, sp)), runStart)
    cipher.final()
    scratch.set(cipher.getAuthTag(), sp)
    sp += TAG_LENGTH
    remaining -= length
  }
  if (sp > partStart) parts.push(scratch.subarray(partStart, sp))
  return parts
}

/**
 * The bytes of `chunks` (`total` of them) that {@link sealFrames} copies into its
 * scratch buffer: the same walk, cutting at message boundaries, without the crypto.
 */
function smallPathBytes (chunks: readonly Uint8Array[], total: number): number {
  let small = 0
  let ci = 0
  let co = 0
  let remaining = total
  while (remaining > 0) {
    const length = remaining < MAX_PLAINTEXT_LENGTH ? remaining : MAX_PLAINTEXT_LENGTH
    let need = length
    while (need > 0) {
      const available = (chunks[ci] as Uint8Array).byteLength - co
      if (available === 0) {
        ci++
        co = 0
        continue
      }
      const take = available < need ? available : need
      if (take < SMALL_PIECE) small += take
      co += take
      need -= take
    }
    remaining -= length
  }
  return small
}

/**
 * Decrypts one complete transport message (ciphertext and tag, without the length
 * prefix). Fails with ERR_DECRYPTION_FAILED when it does not authenticate; the returned
 * plaintext is a new buffer the caller owns. (The channel uses the streaming
 * `TransportDecoder`; this is the one-shot form.)
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
