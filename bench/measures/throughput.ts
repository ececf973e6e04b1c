/**
 * Measure 1 and the baselines of measure 6: one stream's throughput over TCP + Noise +
 * yamux between two processes, upload and download separately, by the perf protocol
 * (timed by the client from stream open to the server's close, `specs/perf.md`), next
 * to raw Node TCP and the encrypted ceiling (`bench/peers/baseline.ts`), all
 * interleaved repetition by repetition. Each run uses a fresh connection whose setup
 * is not timed.
 */
import { PeerProcess, startPair, stopPair, type Pair } from '../lib/peer-process.js'
import { row, type Row } from '../lib/report.js'
import { spread } from '../lib/stats.js'
import { gbps, rotate, type Ctx, type MeasureResult } from './common.js'

type Kind = 'lp2p' | 'js' | 'raw' | 'ceiling' | 'ceiling-simple'
const KINDS: Kind[] = ['lp2p', 'js', 'raw', 'ceiling', 'ceiling-simple']

/** Target: one-stream throughput >= 90% of the encrypted ceiling (issue 4). */
const CEILING_SHARE = 0.9

export async function measureThroughput (ctx: Ctx): Promise<MeasureResult> {
  const { opts, log } = ctx
  const bytes = opts.throughputBytes
  const host = '127.0.0.1'
  const common = { host, maxConnections: 100, measure: 'throughput', ...(ctx.profileDir !== undefined ? { profileDir: ctx.profileDir } : {}) }
  let pairs: Partial<Record<'lp2p' | 'js', Pair>> = {}
  let recv: PeerProcess | undefined
  let send: PeerProcess | undefined
  const up: Record<Kind, number[]> = { lp2p: [], js: [], raw: [], ceiling: [], 'ceiling-simple': [] }
  const down: Record<'lp2p' | 'js', number[]> = { lp2p: [], js: [] }
  try {
    pairs = { lp2p: await startPair('lp2p', common), js: await startPair('js', common) }
    const prof = ctx.profileDir !== undefined ? { profileDir: ctx.profileDir } : {}
    recv = await PeerProcess.start({ impl: 'baseline', label: 'baseline-throughput-receiver', ...prof })
    send = await PeerProcess.start({ impl: 'baseline', label: 'baseline-throughput-sender', ...prof })
    const r = recv
    const s = send
    const run = async (kind: Kind, upload: number, download: number): Promise<number> => {
      if (kind === 'lp2p' || kind === 'js') {
        const p = pairs[kind] as Pair
        const res = await p.dialer.call<{ seconds: number }>('throughput', { host, port: p.port, upload, download })
        return gbps(upload + download, res.seconds)
      }
      const { port } = await r.call<{ port: number }>('receive', { mode: kind, bytes: upload })
      const res = await s.call<{ seconds: number }>('send', { mode: kind, port, bytes: upload })
      return gbps(upload, res.seconds)
    }
    // Warm-up (JIT, lazy imports, socket buffers): 1/16 of the size, not counted.
    const warm = Math.max(1 << 20, Math.floor(bytes / 16))
    for (const kind of KINDS) {
      await run(kind, warm, 0)
      if (kind === 'lp2p' || kind === 'js') await run(kind, 0, warm)
    }
    for (let rep = 0; rep < opts.runs; rep++) {
      for (const kind of rotate(KINDS, rep)) {
        const u = await run(kind, bytes, 0)
        up[kind].push(u)
        let text = `${kind} ${u.toFixed(2)}`
        if (kind === 'lp2p' || kind === 'js') {
          const d = await run(kind, 0, bytes)
          down[kind].push(d)
          text = `${kind} up ${u.toFixed(2)} down ${d.toFixed(2)}`
        }
        log(`throughput run ${rep + 1}/${opts.runs}: ${text} Gbit/s`)
      }
    }
  } finally {
    await Promise.all([stopPair(pairs.lp2p), stopPair(pairs.js), recv?.stop(), send?.stop()])
  }
  const ceiling = spread(up.ceiling).median
  const mib = (bytes / 1048576).toFixed(0)
  const target = (lp2p: number[]): Row['target'] => {
    const value = spread(lp2p).median / ceiling
    return { text: `>= ${CEILING_SHARE} of the encrypted ceiling`, value, met: value >= CEILING_SHARE }
  }
  const simple = spread(up['ceiling-simple']).median
  const shares = (lp2p: number[], js: number[]): string => {
    const l = spread(lp2p).median
    const j = spread(js).median
    return `of the streaming ceiling: lp2p ${(l / ceiling).toFixed(2)}, js-libp2p ${(j / ceiling).toFixed(2)}; ` +
      `of the concat-per-frame ceiling: lp2p ${(l / simple).toFixed(2)}, js-libp2p ${(j / simple).toFixed(2)}`
  }
  const rows: Row[] = [
    row('throughput.upload', `one stream upload, ${mib} MiB`, 'Gbit/s', up.lp2p, up.js, { target: target(up.lp2p), note: shares(up.lp2p, up.js) }),
    row('throughput.download', `one stream download, ${mib} MiB`, 'Gbit/s', down.lp2p, down.js, { target: target(down.lp2p), note: shares(down.lp2p, down.js) }),
    row('baseline.raw', 'baseline: raw Node TCP, no libp2p', 'Gbit/s', undefined, undefined, { baseline: spread(up.raw) }),
    row('baseline.ceiling', 'baseline: encrypted ceiling (streaming reader)', 'Gbit/s', undefined, undefined, { baseline: spread(up.ceiling) }),
    row('baseline.ceiling-simple', 'baseline: encrypted ceiling (concat per frame)', 'Gbit/s', undefined, undefined, {
      baseline: spread(up['ceiling-simple']),
      note: 'the same frames written and read the simplest way (as bench/noise-tcp.ts); the issue quotes this figure'
    })
  ]
  return { rows, extra: { jsShareOfCeiling: { upload: spread(up.js).median / ceiling, download: spread(down.js).median / ceiling } } }
}
