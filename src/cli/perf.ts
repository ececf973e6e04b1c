/**
 * `lp2p perf`: the perf protocol (`specs/perf.md`) as a command compatible with the
 * libp2p perf runner (libp2p/test-plans `perf/`), so existing tooling can drive it:
 *
 *   lp2p perf --run-server --server-address 127.0.0.1:4001
 *   lp2p perf --server-address 127.0.0.1:4001 --transport tcp --upload-bytes N --download-bytes M
 *
 * - stdout carries only JSON lines `{"type": "intermediary" | "final", "timeSeconds",
 *   "uploadBytes", "downloadBytes"}`: intermediary ones about once a second with the
 *   bytes of that interval, then the final one with the totals and the time since the
 *   dial started (connection establishment included, as the runner's implementations
 *   count it). Logs and errors go to stderr (runner: "Logging MUST go to stderr").
 * - When stderr is a terminal: a progress bar with live throughput, rewritten in place,
 *   and a readable summary.
 *
 * The server's identity is by default the runner's fixed one: the Ed25519 key whose
 * seed is 32 zero bytes (go-libp2p's perf reads its key from an all-zero reader), peer
 * id {@link PERF_RUNNER_PEER_ID}, so a client needs only `host:port`. That key is
 * public knowledge: it identifies a benchmark server, nothing else.
 */
import { performance } from 'node:perf_hooks'
import { InvalidArgumentError, type Command } from 'commander'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createNode, type Lp2pNode } from '../node.js'
import { generateKeyPair, loadKeyFile } from '../identity/index.js'
import { ed25519PrivateKeyFromSeed } from '../identity/ed25519.js'
import type { PrivateKey } from '../interfaces/keys.js'
import { PERF_MAX_U64 } from '../protocols/perf-machine.js'
import {
  DEFAULT_PERF_BLOCK_SIZE, PERF_MAX_INBOUND_STREAMS, PERF_PROTOCOL, perfHandler, runPerf, type PerfLiveCounts,
  type PerfServerOptions
} from '../protocols/perf.js'
import { bitsPerSecond, DEFAULT_REPORT_INTERVAL, formatBytes, formatRate, type PerfReport } from '../protocols/perf-report.js'
import { positiveInt } from './args.js'
import { jsonLine, untilSignal } from './output.js'
import { addNodeSecurityFlags, nodeSecurityOptions, type NodeSecurityFlags } from './node-security.js'
import { listenOptional } from './listen.js'

/** The peer id of the runner's fixed server key (Ed25519, seed of 32 zero bytes). */
export const PERF_RUNNER_PEER_ID = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

/**
 * Transports `--transport` accepts, by the runner's names: TCP (+ Noise + yamux) and
 * QUIC v1. The server listens on both, on the same port number.
 */
const TRANSPORTS = ['tcp', 'quic-v1']

/** Redraw period of the terminal progress bar, ms: smooth to the eye, negligible CPU. */
const BAR_REDRAW_MS = 200

/** The runner's fixed server key. */
export function perfRunnerKey (): PrivateKey {
  return ed25519PrivateKeyFromSeed(new Uint8Array(32))
}

/**
 * Registers perf on a node: `lp2p listen` with the defaults (request limit 1 TiB),
 * `lp2p perf --run-server` with its own.
 */
export function servePerf (node: Lp2pNode, options: PerfServerOptions = {}): void {
  node.handle(PERF_PROTOCOL, perfHandler(options), { maxInboundStreams: PERF_MAX_INBOUND_STREAMS })
}

/**
 * `host:port`, `[ipv6]:port` or a multiaddr (anything starting with `/`) to a TCP
 * multiaddr, or with `transport` `quic-v1` a `/udp/<port>/quic-v1` one. A host that is
 * not an IP literal becomes `/dns/<host>` (TCP only: the QUIC engine dials IPs).
 */
