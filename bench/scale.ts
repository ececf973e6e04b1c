/**
 * `node --import tsx bench/scale.ts [--connections 10000] [--streams 10] [--dialers 4]`:
 * one lp2p node holding 10 000 connections and 100 000 streams, and a churn on top.
 *
 * The node (`peers/scale-node.ts`, the compiled package, Node's default V8 flags) listens
 * on loopback with `limits.maxConnections` raised above the target and, because the TCP
 * transport still caps a listener at 4096 connections of its own
 * (`TcpOptions.maxListenerConnections`; the connection management issue folds that
 * cap into the one limits model), that option raised too: the only two settings
 * changed. Dialer processes (the same program) open the connections 16 at a time each
 * (16 workers per process, each on its own loopback address of the node, since a node
 * joins concurrent dials to one address), then `--streams` echo streams per connection (negotiated and proven with a 1-byte
 * echo, then held open). The node needs one descriptor per connection: the measure
 * refuses to start when the open-file limit (`ulimit -n`, 20 000 here) is too low.
 *
 * Measured on the node: the time to open all connections and all streams; RSS and
 * JS heap per connection and per stream (after full collections, against the idle
 * node); event-loop delay while everything is held (yamux keep-alive pings included,
 * one exchange per 10 s of silence per connection); then a churn attempting 10% of the
 * connections per second (each replaced connection brings its streams), reporting the
 * rate achieved and the event-loop delay under it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { execFileSync } from 'node:child_process'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const MiB = 1024 * 1024

interface Reply { id: number, ok: boolean, result?: unknown, error?: string }

/** A scale-node process over IPC (the bench's process protocol, `peers/rpc.ts`). */
class Proc {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  #next = 1
  readonly ready: Promise<void>

  constructor (readonly label: string) {
    this.#child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(HERE, 'peers', 'scale-node.ts')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      cwd: path.join(HERE, '..')
    })
    this.ready = new Promise((resolve, reject) => {
      this.#pending.set(0, { resolve: () => { resolve() }, reject })
    })
    this.#child.on('message', (m: Reply) => {
      const p = this.#pending.get(m.id)
      if (p === undefined) return
      this.#pending.delete(m.id)
      if (m.ok) p.resolve(m.result)
      else p.reject(new Error(`${label}: ${m.error ?? 'failed'}`))
    })
    this.#child.on('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`${label} exited (${code})`))
      this.#pending.clear()
    })
  }

  async call<T> (cmd: string, args: unknown = {}): Promise<T> {
    const id = this.#next++
    return await new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: (v) => { resolve(v as T) }, reject })
      this.#child.send({ id, cmd, args })
    })
  }

  stop (): void {
    this.#child.kill('SIGTERM')
  }
}

