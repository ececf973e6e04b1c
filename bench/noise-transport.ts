/**
 * Micro-benchmark of the Noise transport phase (`src/security/noise/transport-codec.ts`):
 * MB/s of plaintext for sealing and opening 64 KiB writes and 100-byte writes, next to
 * the "bare" cost of node:crypto ChaCha20-Poly1305 on the same sizes (one cipher object
 * per message, output discarded: the floor any Noise implementation on Node pays).
 *
 * Also: a yamux-shaped writev (12-byte header + payload as two buffers), which must cost
 * the same as one buffer.
 *
 * Run: node --import tsx bench/noise-transport.ts [--runs 9] [--mb 32]
 * Reports medians of `runs` runs of about `mb` MB each, lp2p and bare alternating, and
 * the median per-run ratio (GUIDE rule 11).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { CipherState } from '../src/security/noise/cipher-state.js'
import { sealFrames } from '../src/security/noise/transport-codec.js'
import { TransportDecoder } from '../src/security/noise/transport-decoder.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const RUNS = arg('runs', 9)
const MB = arg('mb', 32)

const KEY = randomBytes(32)
const NONCE = Buffer.alloc(12)
const OPTS = { authTagLength: 16 } as const

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

interface Result { codec: number, bare: number, ratio: number }

/**
 * Measures `codec` against `bare` (each processing `bytes` plaintext bytes per call),
 * alternating them run by run so that load from other processes hits both alike;
 * returns median MB/s of each and the median of the per-run ratios.
 */
function compare (bytes: [number, number], codec: () => void, bare: () => void): Result {
  const calls = bytes.map((b) => Math.max(1, Math.round((MB * 1e6) / b)))
  const time = (fn: () => void, n: number, b: number): number => {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn()
    return (n * b) / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6
  }
  time(codec, Math.min(calls[0] as number, 200), bytes[0]) // warm-up
  time(bare, Math.min(calls[1] as number, 200), bytes[1])
  const c: number[] = []
  const b: number[] = []
  const ratios: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const x = time(codec, calls[0] as number, bytes[0])
    const y = time(bare, calls[1] as number, bytes[1])
    c.push(x)
    b.push(y)
    ratios.push(x / y)
  }
  return { codec: median(c), bare: median(b), ratio: median(ratios) }
}

function bareSeal (pt: Buffer): () => void {
  return () => {
    const c = createCipheriv('chacha20-poly1305', KEY, NONCE, OPTS)
    c.update(pt)
    c.final()
    c.getAuthTag()
  }
}

function bareOpen (pt: Buffer): () => void {
  const c = createCipheriv('chacha20-poly1305', KEY, NONCE, OPTS)
  const ct = c.update(pt)
  c.final()
  const tag = c.getAuthTag()
  return () => {
    const d = createDecipheriv('chacha20-poly1305', KEY, NONCE, OPTS)
    d.setAuthTag(tag)
    d.update(ct)
    d.final()
  }
}

function codecSeal (chunks: Buffer[]): () => void {
  const cs = new CipherState(KEY)
  const total = chunks.reduce((n, c) => n + c.length, 0)
  return () => { sealFrames(cs, chunks, total) }
}

/**
 * Opens pre-sealed messages with the streaming decoder, as the channel does, fed in
 * `readSize` pieces (64 KiB: a TCP socket's read size, so most large messages span two
 * reads).
 */
function codecOpen (pt: Buffer, perBatch: number, readSize: number): () => void {
  const send = new CipherState(KEY)
  const wire = Buffer.concat(Array.from({ length: perBatch }, () => Buffer.concat(sealFrames(send, [pt], pt.length))))
  const reads: Buffer[] = []
  for (let i = 0; i < wire.length; i += readSize) reads.push(wire.subarray(i, i + readSize))
  const out: Buffer[] = []
  return () => {
    // Nonces advance per message, so each batch opens with a fresh receiver at nonce 0.
    const d = new TransportDecoder(new CipherState(KEY))
    for (const r of reads) {
      d.decode(r, out)
      out.length = 0
    }
  }
}

const big = randomBytes(65519) // the most one Noise message carries (65535 - 16)
const k64 = randomBytes(64 * 1024)
const small = randomBytes(100)
const BATCH = 64

const rows: Array<[string, Result]> = []
const row = (name: string, r: Result): void => { rows.push([name, r]) }

row('seal 64 KiB write', compare([k64.length, k64.length], codecSeal([k64]), () => { bareSeal(k64.subarray(0, 65519))(); bareSeal(k64.subarray(65519))() }))
row('seal 65519 B (one message)', compare([big.length, big.length], codecSeal([big]), bareSeal(big)))
row('seal 12 B + 65507 B writev', compare([big.length, big.length], codecSeal([big.subarray(0, 12), big.subarray(12)]), bareSeal(big)))
row('seal 100 B', compare([small.length, small.length], codecSeal([small]), bareSeal(small)))
row('seal 12 B + 88 B writev', compare([small.length, small.length], codecSeal([small.subarray(0, 12), small.subarray(12)]), bareSeal(small)))
row('open 65519 B, 64 KiB reads', compare([big.length * BATCH, big.length], codecOpen(big, BATCH, 65536), bareOpen(big)))
row('open 100 B, 64 KiB reads', compare([small.length * BATCH, small.length], codecOpen(small, BATCH, 65536), bareOpen(small)))

console.log(`Noise transport codec vs bare node:crypto ChaCha20-Poly1305, median of ${RUNS} alternating runs of ~${MB} MB (node ${process.version})`)
console.log('case'.padEnd(30) + 'lp2p MB/s'.padStart(12) + 'bare MB/s'.padStart(12) + 'ratio'.padStart(8))
for (const [name, r] of rows) {
  console.log(name.padEnd(30) + r.codec.toFixed(0).padStart(12) + r.bare.toFixed(0).padStart(12) + r.ratio.toFixed(2).padStart(8))
}
