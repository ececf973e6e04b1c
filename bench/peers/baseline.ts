/**
 * Baseline peer (started by `bench/main.ts`, one process receiving, one sending): what
 * one TCP connection between two Node processes carries with no libp2p at all.
 *
 * - `raw`: 64 KiB writes of one reused buffer; the receiver counts bytes.
 * - `ceiling`: the encrypted ceiling of the issue: the byte stream cut into frames of
 *   `len (2 bytes) || ciphertext || tag`, at most 65535 bytes, each sealed and opened
 *   with ChaCha20-Poly1305 from node:crypto (one cipher object per frame, as Noise
 *   needs a new nonce per message), no muxer, no negotiation. The sender writes the
 *   three parts of a frame corked (one writev, no concatenation); the receiver
 *   decrypts as bytes arrive, a frame split across reads included, without copying
 *   ciphertext. That is the most any Noise stream in Node can carry here.
 *
 * - `ceiling-simple`: the same frames written the simplest way (`Buffer.concat` of prefix,
 *   ciphertext and tag per frame; the reader joins chunks and opens whole frames:
 *   `chacha-frames.ts`), as bench/noise-tcp.ts does: the figure the issue quotes
 *   (5.4-6.0 Gbit/s).
 *
 * Timed by the sender like a perf upload: from `connect` until the receiver closes its
 * side after reading (and, for `ceiling`, authenticating) every byte.
 */
import type { DecipherChaCha20Poly1305 } from 'node:crypto'
import { connect, createServer, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { MAX_PLAINTEXT, newCipher, newDecipher, readMessages, seal, TAG } from './chacha-frames.js'
import { serve } from './rpc.js'

type Mode = 'raw' | 'ceiling' | 'ceiling-simple'

const BLOCK = Buffer.alloc(64 * 1024)

/** Receives one connection; resolves with the bytes of plaintext it took in. */
function receive (socket: Socket, mode: Mode): Promise<number> {
  return new Promise((resolve, reject) => {
    let plain = 0
    socket.on('error', reject)
    if (mode === 'raw') {
      socket.on('data', (c: Buffer) => { plain += c.length })
    } else if (mode === 'ceiling-simple') {
      readMessages(socket, (p) => { plain += p.length })
    } else {
      // Streaming frame reader: length (may straddle reads), body, tag (may straddle).
      let n = 0
      let lenBuf: Buffer = Buffer.alloc(0)
      let bodyLeft = 0
      let tag: Buffer = Buffer.alloc(0)
      let decipher: DecipherChaCha20Poly1305 | undefined
      socket.on('data', (c: Buffer) => {
        let off = 0
        while (off < c.length) {
          if (decipher === undefined) {
            let len: number
            if (lenBuf.length === 0 && c.length - off >= 2) {
              len = c.readUInt16BE(off)
              off += 2
            } else {
              const need = 2 - lenBuf.length
              lenBuf = Buffer.concat([lenBuf, c.subarray(off, off + need)])
              off += Math.min(need, c.length - off)
              if (lenBuf.length < 2) return
              len = lenBuf.readUInt16BE(0)
              lenBuf = Buffer.alloc(0)
            }
            bodyLeft = len - TAG
            decipher = newDecipher(n++)
            tag = Buffer.alloc(0)
          }
          if (bodyLeft > 0) {
            const take = Math.min(bodyLeft, c.length - off)
            plain += decipher.update(c.subarray(off, off + take)).length
            bodyLeft -= take
            off += take
            continue
          }
          const take = Math.min(TAG - tag.length, c.length - off)
          tag = tag.length === 0 && take === TAG ? c.subarray(off, off + TAG) : Buffer.concat([tag, c.subarray(off, off + take)])
          off += take
          if (tag.length === TAG) {
            decipher.setAuthTag(tag)
            decipher.final()
            decipher = undefined
          }
        }
      })
    }
    socket.on('end', () => {
      socket.end()
      resolve(plain)
    })
  })
}

serve({
  async receive (a: { mode: Mode, bytes: number }) {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    server.once('connection', (socket) => {
      socket.setNoDelay(true)
      server.close()
      receive(socket, a.mode).then((got) => {
        if (got !== a.bytes) process.stderr.write(`baseline ${a.mode}: received ${got} of ${a.bytes}\n`)
      }, (err: Error) => { process.stderr.write(`baseline ${a.mode}: ${err.message}\n`) })
    })
    return { port: (server.address() as { port: number }).port }
  },

  async send (a: { mode: Mode, port: number, bytes: number }) {
    return await new Promise((resolve, reject) => {
      let t0 = 0
      const socket = connect({ host: '127.0.0.1', port: a.port, noDelay: true }, () => {
        t0 = performance.now()
        pump()
      })
      socket.on('error', reject)
      socket.resume()
      socket.on('end', () => {
        resolve({ seconds: (performance.now() - t0) / 1000 })
        socket.end()
      })
      let left = a.bytes
      let n = 0
      const pump = (): void => {
        while (left > 0) {
          let ok: boolean
          if (a.mode === 'raw') {
            const len = Math.min(left, BLOCK.length)
            left -= len
            ok = socket.write(len === BLOCK.length ? BLOCK : BLOCK.subarray(0, len))
          } else if (a.mode === 'ceiling-simple') {
            const len = Math.min(left, MAX_PLAINTEXT)
            left -= len
            ok = socket.write(seal(n++, BLOCK.subarray(0, len)))
          } else {
            const len = Math.min(left, MAX_PLAINTEXT)
            left -= len
            const cipher = newCipher(n++)
            const ct = cipher.update(BLOCK.subarray(0, len))
            cipher.final()
            const prefix = Buffer.allocUnsafe(2)
            prefix.writeUInt16BE(len + TAG, 0)
            socket.cork()
            socket.write(prefix)
            socket.write(ct)
            ok = socket.write(cipher.getAuthTag())
            socket.uncork()
          }
          if (!ok) {
            socket.once('drain', pump)
            return
          }
        }
        socket.end()
      }
    })
  }
})
