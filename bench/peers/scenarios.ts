/**
 * The measurements a benchmark peer process runs, written once over an {@link Impl}
 * adapter so that lp2p (`lp2p.ts`) and js-libp2p (`js.ts`) run exactly the same timing
 * code; only the adapter calls differ. Everything is timed in the dialer process with
 * `performance.now()`.
 *
 * Every dial asks for a NEW connection: both stacks reuse an open connection to a known
 * peer, so dialers use bare addresses (no `/p2p/`) and js-libp2p gets `force: true`.
 * Concurrent dials also need distinct addresses (both stacks join concurrent dials to
 * the same address), so worker `i` dials `127.0.0.<i+1>`: all of 127/8 is loopback.
 */
import { connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'
import { echoLoop, plainEcho, startEchoServer } from './echo-loop.js'
import { serve } from './rpc.js'
import { sealedEcho } from './sealed-echo.js'

export interface PerfTiming {
  /** Seconds from opening the stream until the server's close. */
  streamSeconds: number
  /** `performance.now()` when the first response byte arrived (if any was asked). */
  firstByteAt: number | undefined
}

export interface BenchConn {
  /** The perf client on a new stream. */
  perf (uploadBytes: number, downloadBytes: number): Promise<PerfTiming>
  /** One `/ipfs/ping/1.0.0` round trip on a new stream of this connection. */
  ping (): Promise<void>
  /** Opens an `/echo/1.0.0` stream, echoes 1 byte, half-closes. */
  echo1 (): Promise<void>
  close (): Promise<void>
}

/**
 * The security protocol and muxer a node offers (the default: Noise and yamux), and
 * whether it is in a private network (both bench peers then share one fixed PSK).
 * Only lp2p runs the others in the benchmark; js-libp2p 3 refuses them.
 */
export interface StackChoice {
  security?: 'noise' | 'tls' | 'secio'
  muxer?: 'yamux' | 'mplex'
  pnet?: boolean
  /** `quic-v1`: QUIC, whose security and streams are built in (security and muxer then unused). */
  transport?: 'tcp' | 'quic-v1'
}

export interface NodeOptions extends StackChoice {
  maxConnections: number
}

export interface Impl {
  readonly name: string
  /** Starts a node serving perf, echo, ping (and identify), on `host`, any port. */
  listen (host: string, options: NodeOptions): Promise<{ port: number, peerId: string }>
  /** Starts a node that only dials. */
  startDialer (options: NodeOptions): Promise<void>
  /** A new connection to the bare address `/ip4/<host>/tcp/<port>` (`/udp/<port>/quic-v1` over QUIC). */
  dial (host: string, port: number): Promise<BenchConn>
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * Failed attempts of a run: counted and reported (with the first message) rather than
 * ending the run, so that a stack's rare failure under load shows in the results
 * instead of voiding the measure.
 */
class Errors {
  count = 0
  first: string | undefined
  add (err: unknown): void {
    this.count++
    this.first ??= err instanceof Error ? err.message : String(err)
  }

  summary (): { failures: number, firstError?: string } {
    return { failures: this.count, ...(this.first !== undefined ? { firstError: this.first } : {}) }
  }
}

/** Runs `count` jobs on `workers` workers; `job(i, worker)`. */
async function pool (count: number, workers: number, job: (i: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(workers, count) }, async (_, w) => {
    while (next < count) await job(next++, w)
  }))
}

/** A host per worker: 127.0.0.1, 127.0.0.2, ... (or the one host given). */
function hostFor (host: string, worker: number): string {
  return host === '127.0.0.1' ? `127.0.0.${worker + 1}` : host
}

/**
 * Allocates ~100 MiB of objects that die at once: every page of the young generation's
 * semi-spaces is touched, so they are resident at each measurement and their size, not
 * how much of them earlier work happened to touch, is what RSS includes.
 */
function churn (): void {
  let keep: object[] = []
  for (let i = 0; i < 2_000_000; i++) {
    keep.push({ i })
    if (keep.length === 64) keep = []
  }
}

/**
 * Resident memory after a full garbage collection (the process runs with --expose-gc),
 * with the V8 heap per space: `spaces[name]` is [bytes committed, bytes in use], so
 * the breakdown can tell the young generation's semi-spaces (grown by the allocation
 * rate, not by what is kept) from the old generation that holds the connections.
 */
async function settledMemory (): Promise<NodeJS.MemoryUsage & { spaces: Record<string, [number, number]> }> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  churn()
  for (let i = 0; i < 3; i++) {
    gc()
    await sleep(50)
  }
  const spaces: Record<string, [number, number]> = {}
  for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = [s.physical_space_size, s.space_used_size]
  return { ...process.memoryUsage(), spaces }
}

/** The echo floors by name (`echo-loop.ts`). */
const ECHOES = { plain: plainEcho, sealed: sealedEcho }
export type EchoName = keyof typeof ECHOES

