/**
 * Measures 2 and 3 on loopback between two processes per implementation:
 *
 * - fresh connections: TCP connect + full upgrade (multistream-select, Noise XX, yamux)
 *   + one `/ipfs/ping/1.0.0` round trip on the new connection, then a graceful close;
 *   sequential, and `concurrency` dialers at once. Rate = connections / wall time of
 *   the run (closes included); latency = dial start to ping answer, p50 and p95 per run.
 *   Identify runs as each stack runs it by default (in the background).
 * - streams: on one open connection, open a stream, negotiate `/echo/1.0.0`, echo one
 *   byte, half-close; one after the other. Rate and p50 per run.
 *
 * Each runs for lp2p over QUIC too (`quic`, lp2p alone: js-libp2p's QUIC engine
 * package cannot be installed here), interleaved with the others.
 */
import { startPair, stopPair, type Pair } from '../lib/peer-process.js'
import { row, type Row } from '../lib/report.js'
import { percentile, spread } from '../lib/stats.js'
import type { EchoName } from '../peers/scenarios.js'
import { rotate, type Ctx, type MeasureResult } from './common.js'

type Side = 'lp2p' | 'js' | 'quic'
const IMPLS: Side[] = ['lp2p', 'js', 'quic']
const QUIC_NOTE = 'lp2p over QUIC (/quic-v1: TLS 1.3 and streams built in, no upgrade)'

/** Targets of issue 4: connections/s >= 5x js-libp2p, streams/s >= 10x. */
const CONNS_RATIO = 5
const STREAMS_RATIO = 10

/** The streams measure's floors, by echo codec (`peers/echo-loop.ts`). */
const FLOORS: EchoName[] = ['plain', 'sealed']

interface Timed { seconds: number, latencies: number[], failures?: number, firstError?: string, cpuMicros?: number }

interface Series { rate: number[], p50: number[], p95: number[], cpu: number[] }
const series = (): Series => ({ rate: [], p50: [], p95: [], cpu: [] })

/** Failed connection attempts per implementation and case, for the notes. */
type Failures = Map<string, { count: number, first: string }>

function add (s: Series, count: number, t: Timed, failures?: Failures, key?: string): void {
  const failed = t.failures ?? 0
  if (failed > 0 && failures !== undefined && key !== undefined) {
    const f = failures.get(key) ?? { count: 0, first: t.firstError ?? '' }
    f.count += failed
    failures.set(key, f)
  }
  s.rate.push((count - failed) / t.seconds)
  if (t.cpuMicros !== undefined) s.cpu.push(t.cpuMicros / count)
  s.p50.push(percentile(t.latencies, 50))
  s.p95.push(percentile(t.latencies, 95))
}

const ms = (micros: number[]): number[] => micros.map((m) => m / 1000)

function ratioTarget (lp2p: number[], js: number[], min: number): Row['target'] {
  const value = spread(lp2p).median / spread(js).median
  return { text: `>= ${min}x js-libp2p`, value, met: value >= min }
}

/** Runs `cmd` on the pair's dialer and adds the CPU time both processes spent on it. */
async function withCpu (p: Pair, cmd: string, args: Record<string, unknown>): Promise<Timed> {
  const cpu = async (): Promise<number> => (await p.listener.call<number>('cpu')) + (await p.dialer.call<number>('cpu'))
  const before = await cpu()
  const t = await p.dialer.call<Timed>(cmd, { host: '127.0.0.1', port: p.port, ...args })
  return { ...t, cpuMicros: (await cpu()) - before }
}

async function pairs (ctx: Ctx, measure: string): Promise<Record<Side, Pair>> {
  const common = { host: '127.0.0.1', maxConnections: 5000, measure, ...(ctx.profileDir !== undefined ? { profileDir: ctx.profileDir } : {}) }
  // For the streams measure, the lp2p listener process also serves its two floors: a
  // plain TCP echo and the sealed echo.
  const floors = measure === 'streams'
  const lp2p = await startPair('lp2p', { ...common, tcpEcho: floors, sealedEcho: floors })
  let js: Pair | undefined
  try {
    js = await startPair('js', common)
    return { lp2p, js, quic: await startPair('lp2p', { ...common, measure: `${measure}-quic`, stack: { transport: 'quic-v1' } }) }
  } catch (err) {
    await Promise.all([stopPair(lp2p), stopPair(js)])
    throw err
  }
}

