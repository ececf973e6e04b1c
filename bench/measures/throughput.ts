/**
 * Measure 1 and the baselines of measure 6: one stream's throughput over TCP + Noise +
 * yamux between two processes (and, lp2p alone, over its other security/muxer pairs
 * and over QUIC),
 * upload and download separately, by the perf protocol
 * (timed by the client from stream open to the server's close, `specs/perf.md`), next
 * to raw Node TCP and the encrypted ceiling (`bench/peers/baseline.ts`), all
 * interleaved repetition by repetition. Each run uses a fresh connection whose setup
 * is not timed.
 */
import { PeerProcess, startPair, stopPair, type Pair } from '../lib/peer-process.js'
import { row, type Row } from '../lib/report.js'
import { spread } from '../lib/stats.js'
import type { StackChoice } from '../peers/scenarios.js'
import { gbps, rotate, type Ctx, type MeasureResult } from './common.js'

/**
 * The other security/muxer pairs lp2p offers, measured like the main rows but for lp2p
 * alone (js-libp2p 3 ships neither TLS nor mplex by default), with the ChaCha20-Poly1305
 * ceilings beside them. Those are the limit of a Noise pair only: lp2p's TLS
 * (src/security/tls) sets no cipher list, so TLS 1.3 between two lp2p nodes negotiates
 * Node's first default suite, TLS_AES_256_GCM_SHA384 (checked with `getCipher()` on
 * both sockets, node 20.20 / OpenSSL 3.0), whose AES-GCM runs on AES-NI here.
 */
const PAIRS = {
  'tls+yamux': { label: 'TLS + yamux', stack: { security: 'tls', muxer: 'yamux' } },
  'noise+mplex': { label: 'Noise + mplex', stack: { security: 'noise', muxer: 'mplex' } },
  'tls+mplex': { label: 'TLS + mplex', stack: { security: 'tls', muxer: 'mplex' } },
  'secio+yamux': { label: 'SECIO + yamux', stack: { security: 'secio', muxer: 'yamux' } },
  'pnet+noise+yamux': { label: 'pnet + Noise + yamux', stack: { security: 'noise', muxer: 'yamux', pnet: true } },
  quic: { label: 'QUIC (/quic-v1)', stack: { transport: 'quic-v1' } }
} as const satisfies Record<string, { label: string, stack: StackChoice }>
type PairName = keyof typeof PAIRS
const PAIR_NAMES = Object.keys(PAIRS) as PairName[]
const TLS_NOTE = 'TLS 1.3 negotiates TLS_AES_256_GCM_SHA384 here (Node\'s default; lp2p sets no ciphers), not ChaCha20-Poly1305: the ChaCha ceilings are only a reference for this row'
const QUIC_NOTE = 'QUIC\'s packet protection, flow and congestion control run in the native engine (quinn and rustls, over UDP), not over a TCP socket: the TCP + ChaCha ceilings are only a reference for this row'
/** What the other rows run instead of the Noise pair the ceilings model. */
const STACK_NOTES: Partial<Record<PairName, string>> = {
  'tls+yamux': TLS_NOTE,
  'tls+mplex': TLS_NOTE,
  'secio+yamux': 'SECIO agrees AES-256-CTR + HMAC-SHA256 between two lp2p nodes (node:crypto; 64 KiB packets); the ChaCha ceilings are only a reference for this row',
  'pnet+noise+yamux': 'Noise inside a private network: every byte also XORed with XSalsa20 (@noble/ciphers, pure JS) both ways',
  quic: QUIC_NOTE
}

/** A perf-protocol side: one of the two implementations, or lp2p on another pair. */
type Side = 'lp2p' | 'js' | PairName
type Kind = Side | 'raw' | 'ceiling' | 'ceiling-simple'
const KINDS: Kind[] = ['lp2p', 'js', ...PAIR_NAMES, 'raw', 'ceiling', 'ceiling-simple']
const isSide = (k: Kind): k is Side => k === 'lp2p' || k === 'js' || k in PAIRS

/** An empty list of runs per key. */
function runsOf<K extends string> (keys: readonly K[]): Record<K, number[]> {
  const out: Partial<Record<K, number[]>> = {}
  for (const k of keys) out[k] = []
  return out as Record<K, number[]>
}

/** Target: one-stream throughput >= 90% of the encrypted ceiling (issue 4). */
const CEILING_SHARE = 0.9

