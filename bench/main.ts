/**
 * `npm run bench`: lp2p and js-libp2p 3.x side by side in one run, on loopback between
 * two processes per implementation (a dialer and a listener), repetitions interleaved
 * (GUIDE rule 11). Measures (issue 4):
 *
 * 1. one-stream throughput, upload and download, TCP + Noise + yamux (`throughput`);
 * 2. fresh connections + one ping, sequential and concurrent (`conns`);
 * 3. stream open + 1-byte echo, sequential (`streams`);
 * 4. resident memory per idle connection, listener and dialer (`memory`);
 * 5. connection + first perf byte over a delayed link, in RTTs (`rtt`);
 * 6. baselines in the same run: raw Node TCP and the encrypted ceiling (with 1);
 * and codec micro-benchmarks (`micro`).
 *
 * Prints a table of medians with [min-max] over repetitions, the lp2p/js-libp2p
 * ratios and the issue's targets, and writes everything to `bench/results.json`.
 * `--quick` is a one-minute smoke run; `--help` lists the options.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { formatSummary, summarizeFile, type ProfileSummary } from './lib/cpuprofile.js'
import { parseOptions, type Measure } from './lib/options.js'
import { formatTable, row, type Row } from './lib/report.js'
import { loadavg, type Ctx, type MeasureResult } from './measures/common.js'
import { measureThroughput } from './measures/throughput.js'
import { measureConnections, measureStreams } from './measures/connections.js'
import { measureMemory } from './measures/memory.js'
import { measureRoundTrips } from './measures/round-trips.js'
import { measureMicro } from './measures/micro.js'

const RUNNERS: Record<Measure, (ctx: Ctx) => Promise<MeasureResult>> = {
  throughput: measureThroughput,
  conns: measureConnections,
  streams: measureStreams,
  memory: measureMemory,
  rtt: measureRoundTrips,
  micro: measureMicro
}

function version (pkg: string): string {
  try {
    return (JSON.parse(readFileSync(path.join('node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

function gitCommit (): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

/**
 * Summaries of the main-thread CPU profiles written for `measure` (one folder per
 * process, named `<impl>-<measure>-<role>.<time>`; the main thread is thread 0).
 */
function profileSummaries (dir: string, measure: string): Record<string, ProfileSummary> {
  const out: Record<string, ProfileSummary> = {}
  for (const d of readdirSync(dir).filter((d) => d.includes(`-${measure}-`))) {
    const main = readdirSync(path.join(dir, d)).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    if (main !== undefined) out[d.replace(/\.\d+$/, '')] = summarizeFile(path.join(dir, d, main))
  }
  return out
}

/**
 * Builds `dist/`: the lp2p peers run the compiled package, as its users do (under tsx,
 * esbuild's `keepNames` would give every closure a property dictionary and skew the
 * memory figures), and must not run a stale build.
 */
function build (): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] })
}

async function main (): Promise<void> {
  const opts = parseOptions(process.argv.slice(2))
  build()
  const started = Date.now()
  const log = (line: string): void => { process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`) }
  const profileDir = opts.profile ? path.resolve('bench', 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : undefined
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true })
  const meta = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    jsLibp2p: version('libp2p'),
    noise: version('@chainsafe/libp2p-noise'),
    yamux: version('@chainsafe/libp2p-yamux'),
    options: opts,
    loadavgStart: loadavg()
  }
  log(`lp2p ${meta.commit} vs js-libp2p ${meta.jsLibp2p} on ${meta.cpus} x ${meta.cpuModel}, node ${meta.node}, load ${meta.loadavgStart}`)
  const ctx: Ctx = { opts, log, profileDir }
  const rows: Row[] = []
  const measures: Record<string, { seconds: number, loadavg: string, extra?: Record<string, unknown>, profiles?: Record<string, ProfileSummary> }> = {}
  for (const m of opts.only) {
    const t0 = Date.now()
    log(`--- ${m} (load ${loadavg()})`)
    try {
      const res = await RUNNERS[m](ctx)
      rows.push(...res.rows)
      measures[m] = { seconds: (Date.now() - t0) / 1000, loadavg: loadavg(), ...(res.extra !== undefined ? { extra: res.extra } : {}) }
    } catch (err) {
      log(`${m} failed: ${(err as Error).stack ?? String(err)}`)
      rows.push(row(m, m, '', undefined, undefined, { note: `failed: ${(err as Error).message.split('\n')[0] ?? ''}` }))
      measures[m] = { seconds: (Date.now() - t0) / 1000, loadavg: loadavg() }
    }
    if (profileDir !== undefined) {
      const profiles = profileSummaries(profileDir, m)
      ;(measures[m] as { profiles?: Record<string, ProfileSummary> }).profiles = profiles
      for (const [label, s] of Object.entries(profiles)) process.stderr.write(`${formatSummary(label, s, 12)}\n`)
    }
  }
  const seconds = (Date.now() - started) / 1000
  const header = `lp2p ${meta.commit} vs js-libp2p ${meta.jsLibp2p} (noise ${meta.noise}, yamux ${meta.yamux}), node ${meta.node}, ` +
    `${meta.cpus} x ${meta.cpuModel}; ${opts.quick ? 'QUICK run, ' : ''}${opts.runs} runs (memory ${opts.memoryRuns}); ` +
    `load average ${meta.loadavgStart} at start, ${loadavg()} at end; ${seconds.toFixed(0)} s`
  process.stdout.write(`\n${header}\n\n${formatTable(rows)}\n`)
  const micro = measures.micro?.extra as { noiseTransport?: string[], yamuxFrames?: string[], peerStore?: string[] } | undefined
  if (micro !== undefined) {
    process.stdout.write(`\nbench/noise-transport.ts:\n${(micro.noiseTransport ?? []).join('\n')}\n\nbench/yamux-frames.ts:\n${(micro.yamuxFrames ?? []).join('\n')}\n\nbench/peer-store.ts:\n${(micro.peerStore ?? []).join('\n')}\n`)
  }
  writeFileSync(opts.out, `${JSON.stringify({ meta: { ...meta, loadavgEnd: loadavg(), seconds }, rows, measures }, null, 2)}\n`)
  process.stdout.write(`\nwrote ${opts.out}${profileDir !== undefined ? `; CPU profiles in ${path.relative(process.cwd(), profileDir)}` : ''}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
