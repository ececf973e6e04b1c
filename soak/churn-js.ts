/**
 * A js-libp2p 3.x churner for the soak (`soak/main.ts`): loops that open fresh
 * connections to the subject, echo a stream of random size or abort the connection
 * mid-transfer, and close. Noise + yamux, as js-libp2p ships them.
 *
 * One js-libp2p node per loop: a js-libp2p 3.3.11 node that holds several
 * connections to one peer at once closes the streams of all but one of them (3 of 4
 * echoes fail, measured here against js-libp2p itself as much as against lp2p).
 */
import '../test/interop/polyfill.js'
import { randomBytes } from 'node:crypto'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { serve } from '../bench/peers/rpc.js'

type Chunk = Uint8Array | { subarray: () => Uint8Array, byteLength: number }
const nodes: Libp2p[] = []
const stats = { connections: 0, streams: 0, bytes: 0, aborts: 0, errors: 0 }

async function echo (stream: Stream, size: number): Promise<void> {
  const data = randomBytes(size)
  let got = 0
  const echoed = new Promise<void>((resolve, reject) => {
    stream.addEventListener('message', (evt) => {
      got += (evt as unknown as { data: Chunk }).data.byteLength
      if (got >= size) resolve()
    })
    stream.addEventListener('close', () => { if (got < size) reject(new Error('echo: the stream closed early')) })
  })
  echoed.catch(() => {}) // awaited below; a send that throws first must not leave it unhandled
  for (let off = 0; off < size; off += 64 * 1024) {
    if (!stream.send(data.subarray(off, off + 64 * 1024))) await stream.onDrain()
  }
  await echoed
  await stream.close()
  stats.bytes += size
}

async function once (n: Libp2p, addr: string): Promise<void> {
  const conn = await n.dial(multiaddr(addr), { force: true })
  stats.connections++
  try {
    const stream = await conn.newStream('/echo/1.0.0')
    stats.streams++
    if (Math.random() < 0.2) {
      stream.send(randomBytes(256 * 1024))
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5))
      stats.aborts++
      conn.abort(new Error('soak: abort mid-transfer'))
      return
    }
    await echo(stream, 1 + Math.floor(Math.random() * 128 * 1024))
  } catch (err) {
    countError(err)
  }
  await conn.close().catch(() => {})
}

/** Errors by code (or message), to tell expected races from failures. */
const errorKinds: Record<string, number> = {}
function countError (err: unknown): void {
  stats.errors++
  const e = err as { code?: string, message?: string }
  const kind = e.code ?? (e.message ?? String(err)).slice(0, 60)
  errorKinds[kind] = (errorKinds[kind] ?? 0) + 1
}

serve({
  async start ({ loops }: { loops: number }) {
    for (let i = 0; i < loops; i++) {
      nodes.push(await createLibp2p({
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { identify: identify(), ping: ping() },
        connectionManager: { maxConnections: 1000 }
      }))
    }
    return null
  },

  async run ({ addrs, seconds, loops }: { addrs: string[], seconds: number, loops: number }) {
    const end = Date.now() + seconds * 1000
    await Promise.all(Array.from({ length: loops }, async (_, i) => {
      const addr = addrs[(addrs.length - 1 - i) % addrs.length] as string
      const n = nodes[i] as Libp2p
      while (Date.now() < end) await once(n, addr).catch(countError)
    }))
    await Promise.all(nodes.flatMap((n) => n.getConnections()).map(async (c) => { await c.close().catch(() => {}) }))
    return { ...stats, errorKinds }
  },

  async stop () {
    await Promise.all(nodes.map(async (n) => { await n.stop() }))
    return null
  }
})
