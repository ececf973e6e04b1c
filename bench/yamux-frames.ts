/**
 * yamux benchmarks, lp2p next to js-libp2p's @chainsafe/libp2p-yamux 8 (the muxer of
 * js-libp2p 3.3.11) in the same process, alternating run by run; medians of `runs`
 * runs and the median per-run ratio (GUIDE rule 11).
 *
 * Codec (pure): control-frame encoding and decoding (frames/s), and decoding 64 KiB
 * Data frames delivered in 16 KiB pieces, as a Noise channel hands them out (MB/s).
 *
 * Muxer over an in-memory channel pair (which copies every buffer, as a socket would):
 * one stream's one-way throughput, and stream open + 1-byte echo, sequential and 1000
 * at once (streams/s).
 *
 * Run: node --import tsx bench/yamux-frames.ts [--runs 7]
 */
import { FrameDecoder, FrameType, HEADER_LENGTH, writeHeader } from '../src/muxer/yamux/frame.js'
import { OutputQueue } from '../src/muxer/yamux/output.js'
import { yamux } from '../src/muxer/yamux/index.js'
import { MemoryChannel } from '../src/transport/memory-channel.js'
import type { MuxedStream, StreamMuxer } from '../src/interfaces/muxer.js'
import { loadJsYamux, jsReadAll, jsEcho, type JsMuxer, type JsStream } from '../test/muxer/yamux/js-yamux.js'
// js-libp2p-yamux's own codec, for the side-by-side (not in its package exports).
import { encodeHeader as jsEncodeHeader } from '../node_modules/@chainsafe/libp2p-yamux/dist/src/encode.js'
import { Decoder as JsDecoder } from '../node_modules/@chainsafe/libp2p-yamux/dist/src/decode.js'

const args = process.argv.slice(2)
const RUNS = (() => { const i = args.indexOf('--runs'); return i >= 0 ? Number(args[i + 1]) : 7 })()

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const now = (): number => Number(process.hrtime.bigint()) / 1e6

interface Row { name: string, unit: string, ours: number, js: number, ratio: number }
const rows: Row[] = []

/** Runs both `RUNS` times, alternating; each returns a rate (higher is better). */
async function compare (name: string, unit: string, ours: () => number | Promise<number>, js: () => number | Promise<number>): Promise<void> {
  await ours()
  await js() // warm-up
  const a: number[] = []
  const b: number[] = []
  const r: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const x = await ours()
    const y = await js()
    a.push(x)
    b.push(y)
    r.push(x / y)
  }
  const row = { name, unit, ours: median(a), js: median(b), ratio: median(r) }
  rows.push(row)
  console.log(`${name.padEnd(44)} lp2p ${fmt(row.ours)} ${unit}   js ${fmt(row.js)} ${unit}   ratio ${row.ratio.toFixed(2)}x`)
}

const fmt = (n: number): string => n >= 100 ? n.toFixed(0).padStart(9) : n.toFixed(1).padStart(9)

// --- codec -----------------------------------------------------------------------

const CONTROL_FRAMES = 200_000
function encodeOurs (): number {
  const q = new OutputQueue()
  const t0 = now()
  for (let i = 0; i < CONTROL_FRAMES; i++) {
    q.pushHeader(FrameType.WindowUpdate, 0, i + 1, 65536)
    if ((i & 63) === 63) q.take()
  }
  q.take()
  return CONTROL_FRAMES / (now() - t0) * 1000
}
function encodeJs (): number {
  const t0 = now()
  let out: Uint8Array[] = []
  for (let i = 0; i < CONTROL_FRAMES; i++) {
    out.push(jsEncodeHeader({ type: 1, flag: 0, streamID: i + 1, length: 65536 }))
    if ((i & 63) === 63) out = []
  }
  return CONTROL_FRAMES / (now() - t0) * 1000
}

const controlWire = Buffer.alloc(CONTROL_FRAMES * HEADER_LENGTH)
for (let i = 0; i < CONTROL_FRAMES; i++) writeHeader(controlWire, i * HEADER_LENGTH, FrameType.WindowUpdate, 0, 2 * i + 1, 4096)
const controlChunks: Uint8Array[] = []
for (let off = 0; off < controlWire.byteLength; off += 16 * 1024) controlChunks.push(controlWire.subarray(off, off + 16 * 1024))

function decodeControlOurs (): number {
  const t0 = now()
  const d = new FrameDecoder({ maxDataLength: 1 << 24 })
  let n = 0
  for (const c of controlChunks) {
    d.push(c)
    for (let ev = d.next(); ev !== undefined; ev = d.next()) n++
  }
  if (n !== CONTROL_FRAMES) throw new Error(`decoded ${n}`)
  return n / (now() - t0) * 1000
}
function decodeControlJs (): number {
  const t0 = now()
  const d = new JsDecoder()
  let n = 0
  for (const c of controlChunks) for (const f of d.emitFrames(c)) { void f; n++ }
  if (n !== CONTROL_FRAMES) throw new Error(`decoded ${n}`)
  return n / (now() - t0) * 1000
}

const DATA_FRAMES = 1024
const FRAME = 64 * 1024
const dataWire = Buffer.alloc(DATA_FRAMES * (HEADER_LENGTH + FRAME))
for (let i = 0; i < DATA_FRAMES; i++) writeHeader(dataWire, i * (HEADER_LENGTH + FRAME), FrameType.Data, 0, 1, FRAME)
const dataChunks: Uint8Array[] = []
for (let off = 0; off < dataWire.byteLength; off += 16 * 1024) dataChunks.push(dataWire.subarray(off, off + 16 * 1024))

