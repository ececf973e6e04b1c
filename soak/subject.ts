/**
 * The node under soak: an lp2p listener (TCP, Noise + yamux, identify, ping, echo),
 * run from the sources with `--expose-gc`, driven over IPC (`bench/peers/rpc.ts`).
 * `sample` is taken at a quiet point (no connection left): two full collections,
 * then the heap, RSS, active handles (`process.getActiveResourcesInfo()`), open file
 * descriptors (`/proc/self/fd`) and the event-loop delay seen since the last sample.
 */
import { readdirSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createNode, type Lp2pNode } from '../src/node.js'
import { ECHO_PROTOCOL, handleEcho } from '../src/protocols/echo.js'
import { serve } from '../bench/peers/rpc.js'

let node: Lp2pNode | undefined
/** Sampled every 10 ms; figures are the delay beyond that period. */
const RESOLUTION_MS = 10
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
delay.enable()
const gc = (globalThis as { gc?: () => void }).gc

serve({
  async listen () {
    // One address per churn loop (127.0.0.1-8): a node shares one connection between
    // dials of the same address, and each loop closes its own connections.
    node = createNode({ listen: Array.from({ length: 8 }, (_, i) => `/ip4/127.0.0.${i + 1}/tcp/0`), limits: { maxConnections: 1000 } })
    node.handle(ECHO_PROTOCOL, (stream) => { handleEcho(stream) }, { maxInboundStreams: 256 })
    await node.start()
    return { addrs: node.getMultiaddrs().map((a) => a.toString()) }
  },

  connections () {
    return node?.getConnections().length ?? 0
  },

  sample () {
    if (gc === undefined) throw new Error('the subject needs --expose-gc')
    gc()
    gc()
    const m = process.memoryUsage()
    const s = {
      heap: m.heapUsed,
      external: m.external + m.arrayBuffers,
      rss: m.rss,
      handles: process.getActiveResourcesInfo().length,
      fds: readdirSync('/proc/self/fd').length,
      delayP99: Math.max(0, delay.percentile(99) / 1e6 - RESOLUTION_MS),
      delayMax: Math.max(0, delay.max / 1e6 - RESOLUTION_MS),
      connections: node?.getConnections().length ?? 0
    }
    delay.reset()
    return s
  },

  async stop () {
    await node?.stop()
    return null
  }
})