export async function measureConnections (ctx: Ctx): Promise<MeasureResult> {
  const { opts, log } = ctx
  const seq: Partial<Record<Side, Series>> = { lp2p: series(), js: series(), quic: series() }
  const conc: Partial<Record<Side, Series>> = { lp2p: series(), js: series(), quic: series() }
  const failures: Failures = new Map()
  const p = await pairs(ctx, 'conns')
  try {
    const conns = async (impl: Side, total: number, concurrency: number): Promise<Timed> =>
      await withCpu(p[impl], 'conns', { total, concurrency })
    // Warm-up, not counted: V8 tiers hot code up over the first thousand operations or
    // so (a 100-operation warm-up left the first run ~40% slower than the rest).
    for (const impl of IMPLS) {
      await conns(impl, Math.min(200, opts.seqConns), 1)
      await conns(impl, Math.min(400, opts.concConns), opts.concurrency)
    }
    for (let rep = 0; rep < opts.runs; rep++) {
      for (const impl of rotate(IMPLS, rep)) {
        const s = await conns(impl, opts.seqConns, 1)
        add(seq[impl] as Series, opts.seqConns, s, failures, `${impl} sequential`)
        const c = await conns(impl, opts.concConns, opts.concurrency)
        add(conc[impl] as Series, opts.concConns, c, failures, `${impl} concurrent`)
        log(`connections run ${rep + 1}/${opts.runs}: ${impl} sequential ${(opts.seqConns / s.seconds).toFixed(0)}/s, ${opts.concurrency} concurrent ${(opts.concConns / c.seconds).toFixed(0)}/s`)
      }
    }
  } finally {
    await Promise.all([stopPair(p.lp2p), stopPair(p.js), stopPair(p.quic)])
  }
  const s = seq as Record<Side, Series>
  const c = conc as Record<Side, Series>
  const n = opts.concurrency
  const note = failures.size === 0 ? {} : { note: [...failures].map(([k, f]) => `${k}: ${f.count} failed (first: ${f.first})`).join('; ') }
  return {
    rows: [
      row('conns.seq', 'new connection + ping, sequential', 'conn/s', s.lp2p.rate, s.js.rate, { target: ratioTarget(s.lp2p.rate, s.js.rate, CONNS_RATIO), ...note }),
      row('conns.seq.p50', '  latency p50', 'ms', s.lp2p.p50, s.js.p50),
      row('conns.seq.p95', '  latency p95', 'ms', s.lp2p.p95, s.js.p95),
      row('conns.seq.cpu', '  CPU per connection, dialer + listener', 'ms', ms(s.lp2p.cpu), ms(s.js.cpu)),
      row('conns.conc', `new connection + ping, ${n} concurrent`, 'conn/s', c.lp2p.rate, c.js.rate, { target: ratioTarget(c.lp2p.rate, c.js.rate, CONNS_RATIO) }),
      row('conns.conc.p50', '  latency p50', 'ms', c.lp2p.p50, c.js.p50),
      row('conns.conc.p95', '  latency p95', 'ms', c.lp2p.p95, c.js.p95),
      row('conns.conc.cpu', '  CPU per connection, dialer + listener', 'ms', ms(c.lp2p.cpu), ms(c.js.cpu)),
      row('conns.quic.seq', 'QUIC: new connection + ping, sequential', 'conn/s', s.quic.rate, undefined, { note: QUIC_NOTE }),
      row('conns.quic.seq.p50', '  latency p50', 'ms', s.quic.p50, undefined),
      row('conns.quic.seq.cpu', '  CPU per connection, dialer + listener', 'ms', ms(s.quic.cpu), undefined),
      row('conns.quic.conc', `QUIC: new connection + ping, ${n} concurrent`, 'conn/s', c.quic.rate, undefined, { note: QUIC_NOTE }),
      row('conns.quic.conc.p50', '  latency p50', 'ms', c.quic.p50, undefined),
      row('conns.quic.conc.cpu', '  CPU per connection, dialer + listener', 'ms', ms(c.quic.cpu), undefined)
    ]
  }
}

