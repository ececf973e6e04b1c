/**
 * The node: the one place that wires transports, the upgrader, connections, the
 * protocol registry, the peer store and the built-in protocols together.
 *
 * Data path of a dial: `dial()` -> Dialer (reuse or share an attempt, rank addresses)
 * -> Transport.dial (raw ByteChannel) -> Upgrader (multistream-select + security
 * handshake + muxer) -> ConnectionImpl (muxer) -> events, identify in the background.
 * Inbound: Transport listener -> ConnectionManager admission -> Upgrader (with the
 * inbound timeout) -> ConnectionImpl; each inbound stream -> multistream-select
 * against the registry -> per-protocol cap -> handler.
 */
import { EventEmitter } from 'node:events'
import { isMultiaddr, multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from './interfaces/channel.js'
import type { Connection, NewStreamOptions, Stream } from './interfaces/connection.js'
import type { PeerId, PrivateKey } from './interfaces/keys.js'
import type { PeerStore, PeerUpdateEvent } from './interfaces/peer-store.js'
import type { Transport, TransportListener, UpgradedConnection } from './interfaces/transport.js'
import type { NodeEvents, NodeOptions } from './node-options.js'
import { codes, invalidArgType, Lp2pError } from './errors.js'
import { generateKeyPair, peerIdFromPrivateKey } from './identity/index.js'
import { ConnectionImpl, type ConnectionInit } from './connection/connection.js'
import { ConnectionManager } from './connection-manager/connection-manager.js'
import { Dialer, type DialOptions } from './dialer/dialer.js'
import { parseTarget, type DialTarget } from './dialer/target.js'
import { Upgrader, type Upgraded } from './upgrader/upgrader.js'
import { MemoryPeerStore } from './peer-store/memory-peer-store.js'
import { ProtocolRegistry, type HandlerOptions, type StreamHandler } from './protocols/registry.js'
import { handleOnStream, type HandleOptions } from './negotiation/stream-negotiation.js'
import { tcp } from './transport/tcp.js'
import { webSockets } from './transport/websocket.js'
import { quic } from './transport/quic/index.js'
import { noise } from './security/noise/index.js'
import { tls } from './security/tls/index.js'
import { checkPnetTransports } from './pnet/index.js'
import { yamux } from './muxer/yamux/index.js'
import { handlePing, ping, PING_MAX_INBOUND_STREAMS, PING_PROTOCOL, type PingOptions } from './protocols/ping.js'
import {
  DEFAULT_PROTOCOL_VERSION, IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL, IdentifyService, type IdentifyResult
} from './protocols/identify.js'
import { VERSION } from './version.js'

export type NodeStatus = 'stopped' | 'starting' | 'started' | 'stopping'

/** Creates a node; call `start()` to listen and dial. */
export function createNode (options: NodeOptions = {}): Lp2pNode {
  return new Lp2pNode(options)
}

export class Lp2pNode extends EventEmitter<NodeEvents> {
  readonly peerId: PeerId
  readonly privateKey: PrivateKey
  readonly peerStore: PeerStore
  readonly agentVersion: string

  readonly #options: NodeOptions
  /** What every connection of this node reports to it (one object, see ConnectionInit). */
  readonly #connectionInit: ConnectionInit
  /** The options of every inbound stream negotiation: one object, not three per stream. */
  readonly #inboundNegotiation: HandleOptions
  readonly #transports: Transport[]
  readonly #upgrader: Upgrader
  readonly #connections: ConnectionManager
  readonly #dialer: Dialer
  readonly #registry = new ProtocolRegistry()
  readonly #identify: IdentifyService | undefined
  readonly #listeners: TransportListener[] = []
  /** Inbound connections still upgrading, to destroy at stop(). */
  readonly #upgrading = new Set<ByteChannel | UpgradedConnection>()
  /** Inbound streams open per connection and protocol, for the per-protocol caps. */
  readonly #inboundCounts = new WeakMap<Connection, Map<string, number>>()
  #status: NodeStatus = 'stopped'
  #nextConnId = 0

  constructor (options: NodeOptions = {}) {
    super()
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options)
    this.#options = options
    this.#connectionInit = {
      onIncomingStream: (stream, c) => { this.#onIncomingStream(stream, c) },
      onStreamOpen: (stream) => { this.#trackStream(stream) },
      onClose: (c, err) => {
        this.#connections.remove(c)
        this.emit('connection:close', c, err)
      },
      streamNegotiationTimeout: options.timeouts?.streamNegotiation ?? 10_000,
      closeTimeout: options.timeouts?.connectionClose ?? 5_000,
      livenessProbeTimeout: options.timeouts?.livenessProbe ?? 5_000
    }
    this.#inboundNegotiation = {
      isSupported: (p) => this.#registry.has(p),
      list: () => this.#registry.protocols(),
      timeout: this.#connectionInit.streamNegotiationTimeout
    }
    this.privateKey = options.privateKey ?? generateKeyPair('Ed25519')
    this.peerId = peerIdFromPrivateKey(this.privateKey)
    this.peerStore = options.peerStore ?? new MemoryPeerStore()
    this.agentVersion = options.agentVersion ?? `lp2p/${VERSION} node/${process.versions.node}`
    // QUIC brings its own security, which a private network cannot wrap: a node with
    // a PSK gets the upgraded transports only, unless it names its transports.
    this.#transports = options.transports ?? (options.psk !== undefined ? [tcp(), webSockets()] : [tcp(), webSockets(), quic()])
    if (options.psk !== undefined) checkPnetTransports(this.#transports)
    for (const t of this.#transports) t.init?.({ privateKey: this.privateKey })
    // Default: accept Noise and TLS, dial with Noise alone so the dialer can negotiate
    // it lazily (one round trip less per connection). Every libp2p implementation
    // speaks Noise; go-libp2p proposes TLS first and gets it.
    const defaultNoise = noise()
    this.#upgrader = new Upgrader({
      privateKey: this.privateKey,
      security: options.connectionEncrypters ?? [defaultNoise, tls()],
      ...(options.connectionEncrypters === undefined ? { outboundSecurity: [defaultNoise] } : {}),
      muxers: options.streamMuxers ?? [yamux()],
      ...(options.psk !== undefined ? { psk: options.psk } : {}),
      ...(options.timeouts?.inboundUpgrade !== undefined ? { inboundUpgradeTimeout: options.timeouts.inboundUpgrade } : {})
    })
    this.#connections = new ConnectionManager(options.limits ?? {}, {
      onPeerConnect: (peer) => { this.emit('peer:connect', peer) },
      onPeerDisconnect: (peer) => {
        this.peerStore.disconnected(peer)
        this.emit('peer:disconnect', peer)
      }
    })
    const store = this.peerStore
    // peer:update is forwarded from the store once someone listens for it on the node:
    // an unwatched store computes no before/after snapshots on the connection path.
    const forward = (event: PeerUpdateEvent): void => { this.emit('peer:update', event) }
    const self = this as EventEmitter
    self.on('newListener', (name: string | symbol) => {
      if (name === 'peer:update' && !store.rawListeners('peer:update').includes(forward)) store.on('peer:update', forward)
    })
    self.on('removeListener', (name: string | symbol) => {
      if (name === 'peer:update' && this.listenerCount('peer:update') === 0) store.off('peer:update', forward)
    })
    this.#dialer = new Dialer({
      transports: this.#transports,
      upgrader: this.#upgrader,
      localPeer: this.peerId,
      addressBook: {
        candidates: (peer) => (store.get(peer)?.addresses ?? []).map((a) => ({
          addr: a.multiaddr,
          certified: a.certified,
          ...(a.lastDial !== undefined ? { lastDial: a.lastDial } : {})
        })),
        // A failed dial of a peer the store does not know is not worth an entry (a
        // mistyped peer id must not become a record); a success always is.
        recordDial: (peer, addr, outcome) => { if (outcome.ok || store.has(peer)) store.recordDial(peer, addr, outcome) }
      },
      findConnection: (peer) => this.#connections.find(peer),
      createConnection: (upgraded, opened) => this.#addConnection(upgraded, opened),
      options: {
        ...options.dialer,
        ...(options.timeouts?.dial !== undefined ? { dialTimeout: options.timeouts.dial } : {})
      }
    })
    if (options.identify !== false) {
      this.#identify = new IdentifyService({
        privateKey: this.privateKey,
        agentVersion: this.agentVersion,
        protocolVersion: options.protocolVersion ?? DEFAULT_PROTOCOL_VERSION,
        getMultiaddrs: () => this.#listenAddrs(),
        getProtocols: () => this.#registry.protocols(),
        getConnections: () => this.#connections.get(),
        peerStore: this.peerStore,
        onIdentify: (result) => { this.emit('peer:identify', result) }
      }, options.timeouts?.identify !== undefined ? { timeout: options.timeouts.identify } : {})
      const id = this.#identify
      this.#registry.add(IDENTIFY_PROTOCOL, (stream, conn) => { id.handleIdentify(stream, conn) }, { maxInboundStreams: 4 })
      this.#registry.add(IDENTIFY_PUSH_PROTOCOL, async (stream, conn) => { await id.handlePush(stream, conn) }, { maxInboundStreams: 4 })
    }
    if (options.ping !== false) {
      this.#registry.add(PING_PROTOCOL, (stream) => { handlePing(stream) }, { maxInboundStreams: PING_MAX_INBOUND_STREAMS })
    }
  }

  get status (): NodeStatus {
    return this.#status
  }

  /** Listens on the configured addresses. */
  async start (): Promise<void> {
    if (this.#status !== 'stopped') return
    this.#status = 'starting'
    try {
      for (const a of this.#options.listen ?? []) await this.listen(a)
      this.#status = 'started'
    } catch (err) {
      this.#status = 'started'
      await this.stop()
      throw err
    }
  }

  /** Listens on one more address (after start). Emits `listen`. */
  async listen (address: string | Multiaddr): Promise<Multiaddr[]> {
    if (this.#status !== 'started' && this.#status !== 'starting') {
      throw new Lp2pError(codes.ERR_NOT_STARTED, 'the node is not started')
    }
    const addr = toMultiaddr(address)
    const transport = this.#transports.find((t) => t.canListen(addr))
    if (transport === undefined) {
      throw new Lp2pError(codes.ERR_NO_TRANSPORT, `no transport can listen on ${addr.toString()}`)
    }
    const listener = transport.createListener({
      onConnection: (raw) => { this.#onInbound(raw) }
    })
    await listener.listen(addr)
    this.#listeners.push(listener)
    const addrs = listener.getAddrs()
    this.emit('listen', addrs)
    if (this.#identify !== undefined && this.#status === 'started') void this.#identify.push()
    return addrs
  }

  /** Closes every listener and connection, aborts dials; leaves no timers behind. */
  async stop (): Promise<void> {
    if (this.#status === 'stopped' || this.#status === 'stopping') return
    this.#status = 'stopping'
    const listeners = this.#listeners.splice(0)
    await Promise.all(listeners.map(async (l) => {
      const addrs = l.getAddrs()
      await l.close()
      this.emit('listen:close', addrs)
    }))
    this.#dialer.abortAll()
    for (const raw of this.#upgrading) raw.destroy(new Lp2pError(codes.ERR_NOT_STARTED, 'the node is stopping'))
    await Promise.all(this.#connections.get().map(async (c) => { await c.close() }))
    await this.peerStore.close()
    this.#status = 'stopped'
  }

  /** Our listen addresses, each ending in `/p2p/<our id>`. */
  getMultiaddrs (): Multiaddr[] {
    const p2p = `/p2p/${this.peerId.toString()}`
    return this.#listenAddrs().map((a) => a.encapsulate(p2p))
  }

  /** Registers a handler for inbound streams of `protocol`. */
  handle (protocol: string, handler: StreamHandler, options?: HandlerOptions): void {
    this.#registry.add(protocol, handler, options)
    if (this.#identify !== undefined && this.#status === 'started') void this.#identify.push()
  }

  unhandle (protocol: string): void {
    if (this.#registry.remove(protocol) && this.#identify !== undefined && this.#status === 'started') {
      void this.#identify.push()
    }
  }

  /** The protocols we serve. */
  getProtocols (): string[] {
    return this.#registry.protocols()
  }

  /**
   * Connects to a peer, by address (which may end in `/p2p/<id>`) or by peer id (using
   * the peer store's addresses). Reuses an open connection to the peer.
   */
  async dial (target: DialTarget, options: DialOptions = {}): Promise<Connection> {
    this.#requireStarted()
    return await this.#dialer.dial(parseTarget(target), options)
  }

  /** Dials if needed, then opens a stream for one of `protocols`. */
  async dialProtocol (target: DialTarget, protocols: string | string[], options: NewStreamOptions = {}): Promise<Stream> {
    const dialOptions = options.signal !== undefined ? { signal: options.signal } : {}
    const conn = await this.dial(target, dialOptions)
    try {
      return await conn.newStream(protocols, options)
    } catch (err) {
      // The reused connection turned out dead before any of the caller's bytes went
      // out (its liveness probe met a reset, e.g. a peer restarted behind it): it has
      // left the books, so one fresh dial is safe and is what the caller asked for.
      if (!(err instanceof Lp2pError && err.code === codes.ERR_CONNECTION_CLOSED && conn.status === 'closed')) throw err
      const fresh = await this.dial(target, dialOptions)
      return await fresh.newStream(protocols, options)
    }
  }

  /** Closes every connection to the peer (or the peer of the address). */
  async hangUp (target: DialTarget): Promise<void> {
    const { peer, addr } = parseTarget(target)
    const conns = peer !== undefined
      ? this.#connections.get(peer)
      : this.#connections.get().filter((c) => c.remoteAddr.equals(addr as Multiaddr))
    await Promise.all(conns.map(async (c) => { await c.close() }))
  }

  /** Open connections, all or to one peer. */
  getConnections (peer?: PeerId | string): Connection[] {
    if (peer === undefined) return this.#connections.get()
    const { peer: id } = parseTarget(peer)
    return id === undefined ? [] : this.#connections.get(id)
  }

  /** Round-trip time to the peer in ms, over `/ipfs/ping/1.0.0`. */
  async ping (target: DialTarget, options: Omit<PingOptions, 'count'> = {}): Promise<number> {
    const conn = await this.dial(target, options.signal !== undefined ? { signal: options.signal } : {})
    const [rtt] = await ping(conn, { ...options, count: 1 })
    return rtt as number
  }

  /** Several pings on one stream; one RTT per ping. */
  async pingMany (target: DialTarget, options: PingOptions = {}): Promise<number[]> {
    const conn = await this.dial(target, options.signal !== undefined ? { signal: options.signal } : {})
    return await ping(conn, options)
  }

  /** The remote's identify result on this connection (runs once per connection). */
  async identify (connection: Connection, options: { signal?: AbortSignal } = {}): Promise<IdentifyResult> {
    if (this.#identify === undefined) throw new Lp2pError(codes.ERR_NOT_STARTED, 'identify is disabled on this node')
    return await this.#identify.identify(connection, options)
  }

  // --- internals -------------------------------------------------------------------

  #requireStarted (): void {
    if (this.#status !== 'started') throw new Lp2pError(codes.ERR_NOT_STARTED, 'the node is not started')
  }

  #listenAddrs (): Multiaddr[] {
    return this.#listeners.flatMap((l) => l.getAddrs())
  }

  #onInbound (raw: ByteChannel | UpgradedConnection): void {
    if (this.#status !== 'started' || !this.#connections.acceptInbound()) {
      raw.destroy(new Lp2pError(codes.ERR_CONNECTION_DENIED, 'connection limit reached'))
      return
    }
    const opened = Date.now()
    this.#upgrading.add(raw)
    this.#upgrader.upgradeInbound(raw).then((upgraded) => {
      if (this.#status !== 'started') {
        upgraded.destroy(new Lp2pError(codes.ERR_NOT_STARTED, 'the node is stopping'))
        return
      }
      this.#addConnection(upgraded, opened)
    }, () => {
      // The upgrader destroyed the channel; a failed inbound upgrade is the remote's
      // problem and is not surfaced as an error of ours.
    }).finally(() => {
      this.#upgrading.delete(raw)
      this.#connections.inboundDone()
    })
  }

  #addConnection (upgraded: Upgraded, opened: number): Connection {
    const conn = new ConnectionImpl(upgraded, opened, `${++this.#nextConnId}`, this.#connectionInit)
    if (conn.status === 'closed') return conn
    this.#connections.add(conn)
    this.#dialer.connectionOpened(conn)
    // The address we dialed is one to dial again; an inbound connection's remote port is not.
    // A peer's key is written when the store first hears of it (identify writes it
    // too); a later connection of a known peer proves the same key, nothing to write.
    const known = this.peerStore.has(conn.remotePeer)
    this.peerStore.connected(conn.remotePeer, conn.direction === 'outbound' ? conn.remoteAddr : undefined)
    if (!known && conn.remotePublicKey !== undefined) this.peerStore.patch(conn.remotePeer, { publicKey: conn.remotePublicKey })
    this.emit('connection:open', conn)
    // Identify runs in the background and never delays the first stream.
    // - Outbound: it starts on process.nextTick. Queued from this promise reaction, that
    //   runs once the microtask queue is drained, i.e. after the caller's own reactions
    //   to dial() have written its first request, and before the turn's writes are
    //   flushed: the request comes first in the flush that carries Noise message 3, and
    //   identify rides in the same syscall. (An immediate would send identify in a
    //   flush of its own: measured +2.8 write and +2.2 read syscalls per connection.)
    // - Inbound: it starts now, and its request rides in the same flush as our answer
    //   to the request that came with message 3. Starting it a turn later was measured:
    //   a remote that closes right after its first request then refuses the late
    //   identify stream (a reset and an error per connection), and CPU rose ~10%.
    const identify = this.#identify
    if (identify !== undefined) {
      if (conn.direction === 'outbound') {
        process.nextTick(() => { if (conn.status === 'open') void identify.identify(conn).catch(() => {}) })
      } else {
        void identify.identify(conn).catch(() => {})
      }
    }
    return conn
  }

  #trackStream (stream: Stream): void {
    this.emit('stream:open', stream)
    stream.once('close', () => { this.emit('stream:close', stream) })
  }

  #onIncomingStream (stream: Stream, conn: Connection): void {
    handleOnStream(stream, this.#inboundNegotiation).then((protocol) => {
      const entry = this.#registry.get(protocol)
      if (entry === undefined) {
        stream.destroy(new Lp2pError(codes.ERR_UNSUPPORTED_PROTOCOL, `${protocol} is no longer handled`))
        return
      }
      let counts = this.#inboundCounts.get(conn)
      if (counts === undefined) {
        counts = new Map()
        this.#inboundCounts.set(conn, counts)
      }
      const open = counts.get(protocol) ?? 0
      if (open >= entry.maxInboundStreams) {
        stream.destroy(new Lp2pError(codes.ERR_TOO_MANY_STREAMS, `more than ${entry.maxInboundStreams} inbound ${protocol} streams`))
        return
      }
      counts.set(protocol, open + 1)
      const map = counts
      stream.once('close', () => { map.set(protocol, (map.get(protocol) ?? 1) - 1) })
      this.#trackStream(stream)
      try {
        const result = entry.handler(stream, conn)
        if (result instanceof Promise) {
          result.catch((err: unknown) => { stream.destroy(err instanceof Error ? err : new Error(String(err))) })
        }
      } catch (err) {
        stream.destroy(err instanceof Error ? err : new Error(String(err)))
      }
    }, () => {
      // handleOnStream destroyed the stream; nothing to surface.
    })
  }
}

function toMultiaddr (a: string | Multiaddr): Multiaddr {
  if (isMultiaddr(a)) return a
  if (typeof a !== 'string') throw invalidArgType('address', 'a multiaddr or a string', a)
  try {
    return multiaddr(a)
  } catch (err) {
    throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `invalid multiaddr ${JSON.stringify(a)}: ${(err as Error).message}`, { cause: err })
  }
}
