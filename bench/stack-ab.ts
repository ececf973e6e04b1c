/**
 * A/B of the whole lp2p stack (TCP + Noise + yamux) between two processes, for
 * optimisation work: the same measures as `npm run bench` (one-stream perf upload and
 * download; open + `/echo/1.0.0` + 1-byte echo, sequential), lp2p only, plus the CPU
 * time each process spent per GiB or per stream. CPU per unit of work moves far less
 * than wall-clock rates when other jobs share the machine, so it is the figure to
 * compare two versions of the code by.
 *
 * `--base <dir>` adds a second source tree (e.g. `git archive HEAD | tar -x -C dir`,
 * with `node_modules` linked) whose own peer processes run interleaved with this
 * tree's, repetition by repetition, order rotated (GUIDE rule 11).
 *
 *     node --import tsx bench/stack-ab.ts [--base /tmp/lp2p-base] [--only throughput,streams]
 *          [--mib 256] [--streams 2000] [--runs 5] [--profile <dir>]
 *
 * `--profile <dir>` runs this tree's peers with `--cpu-prof` into `<dir>` (summarize with
 * `bench/lib/cpuprofile.ts` on the main-thread profile of each process folder).
 *
 * Prints medians [min-max] per tree; CPU is user + system time of each process.
 */
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { median } from './lib/stats.js'

const argv = process.argv.slice(2)
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`)
  return i < 0 ? undefined : argv[i + 1]
}
const MIB = Number(opt('mib') ?? 256)
const STREAMS = Number(opt('streams') ?? 2000)
const RUNS = Number(opt('runs') ?? 5)
const ONLY = (opt('only') ?? 'throughput,streams').split(',')
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const PROFILE = opt('profile')
const trees = [here, ...(opt('base') !== undefined ? [path.resolve(opt('base') as string)] : [])]

interface Peer { call: <T>(cmd: string, args?: unknown, timeoutMs?: number) => Promise<T>, stop: () => Promise<void> }
interface Pair { listener: Peer, dialer: Peer, port: number }
interface PeerModule {
  startPair: (impl: 'lp2p', o: { host: string, maxConnections: number, measure: string, profileDir?: string }) => Promise<Pair>
  stopPair: (p: Pair | undefined) => Promise<void>
}

type Series = Record<string, number[]>
const results = new Map<string, Series>()
function record (tree: string, key: string, value: number): void {
  const s = results.get(tree) ?? {}
  ;(s[key] ??= []).push(value)
  results.set(tree, s)
}

async function cpu (p: Pair): Promise<[number, number]> {
  return [await p.dialer.call<number>('cpu'), await p.listener.call<number>('cpu')]
}

async function throughput (tree: string, p: Pair, dir: 'up' | 'down', bytes: number, keep: boolean): Promise<void> {
  const [d0, l0] = await cpu(p)
  const res = await p.dialer.call<{ seconds: number }>('throughput', {
    host: '127.0.0.1', port: p.port, upload: dir === 'up' ? bytes : 0, download: dir === 'down' ? bytes : 0
  })
  const [d1, l1] = await cpu(p)
  if (!keep) return
  const gib = bytes / 2 ** 30
  record(tree, `${dir} Gbit/s`, (bytes * 8) / res.seconds / 1e9)
  // The connection setup is inside the CPU window: negligible next to 256 MiB.
  record(tree, `${dir} dialer CPU ms/GiB`, (d1 - d0) / 1000 / gib)
  record(tree, `${dir} listener CPU ms/GiB`, (l1 - l0) / 1000 / gib)
}

async function streams (tree: string, p: Pair, total: number, keep: boolean): Promise<void> {
  const [d0, l0] = await cpu(p)
  const res = await p.dialer.call<{ seconds: number, latencies: number[] }>('streams', { host: '127.0.0.1', port: p.port, total, warmup: 0 })
  const [d1, l1] = await cpu(p)
  if (!keep) return
  record(tree, 'streams/s', total / res.seconds)
  record(tree, 'stream p50 µs', median(res.latencies) * 1000)
  record(tree, 'stream dialer CPU µs', (d1 - d0) / total)
  record(tree, 'stream listener CPU µs', (l1 - l0) / total)
}

async function main (): Promise<void> {
  const load0 = os.loadavg().map((x) => x.toFixed(2)).join(' ')
  const mods = await Promise.all(trees.map(async (t) => await import(path.join(t, 'bench/lib/peer-process.ts')) as PeerModule))
  const bytes = MIB * 2 ** 20
  for (const measure of ONLY) {
    const pairs: Pair[] = []
    try {
      for (let t = 0; t < trees.length; t++) {
        const profile = t === 0 && PROFILE !== undefined ? { profileDir: path.resolve(PROFILE) } : {}
        pairs.push(await (mods[t] as PeerModule).startPair('lp2p', { host: '127.0.0.1', maxConnections: 100, measure, ...profile }))
      }
      // Warm-up (JIT tier-up, socket buffers), not counted.
      for (let t = 0; t < trees.length; t++) {
        const p = pairs[t] as Pair
        if (measure === 'throughput') {
          await throughput(trees[t] as string, p, 'up', bytes / 8, false)
          await throughput(trees[t] as string, p, 'down', bytes / 8, false)
        } else {
          await streams(trees[t] as string, p, 1500, false)
        }
      }
      for (let rep = 0; rep < RUNS; rep++) {
        for (let k = 0; k < trees.length; k++) {
          const t = (k + rep) % trees.length
          const p = pairs[t] as Pair
          const tree = trees[t] as string
          if (measure === 'throughput') {
            await throughput(tree, p, 'up', bytes, true)
            await throughput(tree, p, 'down', bytes, true)
          } else {
            await streams(tree, p, STREAMS, true)
          }
        }
        process.stderr.write('.')
      }
    } finally {
      await Promise.all(pairs.map(async (p, i) => { await (mods[i] as PeerModule).stopPair(p) }))
    }
  }
  process.stderr.write('\n')
  const load1 = os.loadavg().map((x) => x.toFixed(2)).join(' ')
  console.log(`stack A/B, ${RUNS} runs, ${MIB} MiB, ${STREAMS} streams; load ${load0} -> ${load1}`)
  const keys = [...new Set([...results.values()].flatMap((s) => Object.keys(s)))]
  const fmt = (xs: number[] | undefined): string => {
    if (xs === undefined || xs.length === 0) return '-'
    const d = (x: number): string => x >= 100 ? x.toFixed(0) : x.toFixed(2)
    return `${d(median(xs))} [${d(Math.min(...xs))}-${d(Math.max(...xs))}]`
  }
  console.log(['measure'.padEnd(26), ...trees.map((t) => (t === here ? 'this tree' : t).padEnd(26))].join(' '))
  for (const k of keys) console.log([k.padEnd(26), ...trees.map((t) => fmt(results.get(t)?.[k]).padEnd(26))].join(' '))
}

await main()
