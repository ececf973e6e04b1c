/**
 * The encrypted floor of the streams measure: 1-byte echoes over one TCP connection
 * where every message is a Noise transport message in shape (`specs/noise.md`, "Wire
 * Format": 2-byte big-endian length || ChaCha20-Poly1305 ciphertext || 16-byte tag),
 * sealed by the sender and opened by the receiver with node:crypto, one cipher object
 * per message as Noise's per-message nonce requires. No muxer, no negotiation, no
 * stream objects: the least work any libp2p stream echo over Noise does in Node, per
 * side one seal, one open, one write and one read.
 *
 * The key is fixed and nonces count from 0 per direction: this measures cost, it
 * protects nothing.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'

const KEY = Buffer.alloc(32, 9)
const TAG = 16
const OPTS = { authTagLength: TAG } as const

/** Noise's nonce encoding for ChaCha20-Poly1305: 4 zero bytes || 64-bit little-endian counter. */
function nonce (n: number): Buffer {
  const iv = Buffer.alloc(12)
  iv.writeUInt32LE(n, 4)
  return iv
}

/** One whole message, length prefix included, in one buffer: one write per message. */
function seal (n: number, plaintext: Buffer): Buffer {
  const c = createCipheriv('chacha20-poly1305', KEY, nonce(n), OPTS)
  const body = c.update(plaintext)
  c.final()
  const out = Buffer.allocUnsafe(2 + body.length + TAG)
  out.writeUInt16BE(body.length + TAG)
  body.copy(out, 2)
  c.getAuthTag().copy(out, 2 + body.length)
  return out
}

function open (n: number, frame: Buffer): Buffer {
  const d = createDecipheriv('chacha20-poly1305', KEY, nonce(n), OPTS)
  d.setAuthTag(frame.subarray(frame.length - TAG))
  const plain = d.update(frame.subarray(0, frame.length - TAG))
  d.final()
  return plain
}

/** Calls `onFrame` with each whole frame body (ciphertext || tag) arriving on `socket`. */
function frames (socket: Socket, onFrame: (body: Buffer) => void): void {
  let pending: Buffer | undefined
  socket.on('data', (chunk: Buffer) => {
    let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk])
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const end = 2 + buf.readUInt16BE(0)
      onFrame(buf.subarray(2, end))
      buf = buf.subarray(end)
    }
    pending = buf.length > 0 ? buf : undefined
  })
}

/** The echo side: opens each message and sends its plaintext back sealed. */
export function sealedEchoServer (): Server {
  return createServer((socket) => {
    socket.setNoDelay(true)
    socket.on('error', () => {})
    let rx = 0
    let tx = 0
    frames(socket, (body) => { socket.write(seal(tx++, open(rx++, body))) })
  })
}

/** `total` sealed 1-byte echoes, one after the other; seconds and per-echo latencies (ms). */
export async function sealedEchoLoop (host: string, port: number, total: number): Promise<{ seconds: number, latencies: number[] }> {
  const socket = connect({ host, port, noDelay: true })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  try {
    const one = Buffer.from([1])
    let rx = 0
    let tx = 0
    let answered: ((err?: Error) => void) | undefined
    frames(socket, (body) => {
      const plain = open(rx++, body)
      answered?.(plain.length === 1 && plain[0] === 1 ? undefined : new Error('sealed echo: wrong reply'))
    })
    socket.on('error', (err) => { answered?.(err) })
    const latencies: number[] = []
    const t0 = performance.now()
    for (let i = 0; i < total; i++) {
      const start = performance.now()
      await new Promise<void>((resolve, reject) => {
        answered = (err) => { if (err === undefined) resolve(); else reject(err) }
        socket.write(seal(tx++, one))
      })
      latencies.push(performance.now() - start)
    }
    return { seconds: (performance.now() - t0) / 1000, latencies }
  } finally {
    socket.destroy()
  }
}
