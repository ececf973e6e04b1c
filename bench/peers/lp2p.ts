/**
 * The lp2p benchmark peer (started by `bench/main.ts`): TCP + Noise + yamux with the
 * node's defaults (identify and ping on), serving perf and echo; TLS and/or mplex
 * instead, or QUIC, when the measure asks (`StackChoice`).
 */
import { performance } from 'node:perf_hooks'
import { multiaddr } from '@multiformats/multiaddr'
import { createNode, type Lp2pNode } from '../../dist/src/node.js'
import type { NodeOptions } from '../../dist/src/node-options.js'
import { mplex } from '../../dist/src/muxer/mplex/index.js'
import { tls } from '../../dist/src/security/tls/index.js'
import { secio } from '../../dist/src/security/secio/index.js'
import type { Connection } from '../../dist/src/interfaces/connection.js'
import { ECHO_PROTOCOL, handleEcho } from '../../dist/src/protocols/echo.js'
import { ping } from '../../dist/src/protocols/ping.js'
import { PERF_MAX_U64 } from '../../dist/src/protocols/perf-machine.js'
import { PERF_PROTOCOL, perfHandler, perfOnStream } from '../../dist/src/protocols/perf.js'
import { servePeer, type BenchConn, type Impl, type StackChoice } from './scenarios.js'

let node: Lp2pNode | undefined
/** The transport of this peer's node: set by listen/startDialer. */
let transport: StackChoice['transport'] = 'tcp'
const ONE = Buffer.from([1])

function wrap (conn: Connection): BenchConn {
  return {
    async perf (uploadBytes, downloadBytes) {
      const opened = performance.now()
      const stream = await conn.newStream(PERF_PROTOCOL)
      const res = await perfOnStream(stream, { uploadBytes, downloadBytes }, opened)
      const first = res.firstByteSeconds
      return { streamSeconds: res.streamSeconds, firstByteAt: first === undefined ? undefined : opened + first * 1000 }
    },
    async ping () {
      await ping(conn)
    },
    async echo1 () {
      const stream = await conn.newStream(ECHO_PROTOCOL)
      await new Promise<void>((resolve, reject) => {
        stream.once('data', () => { resolve() })
        stream.once('error', reject)
        stream.write(ONE)
      })
      stream.end()
      stream.resume()
    },
    async close () {
      await conn.close()
    }
  }
}

/** The private network key of the bench peers: any 32 bytes both sides share. */
const BENCH_PSK = new Uint8Array(32).fill(0x42)

/** The node's security and muxer: the defaults (Noise, yamux) unless the measure asks for others. */
function stack (choice: StackChoice): Pick<NodeOptions, 'connectionEncrypters' | 'streamMuxers' | 'psk'> {
  return {
    ...(choice.security === 'tls' ? { connectionEncrypters: [tls()] } : {}),
    ...(choice.security === 'secio' ? { connectionEncrypters: [secio()] } : {}),
    ...(choice.muxer === 'mplex' ? { streamMuxers: [mplex()] } : {}),
    ...(choice.pnet === true ? { psk: BENCH_PSK } : {})
  }
}

/** `/ip4/<host>/tcp/<port>`, or its QUIC twin. */
function address (host: string, port: number | string): string {
  return transport === 'quic-v1' ? `/ip4/${host}/udp/${port}/quic-v1` : `/ip4/${host}/tcp/${port}`
}

const impl: Impl = {
  name: 'lp2p',
  async listen (host, options) {
    transport = options.transport ?? 'tcp'
    node = createNode({ listen: [address(host, 0)], limits: { maxConnections: options.maxConnections, maxPendingInbound: 64 }, ...stack(options) })
    node.handle(PERF_PROTOCOL, perfHandler({ maxResponseBytes: PERF_MAX_U64 }), { maxInboundStreams: 8 })
    node.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) }, { maxInboundStreams: 64 })
    await node.start()
    const addr = node.getMultiaddrs()[0]
    if (addr === undefined) throw new Error('not listening')
    return { port: Number(/\/(?:tcp|udp)\/(\d+)/.exec(addr.toString())?.[1]), peerId: node.peerId.toString() }
  },
  async startDialer (options) {
    transport = options.transport ?? 'tcp'
    node = createNode({ limits: { maxConnections: options.maxConnections }, ...stack(options) })
    await node.start()
  },
  async dial (host, port) {
    if (node === undefined) throw new Error('no node')
    return wrap(await node.dial(multiaddr(address(host, port))))
  }
}

servePeer(impl)
