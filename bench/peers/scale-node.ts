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
/** Sampled every 10 ms; figures are the delay beyond that period. */
const RESOLUTION_MS = 10
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
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
  async listen ({ maxConnections, addresses }: { maxConnections: number, addresses: number }) {
    node = createNode({
      // Many loopback addresses: a node joins concurrent dials to one address, so each
      // dialing worker needs an address of its own.
      listen: Array.from({ length: addresses }, (_, i) => `/ip4/127.0.${1 + (i >> 8)}.${1 + (i & 0xff)}/tcp/0`),
      // The two settings the measure changes: the node's limit, and the TCP
      // listener's own cap of 4096, which ignores it until the limits are unified.
      limits: { maxConnections, maxPendingInbound: 256 },
      transports: [tcp({ maxListenerConnections: maxConnections })]
    })
    node.handle(ECHO_PROTOCOL, (stream) => { handleEcho(stream) }, { maxInboundStreams: 64 })
    await node.start()
    return { addrs: node.getMultiaddrs().map((a) => a.toString().split('/p2p/')[0]) }
  },

  async dialer ({ maxConnections }: { maxConnections: number }) {
    node = createNode({ limits: { maxConnections } })
    await node.start()
    return null
  },

  /** `count` new connections, one worker per address, each dialing its address in turn. */
  async connect ({ addrs, count }: { addrs: string[], count: number }) {
    let left = count
    await Promise.all(addrs.map(async (addr) => {
      while (left > 0) {
        left--
        await connectOne(addr, 0)
      }
    }))
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

  /**
   * Replaces `fraction` of the held connections per second (each new one with its
   * streams), for `seconds`: one worker per address, paced to the target rate.
   */
  async churn ({ addrs, seconds, fraction, perConnection }: { addrs: string[], seconds: number, fraction: number, perConnection: number }) {
    const perSecond = Math.max(1, Math.round(held.size * fraction))
    const queue = [...held.keys()]
    const end = Date.now() + seconds * 1000
    const started = Date.now()
    let replaced = 0
    let failed = 0
    await Promise.all(addrs.map(async (addr) => {
      while (Date.now() < end) {
        // Pace: no worker runs ahead of the target rate.
        const due = started + (replaced + failed) / perSecond * 1000
        if (due > Date.now()) { await new Promise((resolve) => setTimeout(resolve, due - Date.now())); continue }
        const conn = queue.shift()
        if (conn === undefined) break
        // Its streams end first (half-close; the echo ends its side), so the graceful
        // close does not wait out the connection close timeout.
        for (const st of held.get(conn) ?? []) st.end()
        held.delete(conn)
        await conn.close().catch(() => {})
        try {
          await connectOne(addr, perConnection)
          replaced++
        } catch {
          failed++
        }
      }
    }))
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
      delayP50: Math.max(0, delay.percentile(50) / 1e6 - RESOLUTION_MS),
      delayP99: Math.max(0, delay.percentile(99) / 1e6 - RESOLUTION_MS),
      delayMax: Math.max(0, delay.max / 1e6 - RESOLUTION_MS)
    }
  }
})

