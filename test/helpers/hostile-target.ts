/**
 * The node under attack: a real lp2p node (createNode, default security, muxer and
 * protocols) listening on TCP 127.0.0.1 port 0, and a second, well-behaved node that
 * checks it still serves.
 *
 * The node's TCP transport is the real one, observed: every inbound raw connection is
 * recorded with the moment its socket closed and the error it was destroyed with
 * (the typed error of a failed upgrade reaches `raw.destroy(err)`). Nothing is
 * replaced: the listener, the sockets and the channels are lp2p's own.
 *
 * `Target.suite` gives a `describe` its target and the checks every case ends with;
 * `closedAtOnce` and `closedAtTimeout` the two ways a hostile connection is closed.
 */
import { after, afterEach, before } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createNode, type Lp2pNode } from '../../src/node.js'
import type { NodeOptions } from '../../src/node-options.js'
import type { ByteChannel } from '../../src/interfaces/channel.js'
import type { Connection } from '../../src/interfaces/connection.js'
import type { Transport } from '../../src/interfaces/transport.js'
import { tcp } from '../../src/transport/tcp.js'
import { SocketChannel } from '../../src/transport/socket-channel.js'
import type { PeerId } from '../../src/identity/index.js'
import { portOf } from './addr.js'
import { expectCode, installGuards, RawPeer, until, withTimeout } from './hostile.js'

export interface InboundRecord {
  readonly channel: ByteChannel
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

export interface SuiteOptions {
  /**
   * After each case, whether a well-behaved peer must be served (default true); the
   * limit suites check that inside their cases, where the node is full.
   */
  serves?: boolean
  /**
   * Runs first after each case, while the hostile peers are still connected: streams
   * a handler holds, or checks of what the case left before it is torn down.
   */
  settle?: () => void | Promise<void>
}

export class Target {
  readonly node: Lp2pNode
  readonly good: Lp2pNode
  readonly inbound: InboundRecord[] = []
  /** Connections that closed, with the error they closed with. */
  readonly closes: Array<{ connection: Connection, error: Error | undefined }> = []

  /** The node (options merged over the suite's short timeouts) and the good peer, not started. */
  private constructor (options: NodeOptions) {
    this.node = createNode({
      ...options,
      transports: [observedTcp(this.inbound)],
      listen: ['/ip4/127.0.0.1/tcp/0'],
      timeouts: { ...SUITE_TIMEOUTS, ...options.timeouts }
    })
    // The good peer is in the node's private network, if it has one.
    this.good = createNode({ timeouts: { dial: 5000 }, ...(options.psk !== undefined ? { psk: options.psk } : {}) })
    this.node.on('connection:close', (connection, error) => { this.closes.push({ connection, error }) })
  }

  /** Starts the node and the good peer. */
  static async start (options: NodeOptions = {}): Promise<Target> {
    const t = new Target(options)
    await t.node.start()
    await t.good.start()
    return t
  }

  /**
   * The target of the enclosing `describe`: started before its cases, stopped after
   * them, and after each case every raw peer destroyed, then the checks every
   * adversarial case ends with: the node back to baseline, serving a well-behaved
   * peer and back to baseline once it hung up, and no unhandled rejection or uncaught
   * exception in the process. Returned at once (not started) so a suite holds it in a
   * `const`.
   */
  static suite (options: NodeOptions = {}, suite: SuiteOptions = {}): Target {
    const guards = installGuards()
    const t = new Target(options)
    before(async () => {
      await t.node.start()
      await t.good.start()
    })
    after(async () => { await t.stop() })
    afterEach(async () => {
      try {
        await suite.settle?.()
      } finally {
        // A settle that failed leaves no hostile peer connected to the next case.
        RawPeer.destroyAll()
      }
      await t.assertBaseline()
      if (suite.serves ?? true) {
        await t.assertServes()
        await t.assertBaseline()
      }
      guards.check()
    })
    return t
  }

  /** `/ip4/127.0.0.1/tcp/<port>/p2p/<id>`, once started. */
  get addr (): Multiaddr {
    const addr = this.node.getMultiaddrs()[0]
    if (addr === undefined) throw new Error('the target is not listening (not started?)')
    return addr
  }

  get port (): number {
    return portOf(this.addr)
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

  /** Waits until the node holds a connection to `peer` (a hostile peer's `localPeer`); returns it. */
  async connectionTo (peer: PeerId, ms = 2000): Promise<Connection> {
    await until(() => this.node.getConnections(peer).length === 1, ms, 'the connection to open')
    return this.node.getConnections(peer)[0] as Connection
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

/** "At once": detection is synchronous on receipt; 1 s absorbs a loaded machine. */
export const AT_ONCE_MS = 1000

/**
 * The node closed `peer`'s connection at once (its FIN or close within AT_ONCE_MS)
 * and destroyed the raw channel with `code`.
 */
export async function closedAtOnce (peer: RawPeer, record: InboundRecord, code: string): Promise<void> {
  const ms = await peer.waitClosed(AT_ONCE_MS + 2000)
  assert.ok(ms < AT_ONCE_MS, `closed after ${ms.toFixed(0)} ms, expected at once`)
  await socketClosed(record)
  expectCode(record.error, code)
}

/** The node closed `peer`'s connection at `timeout` (within 1.5 s of it) with ERR_TIMEOUT. */
export async function closedAtTimeout (peer: RawPeer, record: InboundRecord, timeout: number): Promise<void> {
  const ms = await peer.waitClosed(timeout + 3000)
  assert.ok(ms < timeout + 1500, `closed after ${ms.toFixed(0)} ms`)
  await socketClosed(record)
  expectCode(record.error, 'ERR_TIMEOUT')
}

/** Waits for the node's socket of `record` to close, bounded (the runner has no test timeout). */
export async function socketClosed (record: InboundRecord, ms = 2000): Promise<void> {
  await withTimeout(record.closed, ms, "the node's socket to close")
}
