/**
 * One end of a fault scenario, run in its own network namespace by `harness.ts` and
 * driven over IPC (the bench's process protocol, `bench/peers/rpc.ts`). It runs an
 * lp2p node from the sources (a listener serving `/echo/1.0.0` plus a plain TCP echo
 * server beside it, or a dialer), and does sha256-checked echo transfers over lp2p or
 * over plain TCP on the same link.
 *
 * The transfer data is AES-128-CTR keystream from a seed: as random as the wire gets,
 * reproducible, made chunk by chunk (no 64 MiB buffer), hashed as it is written and as
 * its echo is read.
 */
import { createCipheriv, createHash } from 'node:crypto'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Duplex } from 'node:stream'
import { createNode, type Lp2pNode } from '../../src/node.js'
import { yamux } from '../../src/muxer/yamux/index.js'
import type { YamuxOptions } from '../../src/muxer/yamux/config.js'
import type { NodeOptions } from '../../src/node-options.js'
import { privateKeyFromProtobuf } from '../../src/identity/keys.js'
import { ECHO_PROTOCOL, handleEcho } from '../../src/protocols/echo.js'
import { serve } from '../../bench/peers/rpc.js'

export interface NodeConfig {
  yamux?: YamuxOptions
  timeouts?: NodeOptions['timeouts']
  /** Private key protobuf, hex: a restarted listener keeps its peer id. */
  key?: string
  /** Listen here (listener), e.g. `/ip4/10.77.0.2/tcp/0`. */
  listen?: string
}

export interface EchoResult {
  ok: boolean
  bytes: number
  ms: number
  sentSha: string
  receivedSha: string
  /** The error's code (or name) and message, when the transfer failed. */
  error?: { code: string, message: string }
}

export interface CloseEvent { at: number, code: string | undefined, message: string | undefined }

const CHUNK = 64 * 1024
let node: Lp2pNode | undefined
let tcpServer: net.Server | undefined
const closes: CloseEvent[] = []
/** Streams opened with `open`, by name, for transfers that start later. */
const streams = new Map<string, Duplex>()

function keystream (seed: number): (n: number) => Buffer {
  const key = createHash('sha256').update(`lp2p-faults-${seed}`).digest().subarray(0, 16)
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  const zeros = Buffer.alloc(CHUNK)
  return (n) => cipher.update(zeros.subarray(0, n))
}

/** Writes `bytes` of seeded data to `stream` and reads its echo, hashing both. */
async function echoOver (stream: Duplex, bytes: number, seed: number, started = performance.now()): Promise<EchoResult> {
  const sent = createHash('sha256')
  const received = createHash('sha256')
  const next = keystream(seed)
  let got = 0
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => { received.update(chunk); got += chunk.byteLength })
    stream.once('end', () => { resolve() })
    stream.once('error', reject)
    stream.once('close', () => { got >= bytes ? resolve() : reject(Object.assign(new Error(`closed after ${got} of ${bytes} bytes`), { code: 'ERR_CLOSED_EARLY' })) })
  })
  const write = async (): Promise<void> => {
    for (let left = bytes; left > 0;) {
      const n = Math.min(CHUNK, left)
      const chunk = next(n)
      sent.update(chunk)
      left -= n
      if (!stream.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = (): void => { stream.off('close', onClose); resolve() }
          const onClose = (): void => { stream.off('drain', onDrain); reject(new Error('closed while writing')) }
          stream.once('drain', onDrain)
          stream.once('close', onClose)
        })
      }
    }
    stream.end()
  }
  try {
    await Promise.all([write(), done])
    const ms = performance.now() - started
    const s = sent.digest('hex')
    const r = received.digest('hex')
    return { ok: s === r && got === bytes, bytes: got, ms, sentSha: s, receivedSha: r }
  } catch (err) {
    const e = err as { code?: string, name?: string, message?: string }
    stream.destroy()
    return { ok: false, bytes: got, ms: performance.now() - started, sentSha: '', receivedSha: '', error: { code: e.code ?? e.name ?? 'Error', message: e.message ?? String(err) } }
  }
}

