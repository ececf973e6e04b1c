/**
 * The node under attack: a real lp2p node (createNode, default security, muxer and
 * protocols) listening on TCP 127.0.0.1 port 0, and a second, well-behaved node that
 * checks it still serves.
 *
 * The node's TCP transport is the real one, observed: every inbound raw connection is
 * recorded with the moment its socket closed and the error it was destroyed with
 * (the typed error of a failed upgrade reaches `raw.destroy(err)`). Nothing is
 * replaced: the listener, the sockets and the channels are lp2p's own.
 */
import { performance } from 'node:perf_hooks'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createNode, type Lp2pNode } from '../../src/node.js'
import type { NodeOptions } from '../../src/node-options.js'
import type { ByteChannel } from '../../src/interfaces/channel.js'
import type { Connection } from '../../src/interfaces/connection.js'
import type { Transport } from '../../src/interfaces/transport.js'
import { tcp } from '../../src/transport/tcp.js'
import { SocketChannel } from '../../src/transport/socket-channel.js'
import { RawPeer, until, withTimeout } from './hostile.js'

export interface InboundRecord {
  readonly channel: ByteChannel
  readonly openedAt: number
  /** performance.now() when the node's socket closed. */
  closedAt: number | undefined
  /** The first error the node destroyed the raw channel with. */
  error: Error | undefined
  readonly closed: Promise<void>
}

/** The real TCP transport, with each inbound raw connection recorded (see module doc). */
export function observedTcp (records: InboundRecord[]): Transport {
  const inner = tcp()
  return {
    name: inner.name,
    canDial: (a) => inner.canDial(a),
    canListen: (a) => inner.canListen(a),
    dial: async (a, o) => await inner.dial(a, o),
    createListener: (init) => inner.createListener({
      ...init,
      onConnection: (raw) => {
        records.push(observe(raw))
        init.onConnection(raw)
      }
    })
  }
}

function observe (raw: ByteChannel): InboundRecord {
  let resolveClosed!: () => void
  const record: InboundRecord = {
    channel: raw,
    openedAt: performance.now(),
    closedAt: undefined,
    error: undefined,
    closed: new Promise<void>((resolve) => { resolveClosed = resolve })
  }
  const destroy = raw.destroy.bind(raw)
  raw.destroy = (err?: Error) => {
    record.error ??= err
    destroy(err)
  }
  const onClose = (): void => {
    record.closedAt ??= performance.now()
    resolveClosed()
  }
  if (raw instanceof SocketChannel) {
    if (raw.socket.destroyed) onClose()
    else raw.socket.once('close', onClose)
  }
  return record
}

/** Timeouts short enough for a fast suite, long enough to tell "at once" from "timed out". */
export const SUITE_TIMEOUTS = {
  inboundUpgrade: 3000,
  streamNegotiation: 3000,
  identify: 3000,
  dial: 3000,
  connectionClose: 1000
} as const

export class Target {
  readonly node: Lp2pNode
  readonly good: Lp2pNode
  readonly inbound: InboundRecord[]
  readonly port: number
  /** `/ip4/127.0.0.1/tcp/<port>/p2p/<id>`. */
  readonly addr: Multiaddr
  /** Connections that closed, with the error they closed with. */
  readonly closes: Array<{ connection: Connection, error: Error | undefined }> = []

  private constructor (node: Lp2pNode, good: Lp2pNode, inbound: InboundRecord[]) {
    this.node = node
    this.good = good
    this.inbound = inbound
    const a = node.getMultiaddrs()[0] as Multiaddr
    this.addr = a
    this.port = Number(a.toString().split('/')[4])
    node.on('connection:close', (connection, error) => { this.closes.push({ connection, error }) })
  }

  /** Starts the node (options merged over the suite's short timeouts) and the good peer. */
  static async start (options: NodeOptions = {}): Promise<Target> {
    const inbound: InboundRecord[] = []
    const node = createNode({
      ...options,
      transports: [observedTcp(inbound)],
      listen: ['/ip4/127.0.0.1/tcp/0'],
      timeouts: { ...SUITE_TIMEOUTS, ...options.timeouts }
    })
    await node.start()
    const good = createNode({ timeouts: { dial: 5000 } })
    await good.start()
    return new Target(node, good, inbound)
  }

  /** Inbound raw sockets still open on the node. */
  get openInbound (): number {
    return this.inbound.filter((r) => r.closedAt === undefined).length
  }

  /** The record of the n-th inbound connection (0-based), once it exists. */
  async inboundAt (n: number, ms = 2000): Promise<InboundRecord> {
    await until(() => this.inbound.length > n, ms, `inbound connection #${n}`)
    return this.inbound[n] as InboundRecord
  }

  /** Connects a raw hostile peer; resolves with it and the node's record of the connection. */
  async connect (): Promise<{ peer: RawPeer, record: InboundRecord }> {
    const n = this.inbound.length
    const peer = await RawPeer.connect(this.port)
    return { peer, record: await this.inboundAt(n) }
  }

  /**
   * Drops the records of closed connections and past close events, so that a test
   * measuring the node's memory does not count what the test itself keeps.
   */
  forgetClosed (): void {
    const open = this.inbound.filter((r) => r.closedAt === undefined)
    this.inbound.length = 0
    this.inbound.push(...open)
    this.closes.length = 0
  }

  /** The latest inbound record. */
  get lastInbound (): InboundRecord {
    const r = this.inbound[this.inbound.length - 1]
    if (r === undefined) throw new Error('no inbound connection yet')
    return r
  }

  /**
   * The well-behaved peer dials the node over a fresh connection, pings it and hangs
   * up: the node still serves. Returns the round-trip time.
   */
  async assertServes (ms = 5000): Promise<number> {
    const rtt = await withTimeout(this.good.ping(multiaddr(this.addr.toString())), ms, 'a ping from a well-behaved peer')
    await this.good.hangUp(this.node.peerId)
    return rtt
  }

  /** Waits until the node holds no connection and no inbound socket. */
  async assertBaseline (ms = 4000): Promise<void> {
    await until(() => this.node.getConnections().length === 0 && this.openInbound === 0, ms,
      `the node back to baseline (connections ${this.node.getConnections().length}, open inbound sockets ${this.openInbound})`)
  }

  async stop (): Promise<void> {
    await Promise.all([this.node.stop(), this.good.stop()])
  }
}
