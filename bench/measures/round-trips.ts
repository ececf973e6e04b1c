/**
 * Measure 5: connection + first byte of a perf request, in round trips, over a link
 * with `delayMs` of one-way delay (`bench/netem/link.ts`): dialer and listener in two
 * network namespaces joined by a user-space forwarder that holds every packet.
 *
 * Timed in the dialer from the dial's start (before the TCP SYN) to the first byte of
 * the perf response (no upload, 1 KiB asked), divided by the RTT (2 x delay). The
 * floor over TCP + Noise is 3: TCP handshake, Noise XX (the initiator's third message
 * carries the first stream data when negotiation is lazy), one request.
 *
 * The link is checked in the same run: a plain TCP connect + 1-byte echo must take 2
 * RTT (SYN/SYN-ACK, then byte/echo). A check off by more than 10% voids the measure.
 *
 * lp2p over QUIC (`quic`) is timed the same way on the same link: its floor is 2 (the
 * QUIC + TLS 1.3 handshake, whose last client flight carries the request, then the
 * response); the forwarder delays UDP like every other IP packet.
 */
import { startPair, stopPair, type Pair } from '../lib/peer-process.js'
import { row, type Row } from '../lib/report.js'
import { spread } from '../lib/stats.js'
import { createDelayedLink, LISTENER_IP, unavailable } from '../netem/link.js'
import { rotate, type Ctx, type MeasureResult } from './common.js'

type Side = 'lp2p' | 'js' | 'quic'
const IMPLS: Side[] = ['lp2p', 'js', 'quic']

/** Target of issue 4: at most 3.2 RTT (the floor is 3). */
const MAX_RTTS = 3.2
/** Target of issue 11: QUIC reads 2 RTT (its floor), within the link's tolerance. */
const QUIC_MAX_RTTS = 2 * (1 + 0.1)
/** The link check's expected value and tolerance. */
const TCP_ECHO_RTTS = 2
const LINK_TOLERANCE = 0.1
/** Connections per implementation before the samples (see the warm-up below). */
const WARMUP_CONNECTIONS = 20
/** Bytes asked in the perf request: any non-zero size gives a first byte. */
const DOWNLOAD = 1024

export async function measureRoundTrips (ctx: Ctx): Promise<MeasureResult> {
  const { opts, log } = ctx
  const label = `connection + first perf byte, ${2 * opts.delayMs} ms RTT`
  const why = unavailable()
  if (why !== undefined) {
    return { rows: [row('rtt.firstByte', label, 'RTT', undefined, undefined, { note: `unavailable: ${why}` })] }
  }
  const rttMs = 2 * opts.delayMs
  const first: Record<Side, number[]> = { lp2p: [], js: [], quic: [] }
  const echo: number[] = []
  const link = await createDelayedLink(opts.delayMs)
  const pairs: Partial<Record<Side, Pair>> = {}
  try {
    for (const impl of IMPLS) {
      pairs[impl] = await startPair(impl === 'quic' ? 'lp2p' : impl, {
        host: LISTENER_IP,
        maxConnections: 100,
        measure: impl === 'quic' ? 'rtt-quic' : 'rtt',
        ...(impl === 'quic' ? { stack: { transport: 'quic-v1' as const } } : {}),
        listenerNetns: link.listenerNs,
        dialerNetns: link.dialerNs,
        tcpEcho: impl === 'lp2p',
        ...(ctx.profileDir !== undefined ? { profileDir: ctx.profileDir } : {})
      })
    }
    const lp = pairs.lp2p as Pair
    const tcpEcho = async (): Promise<number> =>
      (await lp.dialer.call<{ ms: number }>('tcpEcho', { host: LISTENER_IP, port: lp.tcpEchoPort })).ms / rttMs
    const firstByte = async (impl: Side): Promise<number> => {
      const p = pairs[impl] as Pair
      return (await p.dialer.call<{ ms: number }>('firstByte', { host: LISTENER_IP, port: p.port, download: DOWNLOAD })).ms / rttMs
    }
    // Warm-up: code loaded and compiled on first use is not a round trip, nor is the
    // slower code V8 runs before it optimizes: each side's handshake work between two
    // flights (key agreement, signatures, ciphers) takes several ms in a cold process
    // and a fraction of that once optimized.
    await tcpEcho()
    for (const impl of IMPLS) for (let i = 0; i < WARMUP_CONNECTIONS; i++) await firstByte(impl)
    for (let rep = 0; rep < opts.runs; rep++) {
      for (let i = 0; i < opts.rttSamples; i++) echo.push(await tcpEcho())
      for (const impl of rotate(IMPLS, rep)) {
        for (let i = 0; i < opts.rttSamples; i++) first[impl].push(await firstByte(impl))
      }
      log(`round trips run ${rep + 1}/${opts.runs}: tcp echo ${echo.at(-1)?.toFixed(2)} RTT, lp2p ${first.lp2p.at(-1)?.toFixed(2)} RTT, js-libp2p ${first.js.at(-1)?.toFixed(2)} RTT, lp2p QUIC ${first.quic.at(-1)?.toFixed(2)} RTT`)
    }
  } finally {
    await Promise.all([stopPair(pairs.lp2p), stopPair(pairs.js), stopPair(pairs.quic)])
    link.teardown()
  }
  const check = spread(echo)
  const linkOk = Math.abs(check.median - TCP_ECHO_RTTS) <= TCP_ECHO_RTTS * LINK_TOLERANCE
  const lpMedian = spread(first.lp2p).median
  const rows: Row[] = [
    row('rtt.firstByte', label, 'RTT', first.lp2p, first.js, {
      ...(linkOk ? { target: { text: `<= ${MAX_RTTS} RTT`, value: lpMedian, met: lpMedian <= MAX_RTTS } } : {}),
      ...(linkOk ? {} : { note: `void: the link check measured ${check.median.toFixed(2)} RTT instead of ${TCP_ECHO_RTTS}` })
    }),
    row('rtt.quic.firstByte', `QUIC: ${label}`, 'RTT', first.quic, undefined, {
      ...(linkOk ? { target: { text: `<= ${QUIC_MAX_RTTS.toFixed(1)} RTT (floor 2)`, value: spread(first.quic).median, met: spread(first.quic).median <= QUIC_MAX_RTTS } } : {}),
      note: linkOk ? 'lp2p over QUIC: handshake and request in two round trips' : `void: the link check measured ${check.median.toFixed(2)} RTT instead of ${TCP_ECHO_RTTS}`
    }),
    row('rtt.tcpEcho', `link check: TCP connect + 1-byte echo (expect ${TCP_ECHO_RTTS})`, 'RTT', undefined, undefined, { baseline: check })
  ]
  return { rows, extra: { rttMs, samples: { ...first, tcpEcho: echo } } }
}
