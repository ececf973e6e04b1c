/**
 * Per-stream cost of the muxers in one process: open a stream, write 1 byte, wait for
 * the echo, half-close, and let the stream finish, one stream after the other, over an
 * in-memory channel pair (optionally with Noise on it). The listener echoes with
 * `handleEcho`. Reports CPU microseconds per stream (both ends) and streams/s, median
 * of `--runs`, with no sockets, no negotiation and no node around the muxer, so what
 * it measures is src/muxer (plus Noise with `--noise`).
 *
 * `--base <dir>` loads the same modules from another source tree too (e.g. `git
 * archive HEAD | tar -x -C dir`) and alternates the two run by run (GUIDE rule 11).
 *
 *     node --import tsx bench/stream-churn.ts [--muxer yamux|mplex] [--noise] [--streams 5000] [--runs 7] [--base dir]
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Duplex } from 'node:stream'
import type { MuxedStream, StreamMuxer, StreamMuxerFactory } from '../src/interfaces/muxer.js'
import type { ByteChannel } from '../src/interfaces/channel.js'
import { median } from './lib/stats.js'

const argv = process.argv.slice(2)
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`)
  return i < 0 ? undefined : argv[i + 1]
}
const MUXER = opt('muxer') ?? 'yamux'
const NOISE = argv.includes('--noise')
const STREAMS = Number(opt('streams') ?? 5000)
const RUNS = Number(opt('runs') ?? 7)
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const trees = [here, ...(opt('base') !== undefined ? [path.resolve(opt('base') as string)] : [])]

interface Tree {
  name: string
  factory: StreamMuxerFactory
  pair: () => Promise<[ByteChannel, ByteChannel]>
  echo: (s: Duplex) => void
}

async function load (root: string): Promise<Tree> {
  const imp = async (p: string): Promise<any> => await import(path.join(root, p)) // eslint-disable-line @typescript-eslint/no-explicit-any
  const { MemoryChannel } = await imp('src/transport/memory-channel.ts')
  const muxers = await imp(`src/muxer/${MUXER}/index.ts`)
  const { handleEcho } = await imp('src/protocols/echo.ts')
  let pair = async (): Promise<[ByteChannel, ByteChannel]> => MemoryChannel.pair() as [ByteChannel, ByteChannel]
  if (NOISE) {
    const { noise } = await imp('src/security/noise/index.ts')
    const { generateKeyPair } = await imp('src/identity/index.ts')
    pair = async () => {
      const [a, b] = MemoryChannel.pair()
      const [x, y] = await Promise.all([
        noise().secureOutbound(a, { localKey: generateKeyPair() }),
        noise().secureInbound(b, { localKey: generateKeyPair() })
      ])
      return [x.channel, y.channel]
    }
  }
  return { name: root === here ? 'this tree' : root, factory: MUXER === 'yamux' ? muxers.yamux() : muxers.mplex(), pair, echo: handleEcho }
}

const ONE = Buffer.from([1])

async function oneStream (dialer: StreamMuxer): Promise<void> {
  const s: MuxedStream = dialer.newStream()
  await new Promise<void>((resolve, reject) => {
    s.once('data', () => { resolve() })
    s.once('error', reject)
    s.write(ONE)
  })
  s.end()
  s.resume()
  await new Promise<void>((resolve) => { s.once('close', resolve) })
}

async function run (t: Tree, n: number): Promise<{ cpu: number, rate: number }> {
  const [a, b] = await t.pair()
  t.factory.createStreamMuxer(b, { direction: 'inbound', onIncomingStream: (s) => { s.on('error', () => {}); t.echo(s) } })
  const dialer = t.factory.createStreamMuxer(a, { direction: 'outbound', onIncomingStream: (s) => { s.destroy() } })
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await oneStream(dialer)
  const ms = performance.now() - t0
  const c = process.cpuUsage(c0)
  dialer.abort(new Error('done'))
  return { cpu: (c.user + c.system) / n, rate: n / ms * 1000 }
}

const loaded = await Promise.all(trees.map(load))
for (const t of loaded) await run(t, 2000) // warm-up (JIT)
const res = new Map<string, { cpu: number[], rate: number[] }>()
for (let r = 0; r < RUNS; r++) {
  for (let k = 0; k < loaded.length; k++) {
    const t = loaded[(k + r) % loaded.length] as Tree
    const x = await run(t, STREAMS)
    const e = res.get(t.name) ?? { cpu: [], rate: [] }
    e.cpu.push(x.cpu)
    e.rate.push(x.rate)
    res.set(t.name, e)
  }
}
console.log(`${MUXER}${NOISE ? ' + noise' : ''} over a memory channel pair, open + 1-byte echo + close, ${STREAMS} streams x ${RUNS} runs (node ${process.version})`)
for (const [name, e] of res) {
  console.log(`${name.padEnd(24)} CPU ${median(e.cpu).toFixed(1)} µs/stream [${Math.min(...e.cpu).toFixed(1)}-${Math.max(...e.cpu).toFixed(1)}]   ${median(e.rate).toFixed(0)} streams/s`)
}