export function parseServerAddress (value: string, transport = 'tcp'): Multiaddr {
  if (value.startsWith('/')) {
    try {
      return multiaddr(value)
    } catch (err) {
      throw new InvalidArgumentError(`invalid multiaddr: ${(err as Error).message}`)
    }
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value)
  const port = Number(m?.[3])
  if (m === null || port > 65535) throw new InvalidArgumentError('must be host:port, [ipv6]:port or a multiaddr')
  const host = (m[1] ?? m[2]) as string
  const proto = m[1] !== undefined ? 'ip6' : /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? 'ip4' : 'dns'
  if (transport === 'quic-v1' && proto === 'dns') throw new InvalidArgumentError('QUIC needs an IP address (the engine dials socket addresses)')
  try {
    return multiaddr(transport === 'quic-v1' ? `/${proto}/${host}/udp/${port}/quic-v1` : `/${proto}/${host}/tcp/${port}`)
  } catch (err) {
    throw new InvalidArgumentError(`invalid address: ${(err as Error).message}`)
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 }

/** A byte count: an integer, optionally with a unit (`100MiB`, `1GB`, `64k`). */
export function parseByteCount (value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim())
  const unit = SIZE_UNITS[m?.[2]?.toLowerCase() ?? 'x']
  const n = m === null || unit === undefined ? Number.NaN : Math.round(Number(m[1]) * unit)
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a byte count like 1048576 or 100MiB')
  return n
}

