/**
 * `npm run soak -- --minutes N`: a node under churn for N minutes (default 30), and
 * the slope of what it holds.
 *
 * The subject (`subject.ts`, an lp2p listener with Node's default V8 flags plus
 * `--expose-gc`) is churned by an lp2p process (`churn-lp2p.ts`: fresh connections,
 * echo streams, streams reset mid-transfer, connections aborted mid-frame, pings,
 * graceful closes with GoAway, dials that fail) and a js-libp2p 3.x process
 * (`churn-js.ts`). The run is a series of cycles: churn for `--cycle` seconds
 * (default 20), let every connection close, then sample the subject at that quiet
 * point (after full collections): JS heap, RSS, active handles, open file
 * descriptors, and the event-loop delay seen during the churn. Sampling when nothing
 * is open makes a leak stand out: a quiet node holds the same handles and
 * descriptors every time.
 *
 * It prints each sample and, over the samples after the warm-up (the first fifth,
 * at least one), the least-squares slope of each quantity per hour, and fails when
 * the fitted growth exceeds the bound below (`slope.ts`).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import os from 'node:os'
import { judge, type Bound, type Sample } from './slope.js'
import type { PeerProcess as PeerProcessType } from '../bench/lib/peer-process.js'

const MiB = 1024 * 1024
/**
 * What may grow. Per hour: what a node that runs for days can afford (16 MiB of heap
 * a day is already a leak; these catch a leak of one small object per connection:
 * at the ~100 connections/s churned here, 100 bytes each is 34 MiB/h). Floors: the
 * sampling noise of a quiet node here (heap +-1 MiB after collections, RSS several
 * MiB as the allocator settles, a handle or descriptor still closing).
 */
export const BOUNDS: Record<string, Bound> = {
  heap: { perHour: 16 * MiB, floor: 2 * MiB },
  rss: { perHour: 64 * MiB, floor: 24 * MiB },
  handles: { perHour: 30, floor: 2 },
  fds: { perHour: 30, floor: 2 }
}

interface SubjectSample { heap: number, external: number, rss: number, handles: number, fds: number, delayP99: number, delayMax: number, connections: number }

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '30' },
      cycle: { type: 'string', default: '20' },
      loops: { type: 'string', default: '4' }
    }
  })
  const minutes = Number(values.minutes)
  const cycle = Number(values.cycle)
  const loops = Number(values.loops)
  if (!(minutes > 0) || !(cycle > 0) || !(loops > 0)) throw new RangeError('--minutes, --cycle and --loops must be positive')
  // The subject runs with Node's default V8 flags, as users run lp2p (GUIDE.md).
  process.env.LP2P_BENCH_NODE_FLAGS ??= ''
  const { PeerProcess } = await import('../bench/lib/peer-process.js')
  const here = path.dirname(fileURLToPath(import.meta.url))
  const start = async (label: string, script: string): Promise<PeerProcessType> =>
    await PeerProcess.start({ impl: 'lp2p', label, script: path.join(here, script) })
  const subject = await start('soak-subject', 'subject.ts')
  const churners = [await start('soak-churn-lp2p', 'churn-lp2p.ts'), await start('soak-churn-js', 'churn-js.ts')]
  try {
    const { addrs } = await subject.call<{ addrs: string[] }>('listen')
    for (const c of churners) await c.call('start', { loops })
    const began = Date.now()
    const samples: Array<SubjectSample & { t: number }> = []
    let totals: Array<Record<string, any>> = [] // eslint-disable-line @typescript-eslint/no-explicit-any
    console.log(`soak: ${minutes} min, cycles of ${cycle} s churn, ${loops} loops per churner; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
    console.log('soak:  t(s)   heap MiB   rss MiB  handles  fds  delay p99/max ms  conns  churned')
    while (Date.now() - began < minutes * 60_000) {
      const before = totals.reduce((n, r) => n + (r.connections ?? 0), 0)
      totals = await Promise.all(churners.map(async (c) => await c.call<Record<string, any>>('run', { addrs, seconds: cycle, loops }, cycle * 1000 + 120_000)))
      const churned = totals.reduce((n, r) => n + (r.connections ?? 0), 0) - before
      for (let waited = 0; waited < 10_000 && await subject.call<number>('connections') > 0; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const s = { ...await subject.call<SubjectSample>('sample'), t: Date.now() - began }
      samples.push(s)
      console.log(`soak: ${(s.t / 1000).toFixed(0).padStart(5)} ${(s.heap / MiB).toFixed(2).padStart(10)} ${(s.rss / MiB).toFixed(1).padStart(9)} ${String(s.handles).padStart(8)} ${String(s.fds).padStart(4)} ${s.delayP99.toFixed(1).padStart(9)}/${s.delayMax.toFixed(0).padEnd(6)} ${String(s.connections).padStart(6)}  ${churned} connections`)
    }
    const skip = Math.max(1, Math.floor(samples.length / 5))
    const measured = samples.slice(skip)
    let failed = false
    console.log(`\nsoak: ${samples.length} samples over ${((Date.now() - began) / 60_000).toFixed(1)} min; slopes over the last ${measured.length} (after ${skip} of warm-up); load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
    for (const [name, bound] of Object.entries(BOUNDS)) {
      const series: Sample[] = measured.map((s) => ({ t: s.t, value: s[name as keyof SubjectSample] }))
      const v = judge(series, bound)
      const unit = name === 'heap' || name === 'rss' ? MiB : 1
      const u = unit === MiB ? ' MiB' : ''
      console.log(`soak: ${name.padEnd(8)} slope ${(v.slopePerHour / unit).toFixed(2)}${u}/h, growth over the run ${(v.growth / unit).toFixed(2)}${u} (allowed ${(v.allowed / unit).toFixed(2)}${u}: ${(bound.perHour / unit).toFixed(0)}${u}/h, floor ${(bound.floor / unit).toFixed(0)}${u}) ${v.ok ? 'ok' : 'FAIL'}`)
      if (!v.ok) failed = true
    }
    const delays = measured.map((s) => s.delayP99).sort((a, b) => a - b)
    console.log(`soak: event-loop delay p99 per cycle: median ${(delays[Math.floor(delays.length / 2)] ?? 0).toFixed(1)} ms, worst ${(delays[delays.length - 1] ?? 0).toFixed(1)} ms`)
    console.log(`soak: churned by lp2p ${JSON.stringify(totals[0])}, by js-libp2p ${JSON.stringify(totals[1])}`)
    if (failed) {
      console.log('soak: FAILED: growth beyond the bound')
      process.exitCode = 1
    } else {
      console.log(`soak: ${Object.keys(BOUNDS).length} passed, 0 failed`)
    }
  } finally {
    await Promise.all([subject.stop(), ...churners.map(async (c) => { await c.stop() })])
  }
}

main().catch((err: unknown) => { console.error(err); process.exitCode = 1 })