/** Serves the benchmark commands for `impl` over IPC. */
export function servePeer (impl: Impl): void {
  const held: BenchConn[] = []

  serve({
    /**
     * Starts the node, and beside it, when asked, the references with no libp2p: a
     * plain TCP echo server (`tcpEcho`: the delayed link's check and the streams
     * floor) and the same echo with every message sealed (`sealedEcho`: the streams
     * measure's encrypted floor).
     */
    async listen (a: NodeOptions & { host: string, tcpEcho?: boolean, sealedEcho?: boolean }) {
      const res = await impl.listen(a.host, a)
      return {
        ...res,
        ...(a.tcpEcho === true ? { tcpEchoPort: await startEchoServer(plainEcho, a.host) } : {}),
        ...(a.sealedEcho === true ? { sealedEchoPort: await startEchoServer(sealedEcho, a.host) } : {})
      }
    },

    async dialer (a: NodeOptions) {
      await impl.startDialer(a)
      return null
    },

    /** One perf run on a fresh connection; the connection setup is not timed. */
    async throughput (a: { host: string, port: number, upload: number, download: number }) {
      const conn = await impl.dial(a.host, a.port)
      try {
        const t = await conn.perf(a.upload, a.download)
        return { seconds: t.streamSeconds }
      } finally {
        await conn.close()
      }
    },

    /**
     * Fresh connections: dial + full upgrade + one ping round trip, then close; `total`
     * of them on `concurrency` workers. Latency: dial start to ping answer.
     */
    async conns (a: { host: string, port: number, total: number, concurrency: number }) {
      const latencies: number[] = []
      const errors = new Errors()
      const t0 = performance.now()
      await pool(a.total, a.concurrency, async (_, w) => {
        const start = performance.now()
        try {
          const conn = await impl.dial(hostFor(a.host, w), a.port)
          await conn.ping()
          latencies.push(performance.now() - start)
          await conn.close()
        } catch (err) {
          errors.add(err)
        }
      })
      return { seconds: (performance.now() - t0) / 1000, latencies, ...errors.summary() }
    },

    /** Streams on one connection: open + 1-byte echo, one after the other. */
    async streams (a: { host: string, port: number, total: number, warmup: number }) {
      const conn = await impl.dial(a.host, a.port)
      try {
        for (let i = 0; i < a.warmup; i++) await conn.echo1()
        const latencies: number[] = []
        const t0 = performance.now()
        for (let i = 0; i < a.total; i++) {
          const start = performance.now()
          await conn.echo1()
          latencies.push(performance.now() - start)
        }
        return { seconds: (performance.now() - t0) / 1000, latencies }
      } finally {
        await conn.close()
      }
    },

    /** Opens and keeps `count` connections (each pinged once, so both sides are set up). */
    async hold (a: { host: string, port: number, count: number, concurrency: number }) {
      const errors = new Errors()
      await pool(a.count, a.concurrency, async (_, w) => {
        try {
          const conn = await impl.dial(hostFor(a.host, w), a.port)
          held.push(conn)
          await conn.ping()
        } catch (err) {
          errors.add(err)
        }
      })
      return { held: held.length, ...errors.summary() }
    },

    async release () {
      const all = held.splice(0)
      await pool(all.length, 50, async (i) => { await (all[i] as BenchConn).close() })
      return null
    },

    /** CPU time used so far by this process, user + system, in microseconds. */
    async cpu () {
      const u = process.cpuUsage()
      return u.user + u.system
    },

    async memory () {
      return await settledMemory()
    },

    /**
     * Connection + first byte: from the dial's start to the first byte of a perf
     * response (no upload, `download` bytes asked), in ms.
     */
    async firstByte (a: { host: string, port: number, download: number }) {
      const start = performance.now()
      const conn = await impl.dial(a.host, a.port)
      try {
        const t = await conn.perf(0, a.download)
        return { ms: (t.firstByteAt as number) - start }
      } finally {
        await conn.close()
      }
    },

    /** The link check: plain TCP connect + 1-byte echo, in ms (2 RTT). */
    async tcpEcho (a: { host: string, port: number }) {
      return await new Promise((resolve, reject) => {
        const start = performance.now()
        const s = connect({ host: a.host, port: a.port, noDelay: true }, () => { s.write(Buffer.from([1])) })
        s.once('data', () => {
          const ms = performance.now() - start
          s.destroy()
          resolve({ ms })
        })
        s.once('error', reject)
        s.once('close', () => { reject(new Error('tcp echo: the connection closed before the answer')) })
      })
    },

    /**
     * The floors of the streams measure: `total` 1-byte echoes, one after the other,
     * over one TCP connection to the `codec` echo server (no libp2p).
     */
    async echoLoop (a: { host: string, port: number, total: number, codec: EchoName }) {
      return await echoLoop(a.host, a.port, a.total, ECHOES[a.codec])
    }
  })
}
