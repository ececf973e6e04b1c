/**
 * Noise transport messages in shape, without Noise (`specs/noise.md`, "Wire Format"):
 * 2-byte big-endian length || ChaCha20-Poly1305 ciphertext || 16-byte tag, sealed and
 * opened with node:crypto, one cipher object per message as Noise's per-message nonce
 * requires. `seal` and `readMessages` are the simplest way to write and read them
 * (`Buffer.concat` of the three parts per message; a reader that joins chunks and
 * opens whole frames): the encrypted ceiling the issue quotes (`baseline.ts`,
 * `ceiling-simple`), the sealed-echo floor (`sealed-echo.ts`) and `bench/noise-tcp.ts`.
 *
 * The key is fixed and nonces count from 0 per direction: this measures cost, it
 * protects nothing.
 */
import { createCipheriv, createDecipheriv, type CipherChaCha20Poly1305, type DecipherChaCha20Poly1305 } from 'node:crypto'
import type { Socket } from 'node:net'

export const TAG = 16
/** Noise's largest message, 65535 bytes, minus the tag. */
export const MAX_PLAINTEXT = 65535 - TAG
const KEY = Buffer.alloc(32, 7)
const OPTS = { authTagLength: TAG } as const

/** Noise's nonce encoding for ChaCha20-Poly1305: 4 zero bytes || 64-bit little-endian counter. */
export function nonce (n: number): Buffer {
  const iv = Buffer.alloc(12)
  iv.writeUInt32LE(n % 0x1_0000_0000, 4)
  iv.writeUInt32LE(Math.floor(n / 0x1_0000_0000), 8)
  return iv
}

/** The cipher of message `n` (nonce `n`) under the fixed key. */
export const newCipher = (n: number): CipherChaCha20Poly1305 => createCipheriv('chacha20-poly1305', KEY, nonce(n), OPTS)
export const newDecipher = (n: number): DecipherChaCha20Poly1305 => createDecipheriv('chacha20-poly1305', KEY, nonce(n), OPTS)

/** Message `n` whole, length prefix included, in one buffer (one write per message). */
export function seal (n: number, plaintext: Buffer): Buffer {
  const c = newCipher(n)
  const ct = c.update(plaintext)
  c.final()
  const prefix = Buffer.allocUnsafe(2)
  prefix.writeUInt16BE(ct.length + TAG, 0)
  return Buffer.concat([prefix, ct, c.getAuthTag()])
}

/** The plaintext of message `n` from its body (ciphertext || tag); throws if it does not authenticate. */
export function open (n: number, body: Buffer): Buffer {
  const d = newDecipher(n)
  d.setAuthTag(body.subarray(body.length - TAG))
  const plain = d.update(body.subarray(0, body.length - TAG))
  d.final()
  return plain
}

/**
 * Opens each whole message arriving on `socket`, nonces from 0, and passes its
 * plaintext to `onMessage`. A message that does not open (or a throw from
 * `onMessage`) destroys the socket with that error: it reaches the socket's 'error'
 * listeners, not the process.
 */
export function readMessages (socket: Socket, onMessage: (plaintext: Buffer) => void): void {
  let n = 0
  let pending: Buffer = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    let off = 0
    try {
      while (pending.length - off >= 2) {
        const len = pending.readUInt16BE(off)
        if (pending.length - off - 2 < len) break
        onMessage(open(n++, pending.subarray(off + 2, off + 2 + len)))
        off += 2 + len
      }
    } catch (err) {
      socket.destroy(err as Error)
      return
    }
    pending = pending.subarray(off)
  })
}
