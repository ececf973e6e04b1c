/**
 * Codec micro-benchmarks: the multistream-select codec side by side with js-libp2p's
 * framing (`bench/micro/multistream.ts`, in this process), and the Noise transport
 * codec, yamux frame codec and peer store benchmarks of their owners
 * (`bench/noise-transport.ts`, `bench/yamux-frames.ts`, `bench/peer-store.ts`), run as
 * child processes whose report is kept verbatim.
 */
import { execFile } from 'node:child_process'
import { row, type Row } from '../lib/report.js'
import { runMultistreamMicro } from '../micro/multistream.js'
import type { Ctx, MeasureResult } from './common.js'

async function runScript (script: string, args: string[]): Promise<string> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { maxBuffer: 1 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve(err === null ? stdout.trimEnd() : `failed: ${err.message}\n${stderr}`)
    })
  })
}

export async function measureMicro (ctx: Ctx): Promise<MeasureResult> {
  const { opts, log } = ctx
  const runs = opts.quick ? 3 : 7
  const rows: Row[] = []
  for (const r of runMultistreamMicro(runs)) {
    // One repetition's medians: the spread is inside the script (median of `runs`).
    rows.push(row(r.name.replace(/\s+/g, '-'), r.name, r.unit, [r.lp2p], [r.js]))
  }
  log('micro: multistream done; running bench/noise-transport.ts, bench/yamux-frames.ts and bench/peer-store.ts')
  const noise = await runScript('bench/noise-transport.ts', ['--runs', String(opts.quick ? 1 : runs), '--mb', opts.quick ? '4' : '32'])
  const yamux = await runScript('bench/yamux-frames.ts', ['--runs', String(opts.quick ? 1 : 7)])
  const peerStore = await runScript('bench/peer-store.ts', opts.quick ? ['--quick'] : ['--runs', '5'])
  return { rows, extra: { noiseTransport: noise.split('\n'), yamuxFrames: yamux.split('\n'), peerStore: peerStore.split('\n') } }
}