/** One line of the terminal progress bar. Pure, for tests. */
export function renderBar (done: number, total: number, bps: number, width = 30): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1
  const full = Math.round(frac * width)
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}  ${formatRate(bps)}`
}

/** A TTY-only progress bar on stderr, redrawn in place from the live counters. */
function startBar (live: PerfLiveCounts, total: number): () => void {
  if (process.stderr.isTTY !== true) return () => {}
  let lastBytes = 0
  let lastAt = performance.now()
  let bps = 0
  const draw = (): void => {
    const now = performance.now()
    const bytes = live.uploadBytes + live.downloadBytes
    if (now > lastAt) bps = 0.5 * bps + 0.5 * bitsPerSecond(bytes - lastBytes, (now - lastAt) / 1000)
    lastBytes = bytes
    lastAt = now
    process.stderr.write(`\r${renderBar(bytes, total, bps)}\x1b[K`)
  }
  const timer = setInterval(draw, BAR_REDRAW_MS)
  return () => {
    clearInterval(timer)
    draw()
    process.stderr.write('\n')
  }
}

interface PerfCommandOptions extends NodeSecurityFlags {
  runServer?: boolean
  serverAddress?: string
  transport: string
  uploadBytes: number
  downloadBytes: number
  key?: string
  serverPeerId?: string
  maxResponseBytes?: string
  blockSize: number
  reportInterval: number
}

async function runServer (opts: PerfCommandOptions, serverAddress: string): Promise<void> {
  const key = opts.key !== undefined ? await loadKeyFile(opts.key) : perfRunnerKey()
  const max = opts.maxResponseBytes !== undefined ? BigInt(parseByteCount(opts.maxResponseBytes)) : PERF_MAX_U64
  // The runner's server answers any request, up to the spec's 2^64 - 1 (timer-based
  // downloads); `--max-response-bytes` bounds it.
  // Like the runner's servers: TCP and QUIC on the same port number (a multiaddr
  // names one transport: that one alone). QUIC is skipped, with a note, without its engine.
  const addrs = serverAddress.startsWith('/')
    ? [parseServerAddress(serverAddress).toString()]
    : TRANSPORTS.filter((t) => opts.psk === undefined || t !== 'quic-v1').map((t) => parseServerAddress(serverAddress, t).toString())
  const node = createNode({ privateKey: key, limits: { maxConnections: 1000 }, ...await nodeSecurityOptions(opts) })
  servePerf(node, { maxResponseBytes: max, blockSize: opts.blockSize })
  // Signals are caught before the address line is printed (see `lp2p listen`).
  const stopped = untilSignal()
  await node.start()
  try {
    if (addrs.length === 1) await node.listen(addrs[0] as string)
    else await listenOptional(node, addrs)
  } catch (err) {
    await node.stop()
    throw err
  }
  jsonLine({ peerId: node.peerId.toString(), multiaddrs: node.getMultiaddrs().map(String) })
  await stopped
  await node.stop()
}

async function runClient (opts: PerfCommandOptions, address: Multiaddr): Promise<void> {
  const peer = opts.serverPeerId ?? (address.getComponents().some((c) => c.name === 'p2p') ? undefined : PERF_RUNNER_PEER_ID)
  const target = peer === undefined ? address : address.encapsulate(`/p2p/${peer}`)
  const node = createNode({ privateKey: generateKeyPair('Ed25519'), ...await nodeSecurityOptions(opts) })
  await node.start()
  const live: PerfLiveCounts = { uploadBytes: 0, downloadBytes: 0 }
  let stopBar = (): void => {}
  try {
    const start = performance.now()
    const conn = await node.dial(target)
    const connectSeconds = (performance.now() - start) / 1000
    stopBar = startBar(live, opts.uploadBytes + opts.downloadBytes)
    const res = await runPerf(conn, {
      uploadBytes: opts.uploadBytes,
      downloadBytes: opts.downloadBytes,
      blockSize: opts.blockSize,
      startTime: start,
      reportInterval: opts.reportInterval,
      live,
      onProgress: (r: PerfReport) => {
        // Clear the bar's line first when both streams share the terminal; it redraws.
        if (process.stderr.isTTY === true && process.stdout.isTTY === true) process.stderr.write('\r\x1b[K')
        jsonLine(r)
      }
    })
    stopBar()
    stopBar = () => {}
    jsonLine(res.final)
    if (process.stderr.isTTY === true) {
      const down = res.firstByteSeconds === undefined ? 0 : res.streamSeconds - res.firstByteSeconds
      process.stderr.write(
        `connected to ${conn.remotePeer.toString()} in ${(connectSeconds * 1000).toFixed(1)} ms (${conn.encryption}, ${conn.multiplexer})\n` +
        `upload:   ${formatBytes(res.uploadBytes)} in ${res.uploadSeconds.toFixed(3)} s  ${formatRate(bitsPerSecond(res.uploadBytes, res.uploadSeconds))}\n` +
        `download: ${formatBytes(res.downloadBytes)} in ${down.toFixed(3)} s  ${formatRate(bitsPerSecond(res.downloadBytes, down))}` +
        `${res.firstByteSeconds !== undefined ? ` (first byte after ${(res.firstByteSeconds * 1000).toFixed(1)} ms)` : ''}\n` +
        `total:    ${res.final.timeSeconds.toFixed(3)} s including the connection\n`)
    }
  } finally {
    stopBar()
    await node.stop()
  }
}

/** Adds `lp2p perf` to the program. */
export function registerPerfCommand (program: Command): void {
  addNodeSecurityFlags(program.command('perf'))
    .description('measure throughput with /perf/1.0.0 (libp2p perf runner compatible)')
    .option('--run-server', 'serve perf until interrupted')
    .option('--server-address <address>', 'host:port (or a multiaddr): where the server listens or is dialed')
    .option('--transport <name>', `transport: ${TRANSPORTS.join(', ')}`, 'tcp')
    .option('--upload-bytes <n>', 'bytes to upload (client)', parseByteCount, 0)
    .option('--download-bytes <n>', 'bytes to download (client)', parseByteCount, 0)
    .option('-k, --key <file>', 'server identity key file (default: the runner\'s fixed key)')
    .option('--server-peer-id <id>', `the server's peer id when not in the address (default ${PERF_RUNNER_PEER_ID})`)
    .option('--max-response-bytes <n>', 'server: largest download served (default 2^64-1, as the spec allows)')
    .option('--block-size <n>', 'bytes per write', parseByteCount, DEFAULT_PERF_BLOCK_SIZE)
    .option('--report-interval <ms>', 'ms between intermediary reports', positiveInt, DEFAULT_REPORT_INTERVAL)
    .action(async (opts: PerfCommandOptions) => {
      if (opts.serverAddress === undefined) throw new InvalidArgumentError('--server-address is required')
      if (!TRANSPORTS.includes(opts.transport)) {
        throw new InvalidArgumentError(`--transport ${opts.transport} is not supported (supported: ${TRANSPORTS.join(', ')})`)
      }
      if (opts.runServer === true) await runServer(opts, opts.serverAddress)
      else await runClient(opts, parseServerAddress(opts.serverAddress, opts.transport))
    })
}