export async function measureThroughput (ctx: Ctx): Promise<MeasureResult> {
  const { opts, log } = ctx
  const bytes = opts.throughputBytes
  const host = '127.0.0.1'
  const common = { host, maxConnections: 100, measure: 'throughput', ...(ctx.profileDir !== undefined ? { profileDir: ctx.profileDir } : {}) }
  const pairs: Partial<Record<Side, Pair>> = {}
  let recv: PeerProcess | undefined
  let send: PeerProcess | undefined
  const up = runsOf(KINDS)
  const down = runsOf(KINDS.filter(isSide))
  try {
    pairs.lp2p = await startPair('lp2p', common)
    pairs.js = await startPair('js', common)
    for (const name of PAIR_NAMES) pairs[name] = await startPair('lp2p', { ...common, measure: `throughput-${name}`, stack: PAIRS[name].stack })
    const prof = ctx.profileDir !== undefined ? { profileDir: ctx.profileDir } : {}
    recv = await PeerProcess.start({ impl: 'baseline', label: 'baseline-throughput-receiver', ...prof })
    send = await PeerProcess.start({ impl: 'baseline', label: 'baseline-throughput-sender', ...prof })
    const r = recv
    const s = send
    const run = async (kind: Kind, upload: number, download: number): Promise<number> => {
      if (isSide(kind)) {
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
      if (isSide(kind)) await run(kind, 0, warm)
    }
    for (let rep = 0; rep < opts.runs; rep++) {
      for (const kind of rotate(KINDS, rep)) {
        const u = await run(kind, bytes, 0)
        up[kind].push(u)
        let text = `${kind} ${u.toFixed(2)}`
        if (isSide(kind)) {
          const d = await run(kind, 0, bytes)
          down[kind].push(d)
          text = `${kind} up ${u.toFixed(2)} down ${d.toFixed(2)}`
        }
        log(`throughput run ${rep + 1}/${opts.runs}: ${text} Gbit/s`)
      }
    }
  } finally {
    await Promise.all([...Object.values(pairs).map(stopPair), recv?.stop(), send?.stop()])
  }
  const ceiling = spread(up.ceiling).median
  const mib = (bytes / 1048576).toFixed(0)
  const target = (lp2p: number[]): Row['target'] => {
    const value = spread(lp2p).median / ceiling
    return { text: `>= ${CEILING_SHARE} of the encrypted ceiling`, value, met: value >= CEILING_SHARE }
  }
  const simple = spread(up['ceiling-simple']).median
  /** The medians' shares of both ceilings: lp2p's, and js-libp2p's where it ran. */
  const shares = (lp2p: number[], js?: number[]): string => {
    const of = (c: number): string => `lp2p ${(spread(lp2p).median / c).toFixed(2)}` +
      (js !== undefined ? `, js-libp2p ${(spread(js).median / c).toFixed(2)}` : '')
    return `of the streaming ceiling: ${of(ceiling)}; of the concat-per-frame ceiling: ${of(simple)}`
  }
  const rows: Row[] = [
    row('throughput.upload', `one stream upload, ${mib} MiB`, 'Gbit/s', up.lp2p, up.js, { target: target(up.lp2p), note: shares(up.lp2p, up.js) }),
    row('throughput.download', `one stream download, ${mib} MiB`, 'Gbit/s', down.lp2p, down.js, { target: target(down.lp2p), note: shares(down.lp2p, down.js) }),
    ...PAIR_NAMES.flatMap((name) => {
      const { label } = PAIRS[name]
      const extra = STACK_NOTES[name]
      const note = (v: number[]): string => `lp2p only; ${extra !== undefined ? `${extra}; ` : ''}${shares(v)}`
      return [
        row(`throughput.${name}.upload`, `  ${label}: upload`, 'Gbit/s', up[name], undefined, { note: note(up[name]) }),
        row(`throughput.${name}.download`, `  ${label}: download`, 'Gbit/s', down[name], undefined, { note: note(down[name]) })
      ]
    }),
    row('baseline.raw', 'baseline: raw Node TCP, no libp2p', 'Gbit/s', undefined, undefined, { baseline: spread(up.raw) }),
    row('baseline.ceiling', 'baseline: encrypted ceiling (streaming reader)', 'Gbit/s', undefined, undefined, { baseline: spread(up.ceiling) }),
    row('baseline.ceiling-simple', 'baseline: encrypted ceiling (concat per frame)', 'Gbit/s', undefined, undefined, {
      baseline: spread(up['ceiling-simple']),
      note: 'the same frames written and read the simplest way (as bench/noise-tcp.ts); the issue quotes this figure'
    })
  ]
  return { rows, extra: { jsShareOfCeiling: { upload: spread(up.js).median / ceiling, download: spread(down.js).median / ceiling } } }
}