export async function measureStreams (ctx: Ctx): Promise<MeasureResult> {
  const { opts, log } = ctx
  const res: Record<Side, Series> = { lp2p: series(), js: series(), quic: series() }
  // The floors: 1-byte echoes between the same two processes (lp2p's), over plain TCP
  // and with every message sealed as a Noise transport message (peers/echo-loop.ts).
  const floors: Record<EchoName, Series> = { plain: series(), sealed: series() }
  const p = await pairs(ctx, 'streams')
  try {
    const streams = async (impl: Side, total: number): Promise<Timed> =>
      await withCpu(p[impl], 'streams', { total, warmup: 0 })
    const ports: Record<EchoName, number | undefined> = { plain: p.lp2p.tcpEchoPort, sealed: p.lp2p.sealedEchoPort }
    const echoes = async (codec: EchoName, total: number): Promise<Timed> =>
      await p.lp2p.dialer.call<Timed>('echoLoop', { host: '127.0.0.1', port: ports[codec], total, codec })
    // Warm-up, not counted (see measureConnections).
    const warm = Math.min(1500, opts.streams)
    for (const impl of IMPLS) await streams(impl, warm)
    for (const floor of FLOORS) await echoes(floor, warm)
    for (let rep = 0; rep < opts.runs; rep++) {
      for (const impl of rotate(IMPLS, rep)) {
        const t = await streams(impl, opts.streams)
        add(res[impl], opts.streams, t)
        log(`streams run ${rep + 1}/${opts.runs}: ${impl} ${(opts.streams / t.seconds).toFixed(0)} streams/s, p50 ${percentile(t.latencies, 50).toFixed(3)} ms`)
      }
      for (const floor of FLOORS) {
        const t = await echoes(floor, opts.streams)
        add(floors[floor], opts.streams, t)
        log(`streams run ${rep + 1}/${opts.runs}: ${floor} TCP ${(opts.streams / t.seconds).toFixed(0)} echoes/s, p50 ${percentile(t.latencies, 50).toFixed(3)} ms`)
      }
    }
  } finally {
    await Promise.all([stopPair(p.lp2p), stopPair(p.js), stopPair(p.quic)])
  }
  const asked = STREAMS_RATIO * spread(res.js.rate).median
  const allows = (s: Series): string => `${spread(s.rate).median.toFixed(0)}/s (p50 ${spread(s.p50).median.toFixed(3)} ms)`
  return {
    rows: [
      row('streams', 'new stream + 1-byte echo, sequential', 'stream/s', res.lp2p.rate, res.js.rate, { target: ratioTarget(res.lp2p.rate, res.js.rate, STREAMS_RATIO) }),
      row('streams.p50', '  latency p50', 'ms', res.lp2p.p50, res.js.p50),
      row('streams.cpu', '  CPU per stream, dialer + listener', 'ms', ms(res.lp2p.cpu), ms(res.js.cpu)),
      row('streams.quic', 'QUIC: new stream + 1-byte echo, sequential', 'stream/s', res.quic.rate, undefined, { note: QUIC_NOTE }),
      row('streams.quic.p50', '  latency p50', 'ms', res.quic.p50, undefined),
      row('streams.quic.cpu', '  CPU per stream, dialer + listener', 'ms', ms(res.quic.cpu), undefined),
      row('streams.floor', 'baseline: plain TCP 1-byte echo between the two processes, sequential', 'echo/s', undefined, undefined, {
        baseline: spread(floors.plain.rate),
        note: `the streams target (${STREAMS_RATIO}x js-libp2p) asks for ${asked.toFixed(0)} streams/s; one plain TCP echo between the processes allows ${allows(floors.plain)}`
      }),
      row('streams.sealed', 'baseline: the same echo, each message sealed and opened like a Noise message', 'echo/s', undefined, undefined, {
        baseline: spread(floors.sealed.rate),
        note: `with one ChaCha20-Poly1305 seal and open per message and side (no muxer, no negotiation): ${allows(floors.sealed)}`
      })
    ]
  }
}
