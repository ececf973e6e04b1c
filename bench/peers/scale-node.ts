/**
 * One process of the scale measure (`bench/scale.ts`): the node under measure (a
 * listener serving `/echo/1.0.0`) or a dialer that opens and holds connections and
 * streams to it, then churns them. The compiled package, as users run it; driven over
 * IPC (`rpc.ts`).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createNode, type Lp2pNode } from '../../dist/src/node.js'
import { tcp } from '../../dist/src/transport/tcp.js'
import { ECHO_PROTOCOL, handleEcho } from '../../dist/src/protocols/echo.js'
import type { Connection, Stream } from '../../dist/src/interfaces/connection.js'
import { serve } from './rpc.js'

let node: Lp2pNode | undefined
const held = new Map<Connection, Stream[]>()
const delay = monitorEventLoopDelay({ resolution: 10 })
delay.enable()
const gc = (globalThis as { gc?: () => void }).gc

/** Runs `n` tasks, `concurrency` at a time. */
async function pool (n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) await task(next++)
  }))
}

/** An echo stream, proven with a 1-byte echo, then held open. */
async function openStream (conn: Connection): Promise<Stream> {
  const s = await conn.newStream(ECHO_PROTOCOL)
  await new Promise<void>((resolve, reject) => {
    s.once('data', () => { resolve() })
    s.once('error', reject)
    s.write(Buffer.from([1]))
  })
  return s
}

async function connectOne (addr: string, perConnection: number): Promise<void> {
  const conn = await (node as Lp2pNode).dial(addr)
  const streams: Stream[] = []
  for (let i = 0; i < perConnection; i++) streams.push(await openStream(conn))
  held.set(conn, streams)
}

serve({
  async listen ({ maxConnections }: { maxConnections: number }) {
    node = createNode({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      // The two settings the measure changes: the node's limit, and the TCP
      // listener's own cap of 4096, which ignores it until the limits are unified.
      limits: { maxConnections, maxPendingInbound: 256 },
      transports: [tcp({ maxListenerConnections: maxConnections })]
    })
    node.handle(ECHO_PROTOCOL, (stream) => { handleEcho(stream) }, { maxInboundStreams: 64 })
    await node.start()
    return { addr: node.getMultiaddrs()[0]?.toString().split('/p2p/')[0] }
  },

  async dialer ({ maxConnections }: { maxConnections: number }) {
    node = createNode({ limits: { maxConnections } })
    await node.start()
    return null
  },

  async connect ({ addr, count, concurrency }: { addr: string, count: number, concurrency: number }) {
    await pool(count, concurrency, async () => { await connectOne(addr, 0) })
    return held.size
  },

  async streams ({ perConnection, concurrency }: { perConnection: number, concurrency: number }) {
    const conns = [...held.keys()]
    await pool(conns.length * perConnection, concurrency, async (i) => {
      const conn = conns[i % conns.length] as Connection
      ;(held.get(conn) as Stream[]).push(await openStream(conn))
    })
    return null
  },

  /** Replaces `fraction` of the held connections per second (with their streams), for `seconds`. */
  async churn ({ addr, seconds, fraction, perConnection }: { addr: string, seconds: number, fraction: number, perConnection: number }) {
    const perSecond = Math.max(1, Math.round(held.size * fraction))
    const end = Date.now() + seconds * 1000
    let replaced = 0
    let failed = 0
    await pool(Number.MAX_SAFE_INTEGER, 50, async () => {
      if (Date.now() >= end) throw new Stop()
      const [conn] = held.keys()
      if (conn === undefined) throw new Stop()
      held.delete(conn)
      await conn.close().catch(() => {})
      try {
        await connectOne(addr, perConnection)
        replaced++
      } catch {
        failed++
      }
      // Pace to the target rate: each of the 50 workers takes 50/perSecond s per connection.
      const pace = 50 / perSecond * 1000
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, pace - 1)))
    }).catch((err: unknown) => { if (!(err instanceof Stop)) throw err })
    return { replaced, failed }
  },

  resetDelay () {
    delay.reset()
    return null
  },

  stats ({ gc: collect }: { gc: boolean }) {
    if (collect) { gc?.(); gc?.() }
    const m = process.memoryUsage()
    const conns = node?.getConnections() ?? []
    return {
      rss: m.rss,
      heap: m.heapUsed,
      connections: conns.length,
      streams: conns.reduce((n, c) => n + c.streams.length, 0),
      delayP50: delay.percentile(50) / 1e6,
      delayP99: delay.percentile(99) / 1e6,
      delayMax: delay.max / 1e6
    }
  }
})

class Stop extends Error {}