async function startNode (config: NodeConfig): Promise<Lp2pNode> {
  const n = createNode({
    streamMuxers: [yamux(config.yamux ?? {})],
    ...(config.timeouts !== undefined ? { timeouts: config.timeouts } : {}),
    ...(config.key !== undefined ? { privateKey: privateKeyFromProtobuf(Buffer.from(config.key, 'hex')) } : {}),
    ...(config.listen !== undefined ? { listen: [config.listen] } : {})
  })
  n.handle(ECHO_PROTOCOL, (stream) => { handleEcho(stream) })
  n.on('connection:close', (_c, err) => {
    const e = err as { code?: string, message?: string } | undefined
    closes.push({ at: performance.timeOrigin + performance.now(), code: e?.code, message: e?.message })
  })
  await n.start()
  node = n
  return n
}

function errorResult (err: unknown, started: number): EchoResult {
  const e = err as { code?: string, name?: string, message?: string }
  return { ok: false, bytes: 0, ms: performance.now() - started, sentSha: '', receivedSha: '', error: { code: e.code ?? e.name ?? 'Error', message: e.message ?? String(err) } }
}

serve({
  async listen (config: NodeConfig) {
    const n = await startNode(config)
    const host = (config.listen ?? '').split('/')[2] ?? '0.0.0.0'
    tcpServer = net.createServer((socket) => { socket.pipe(socket) })
    await new Promise<void>((resolve) => { (tcpServer as net.Server).listen(0, host, resolve) })
    return { addrs: n.getMultiaddrs().map(String), tcpPort: (tcpServer.address() as net.AddressInfo).port, peerId: n.peerId.toString() }
  },

  async dialer (config: NodeConfig) {
    const n = await startNode(config)
    return { peerId: n.peerId.toString() }
  },

  /** An lp2p echo of `bytes` to `addr` (a new or reused connection). */
  async echo ({ addr, bytes, seed }: { addr: string, bytes: number, seed: number }): Promise<EchoResult> {
    const started = performance.now()
    try {
      const stream = await (node as Lp2pNode).dialProtocol(addr, ECHO_PROTOCOL)
      return await echoOver(stream, bytes, seed, started)
    } catch (err) {
      return errorResult(err, started)
    }
  },

  /** Opens an echo stream and proves it with a 1-byte echo; `transfer` uses it later. */
  async open ({ addr, name }: { addr: string, name: string }) {
    const stream = await (node as Lp2pNode).dialProtocol(addr, ECHO_PROTOCOL)
    await new Promise<void>((resolve, reject) => {
      stream.once('data', () => { resolve() })
      stream.once('error', reject)
      stream.write(Buffer.from([0]))
    })
    streams.set(name, stream)
    return null
  },

  async transfer ({ name, bytes, seed }: { name: string, bytes: number, seed: number }): Promise<EchoResult> {
    const stream = streams.get(name)
    if (stream === undefined) throw new Error(`no stream ${name}`)
    streams.delete(name)
    return await echoOver(stream, bytes, seed)
  },

  /** The same echo over plain TCP on the same link: the reference time. */
  async tcpEcho ({ host, port, bytes, seed }: { host: string, port: number, bytes: number, seed: number }): Promise<EchoResult> {
    const started = performance.now()
    const socket = net.connect({ host, port, noDelay: true })
    try {
      await new Promise<void>((resolve, reject) => { socket.once('connect', resolve).once('error', reject) })
    } catch (err) {
      socket.destroy()
      return errorResult(err, started)
    }
    return await echoOver(socket, bytes, seed, started)
  },

  connections () {
    return (node as Lp2pNode).getConnections().map((c) => ({ id: c.id, status: c.status, remotePeer: c.remotePeer.toString() }))
  },

  /** Connection close events so far, with their error codes and times (epoch ms). */
  closes () {
    return closes.splice(0)
  },

  now () {
    return performance.timeOrigin + performance.now()
  },

  /**
   * Stops the node and the TCP server, then lets the IPC channel go: the process must
   * now exit by itself (a leaked socket, server or timer would keep it alive). Returns
   * what Node still counts as active right after the stop.
   */
  async stop () {
    await node?.stop()
    await new Promise<void>((resolve) => { tcpServer === undefined ? resolve() : tcpServer.close(() => { resolve() }) })
    for (const s of streams.values()) s.destroy()
    setImmediate(() => {
      process.removeAllListeners('disconnect')
      process.channel?.unref()
    })
    return { resources: process.getActiveResourcesInfo() }
  }
})
