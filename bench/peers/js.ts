/**
 * The js-libp2p 3.x benchmark peer (started by `bench/main.ts`): TCP + Noise + yamux
 * (@chainsafe/libp2p-noise 17, @chainsafe/libp2p-yamux 8) with identify and ping, as a
 * js-libp2p application gets them, serving perf and echo.
 *
 * `@libp2p/perf` is not in the registry reachable here, so the perf protocol
 * (`specs/perf.md`) is written below over js-libp2p's own stream API, the way its
 * `@libp2p/perf` does: 64 KiB writes of one reused buffer with `send()`/`onDrain()`.
 *
 * Limits raised so that they do not throttle the benchmark (each is a policy, not a
 * cost): `inboundConnectionThreshold` (default 5 new connections per second per host:
 * every bench connection comes from 127.0.0.1), `maxIncomingPendingConnections`
 * (default 10; lp2p's is 64, set the same here), and `maxConnections` (default 300).
 */
import '../../test/interop/polyfill.js'
import { performance } from 'node:perf_hooks'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { ping as pingService } from '@libp2p/ping'
import { identify } from '@libp2p/identify'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, Stream } from '@libp2p/interface'
import { servePeer, type BenchConn, type Impl, type StackChoice } from './scenarios.js'

const PERF = '/perf/1.0.0'
const ECHO = '/echo/1.0.0'
const PING = '/ipfs/ping/1.0.0'
const BLOCK = new Uint8Array(64 * 1024)

let node: Libp2p | undefined

type Chunk = Uint8Array | { subarray: () => Uint8Array, byteLength: number }

async function sendBytes (stream: Stream, total: number): Promise<void> {
  for (let left = total; left > 0;) {
    const n = Math.min(left, BLOCK.length)
    left -= n
    if (!stream.send(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) await stream.onDrain()
  }
}

/** perf server: header, drain the upload to the half-close, send, close. */
async function handlePerf (stream: Stream): Promise<void> {
  const header: Uint8Array[] = []
  let have = 0
  for await (const chunk of stream as AsyncIterable<Chunk>) {
    if (have < 8) {
      const b = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      header.push(b)
      have += b.byteLength
    }
  }
  if (have < 8) {
    stream.abort(new Error('short perf header'))
    return
  }
  const size = Buffer.concat(header).readBigUInt64BE(0)
  await sendBytes(stream, size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size))
  await stream.close()
}

async function handleEcho (stream: Stream): Promise<void> {
  for await (const chunk of stream as AsyncIterable<Chunk>) {
    if (!stream.send(chunk instanceof Uint8Array ? chunk : chunk.subarray())) await stream.onDrain()
  }
  await stream.close()
}

function wrap (conn: Connection): BenchConn {
  return {
    async perf (uploadBytes, downloadBytes) {
      const opened = performance.now()
      const stream = await conn.newStream(PERF)
      let firstByteAt: number | undefined
      let got = 0
      const reading = (async () => {
        for await (const chunk of stream as AsyncIterable<Chunk>) {
          firstByteAt ??= performance.now()
          got += chunk.byteLength
        }
      })()
      const header = Buffer.alloc(8)
      header.writeBigUInt64BE(BigInt(downloadBytes), 0)
      stream.send(header)
      await sendBytes(stream, uploadBytes)
      await stream.close()
      await reading
      if (got !== downloadBytes) throw new Error(`perf: got ${got} of ${downloadBytes} bytes`)
      return { streamSeconds: (performance.now() - opened) / 1000, firstByteAt }
    },
    async ping () {
      // What @libp2p/ping's ping() does, on this connection rather than "any to the peer".
      const stream = await conn.newStream(PING)
      const data = crypto.getRandomValues(new Uint8Array(32))
      await new Promise<void>((resolve, reject) => {
        let got = 0
        const onPong = (evt: { data: { byteLength: number } }): void => {
          got += evt.data.byteLength
          if (got >= 32) {
            stream.removeEventListener('message', onPong as never)
            resolve()
          }
        }
        stream.addEventListener('message', onPong as never)
        stream.addEventListener('close', () => { if (got < 32) reject(new Error('ping stream closed')) })
        stream.send(data)
        stream.close().catch(reject)
      })
    },
    async echo1 () {
      const stream = await conn.newStream(ECHO)
      await new Promise<void>((resolve, reject) => {
        const onMessage = (): void => {
          stream.removeEventListener('message', onMessage)
          resolve()
        }
        stream.addEventListener('message', onMessage)
        stream.addEventListener('close', () => { reject(new Error('echo stream closed')) })
        stream.send(new Uint8Array([1]))
      })
      await stream.close()
    },
    async close () {
      await conn.close()
    }
  }
}

/** This peer runs Noise + yamux, the pair the side-by-side rows compare. */
function defaultStackOnly (options: StackChoice): void {
  if ((options.security ?? 'noise') !== 'noise' || (options.muxer ?? 'yamux') !== 'yamux' || (options.transport ?? 'tcp') !== 'tcp') {
    throw new Error(`the js-libp2p bench peer runs TCP + noise + yamux only, not ${options.transport ?? 'tcp'} + ${options.security ?? 'noise'} + ${options.muxer ?? 'yamux'}`)
  }
}

async function start (listen: string[], maxConnections: number): Promise<Libp2p> {
  const n = await createLibp2p({
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { ping: pingService(), identify: identify() },
    connectionManager: { maxConnections, inboundConnectionThreshold: Infinity, maxIncomingPendingConnections: 64 }
  })
  return n
}

const impl: Impl = {
  name: 'js-libp2p',
  async listen (host, options) {
    defaultStackOnly(options)
    node = await start([`/ip4/${host}/tcp/0`], options.maxConnections)
    await node.handle(PERF, async (stream) => { await handlePerf(stream) }, { maxInboundStreams: 8 })
    await node.handle(ECHO, async (stream) => { await handleEcho(stream) }, { maxInboundStreams: 64 })
    const addr = node.getMultiaddrs()[0]
    if (addr === undefined) throw new Error('not listening')
    return { port: Number(/\/tcp\/(\d+)/.exec(addr.toString())?.[1]), peerId: node.peerId.toString() }
  },
  async startDialer (options) {
    defaultStackOnly(options)
    node = await start([], options.maxConnections)
  },
  async dial (host, port) {
    if (node === undefined) throw new Error('no node')
    return wrap(await node.dial(multiaddr(`/ip4/${host}/tcp/${port}`), { force: true }))
  }
}

servePeer(impl)