function decodeDataOurs (): number {
  const t0 = now()
  const d = new FrameDecoder({ maxDataLength: 1 << 24 })
  let bytes = 0
  for (const c of dataChunks) {
    d.push(c)
    for (let ev = d.next(); ev !== undefined; ev = d.next()) if (ev instanceof Uint8Array) bytes += ev.byteLength
  }
  if (bytes !== DATA_FRAMES * FRAME) throw new Error(`decoded ${bytes}`)
  return bytes / (now() - t0) / 1e3
}
function decodeDataJs (): number {
  const t0 = now()
  const d = new JsDecoder()
  let bytes = 0
  for (const c of dataChunks) {
    for (const f of d.emitFrames(c)) if (f.data !== undefined) bytes += f.data.subarray().byteLength
  }
  if (bytes !== DATA_FRAMES * FRAME) throw new Error(`decoded ${bytes}`)
  return bytes / (now() - t0) / 1e3
}

// --- muxers over a memory channel ------------------------------------------------

const js = await loadJsYamux()

interface OursPair { dialer: StreamMuxer, listener: StreamMuxer }
function oursPair (onInbound: (s: MuxedStream) => void): OursPair {
  const [a, b] = MemoryChannel.pair()
  return {
    dialer: yamux().createStreamMuxer(a, { direction: 'outbound', onIncomingStream: () => {} }),
    listener: yamux().createStreamMuxer(b, { direction: 'inbound', onIncomingStream: onInbound })
  }
}
function jsPair (onInbound: (s: JsStream) => void): { dialer: JsMuxer, listener: JsMuxer } {
  const [a, b] = MemoryChannel.pair()
  const dialer = js.create(a, 'outbound')
  const listener = js.create(b, 'inbound')
  listener.addEventListener('stream', (e: CustomEvent) => { onInbound(e.detail) })
  return { dialer, listener }
}

const BULK = 64 * 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 1)

async function bulkOurs (): Promise<number> {
  let done!: () => void
  const finished = new Promise<void>((resolve) => { done = resolve })
  const p = oursPair((s) => { let n = 0; s.on('error', () => {}).on('data', (c: Buffer) => { n += c.byteLength; if (n === BULK) done() }) })
  const s = p.dialer.newStream().on('error', () => {})
  const t0 = now()
  for (let sent = 0; sent < BULK; sent += CHUNK.byteLength) {
    if (!s.write(CHUNK)) await new Promise((resolve) => s.once('drain', resolve))
  }
  await finished
  const rate = BULK / (now() - t0) / 1e3
  p.dialer.abort(new Error('done'))
  return rate
}
async function bulkJs (): Promise<number> {
  let done!: () => void
  const finished = new Promise<void>((resolve) => { done = resolve })
  const p = jsPair((s) => { let n = 0; s.addEventListener('message', (e: { data: Uint8Array }) => { n += e.data.byteLength; if (n === BULK) done() }) })
  const s = await p.dialer.createStream()
  const t0 = now()
  for (let sent = 0; sent < BULK; sent += CHUNK.byteLength) {
    if (!s.send(CHUNK)) await s.onDrain()
  }
  await finished
  const rate = BULK / (now() - t0) / 1e3
  p.dialer.abort(new Error('done'))
  return rate
}

const ONE = Buffer.from([42])
async function echoOurs (s: MuxedStream): Promise<void> {
  s.end(ONE)
  await new Promise<void>((resolve, reject) => { s.on('data', () => {}); s.once('end', resolve); s.once('error', reject) })
}
async function echoJsOnce (s: JsStream): Promise<void> {
  s.send(ONE)
  await s.close()
  await jsReadAll(s)
}

const SEQUENTIAL = 2000
async function sequentialOurs (): Promise<number> {
  const p = oursPair((s) => { s.pipe(s) })
  const t0 = now()
  for (let i = 0; i < SEQUENTIAL; i++) await echoOurs(p.dialer.newStream())
  const rate = SEQUENTIAL / (now() - t0) * 1000
  await p.dialer.close()
  return rate
}
async function sequentialJs (): Promise<number> {
  const p = jsPair(jsEcho)
  const t0 = now()
  for (let i = 0; i < SEQUENTIAL; i++) await echoJsOnce(await p.dialer.createStream())
  const rate = SEQUENTIAL / (now() - t0) * 1000
  await p.dialer.close()
  return rate
}

const CONCURRENT = 1000
async function concurrentOurs (): Promise<number> {
  const p = oursPair((s) => { s.pipe(s) })
  const t0 = now()
  await Promise.all(Array.from({ length: CONCURRENT }, async () => { await echoOurs(p.dialer.newStream()) }))
  const rate = CONCURRENT / (now() - t0) * 1000
  await p.dialer.close()
  return rate
}
async function concurrentJs (): Promise<number> {
  const p = jsPair(jsEcho)
  const t0 = now()
  await Promise.all(Array.from({ length: CONCURRENT }, async () => { await echoJsOnce(await p.dialer.createStream()) }))
  const rate = CONCURRENT / (now() - t0) * 1000
  await p.dialer.close()
  return rate
}

console.log(`yamux, median of ${RUNS} runs (Node ${process.version})`)
await compare('encode control frames', 'frames/s', encodeOurs, encodeJs)
await compare('decode control frames (16 KiB pieces)', 'frames/s', decodeControlOurs, decodeControlJs)
await compare('decode 64 KiB Data frames (16 KiB pieces)', 'MB/s', decodeDataOurs, decodeDataJs)
await compare('one stream, 64 MiB one way (memory channel)', 'MB/s', bulkOurs, bulkJs)
await compare(`open + 1-byte echo, sequential (${SEQUENTIAL})`, 'streams/s', sequentialOurs, sequentialJs)
await compare(`open + 1-byte echo, ${CONCURRENT} at once`, 'streams/s', concurrentOurs, concurrentJs)
