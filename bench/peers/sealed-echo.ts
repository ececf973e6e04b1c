/**
 * The encrypted floor of the streams measure: 1-byte echoes over one TCP connection
 * where every message is a Noise transport message in shape (`chacha-frames.ts`:
 * 2-byte big-endian length || ChaCha20-Poly1305 ciphertext || 16-byte tag), sealed by
 * the sender and opened by the receiver with node:crypto, one cipher object per
 * message as Noise's per-message nonce requires. No muxer, no negotiation, no stream
 * objects: the least work any libp2p stream echo over Noise does in Node, per side
 * one seal, one open, one write and one read. Timed by `echoLoop` (`echo-loop.ts`).
 */
import { createServer } from 'node:net'
import { readMessages, seal } from './chacha-frames.js'
import type { EchoCodec } from './echo-loop.js'

const ONE = Buffer.from([1])

/**
 * The server opens each message and sends its plaintext back sealed; the client's
 * answer must open to the 1 byte it sent. A message that does not open destroys the
 * connection (`readMessages`), which fails the waiting echo.
 */
export const sealedEcho: EchoCodec = {
  server: () => createServer((socket) => {
    socket.setNoDelay(true)
    socket.on('error', () => {})
    let tx = 0
    readMessages(socket, (plain) => { socket.write(seal(tx++, plain)) })
  }),
  client (socket, reply) {
    readMessages(socket, (plain) => { reply(plain.length === 1 && plain[0] === 1 ? undefined : new Error('sealed echo: wrong reply')) })
    let tx = 0
    return () => { socket.write(seal(tx++, ONE)) }
  }
}