interface NodeStats { rss: number, heap: number, connections: number, streams: number, delayP50: number, delayP99: number, delayMax: number }

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '10000' },
      streams: { type: 'string', default: '10' },
      dialers: { type: 'string', default: '4' },
      hold: { type: 'string', default: '30' },
      churn: { type: 'string', default: '30' }
    }
  })
  const total = Number(values.connections)
  const perConn = Number(values.streams)
  const dialerCount = Number(values.dialers)
  const holdS = Number(values.hold)
  const churnS = Number(values.churn)
  const nofile = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
  if (Number.isFinite(nofile) && nofile < total + 1000) {
    throw new RangeError(`the open-file limit is ${nofile}; ${total} connections need at least ${total + 1000} (ulimit -n)`)
  }
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore', cwd: path.join(HERE, '..') })
  const node = new Proc('scale-node')
  const dialers = Array.from({ length: dialerCount }, (_, i) => new Proc(`scale-dialer-${i}`))
  const out: Record<string, unknown> = { date: new Date().toISOString(), connections: total, streamsPerConnection: perConn, dialers: dialerCount, loadBefore: os.loadavg() }
  try {
    await Promise.all([node.ready, ...dialers.map(async (d) => { await d.ready })])
    const workers = 16 // dialing workers per dialer process, each on its own node address
    const { addrs } = await node.call<{ addrs: string[] }>('listen', { maxConnections: total + 1000, addresses: workers * dialerCount })
    const addrsOf = (i: number): string[] => addrs.slice(i * workers, (i + 1) * workers)
    await Promise.all(dialers.map(async (d) => { await d.call('dialer', { maxConnections: Math.ceil(total / dialerCount) + 500 }) }))
    const idle = await node.call<NodeStats>('stats', { gc: true })
    const share = Math.ceil(total / dialerCount)
    let t = performance.now()
    await Promise.all(dialers.map(async (d, i) => { await d.call('connect', { addrs: addrsOf(i), count: share }) }))
    const connectS = (performance.now() - t) / 1000
    // The node's last upgrades may finish a moment after the dialers' (at most 5 s).
    for (let i = 0; i < 50 && (await node.call<NodeStats>('stats', { gc: false })).connections < dialerCount * share; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const conns = await node.call<NodeStats>('stats', { gc: true })
    t = performance.now()
    await Promise.all(dialers.map(async (d) => { await d.call('streams', { perConnection: perConn, concurrency: 200 }) }))
    const streamS = (performance.now() - t) / 1000
    const held = await node.call<NodeStats>('stats', { gc: true })
    await node.call('resetDelay')
    await new Promise((resolve) => setTimeout(resolve, holdS * 1000))
    const holding = await node.call<NodeStats>('stats', { gc: false })
    await node.call('resetDelay')
    t = performance.now()
    const churned = await Promise.all(dialers.map(async (d, i) => await d.call<{ replaced: number, failed: number }>('churn', { addrs: addrsOf(i), seconds: churnS, fraction: 0.1, perConnection: perConn })))
    const churnTime = (performance.now() - t) / 1000
    const churning = await node.call<NodeStats>('stats', { gc: false })
    const replaced = churned.reduce((n, c) => n + c.replaced, 0)
    const failed = churned.reduce((n, c) => n + c.failed, 0)
    const r = {
      connectSeconds: connectS,
      connectionsPerSecond: conns.connections / connectS,
      streamSeconds: streamS,
      streamsPerSecond: held.streams / streamS,
      rssPerConnectionKiB: (conns.rss - idle.rss) / conns.connections / 1024,
      heapPerConnectionKiB: (conns.heap - idle.heap) / conns.connections / 1024,
      rssPerStreamKiB: (held.rss - conns.rss) / Math.max(1, held.streams) / 1024,
      heapPerStreamKiB: (held.heap - conns.heap) / Math.max(1, held.streams) / 1024,
      churnAttemptedPerSecond: 0.1 * total,
      churnAchievedPerSecond: replaced / churnTime,
      churnFailed: failed
    }
    const loadAfter = os.loadavg()
    Object.assign(out, { idle, conns, held, holding, churning, ...r, loadAfter })
    const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ')
    console.log(`scale: ${conns.connections} connections in ${connectS.toFixed(1)} s (${r.connectionsPerSecond.toFixed(0)}/s); ${held.streams} streams in ${streamS.toFixed(1)} s (${r.streamsPerSecond.toFixed(0)}/s)`)
    console.log(`scale: per connection ${r.rssPerConnectionKiB.toFixed(1)} KiB RSS, ${r.heapPerConnectionKiB.toFixed(1)} KiB heap; per stream ${r.rssPerStreamKiB.toFixed(2)} KiB RSS, ${r.heapPerStreamKiB.toFixed(2)} KiB heap`)
    console.log(`scale: node RSS idle ${(idle.rss / MiB).toFixed(0)} MiB, with connections ${(conns.rss / MiB).toFixed(0)} MiB, with streams ${(held.rss / MiB).toFixed(0)} MiB`)
    console.log(`scale: event-loop delay holding everything ${holdS} s: p50 ${holding.delayP50.toFixed(1)} ms, p99 ${holding.delayP99.toFixed(1)} ms, max ${holding.delayMax.toFixed(0)} ms`)
    console.log(`scale: churn attempting ${r.churnAttemptedPerSecond} connections/s (with ${perConn} streams each) for ${churnS} s: achieved ${r.churnAchievedPerSecond.toFixed(0)}/s, ${failed} failed; event-loop delay p50 ${churning.delayP50.toFixed(1)} ms, p99 ${churning.delayP99.toFixed(1)} ms, max ${churning.delayMax.toFixed(0)} ms`)
    console.log(`scale: load average before ${load(out.loadBefore as number[])}, after ${load(loadAfter)} (shared 2-core machine)`)
    writeFileSync(path.join(HERE, 'scale-results.json'), JSON.stringify(out, null, 2) + '\n')
  } finally {
    node.stop()
    for (const d of dialers) d.stop()
  }
}

main().catch((err: unknown) => { console.error(err); process.exitCode = 1 })
