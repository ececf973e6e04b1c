/**
 * Options of {@link createNode}, their defaults, and the typed lifecycle events
 * (`connections/README.md`, "Connection Lifecycle Events").
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection, Stream } from './interfaces/connection.js'
import type { PeerId, PrivateKey } from './interfaces/keys.js'
import type { StreamMuxerFactory } from './interfaces/muxer.js'
import type { PeerStore, PeerUpdateEvent } from './interfaces/peer-store.js'
import type { SecurityProtocol } from './interfaces/security.js'
import type { Transport } from './interfaces/transport.js'
import type { IdentifyResult } from './protocols/identify.js'
import type { DialerOptions } from './dialer/config.js'

export interface NodeOptions {
  /** Our identity. Default: a new Ed25519 key (a different peer id on every run). */
  privateKey?: PrivateKey
  /** Addresses to listen on at start(), e.g. `/ip4/0.0.0.0/tcp/4001`. Default none. */
  listen?: Array<string | Multiaddr>
  /** Default `[tcp(), webSockets()]` (WebSocket listens only on `/ws`, `/wss` addresses you give). */
  transports?: Transport[]
  /**
   * Security protocols in preference order, for both directions. Default: accept
   * `[noise(), tls()]` and dial with `noise()` alone (negotiated lazily, which saves a
   * round trip on every dial).
   */
  connectionEncrypters?: SecurityProtocol[]
  /**
   * A private network's 32-byte pre-shared key (`specs/pnet.md`; read a key file with
   * `loadPskFile`): every connection is encrypted with it before anything else, and
   * peers without it are cut off at their first bytes (ERR_PNET_MISMATCH). Refused
   * (ERR_PNET_UNSUPPORTED_TRANSPORT) with a transport that brings its own security.
   * Default none.
   */
  psk?: Uint8Array
  /** Stream muxers in preference order. Default `[yamux()]`. */
  streamMuxers?: StreamMuxerFactory[]
  /** Peer metadata. Default an in-memory store. */
  peerStore?: PeerStore
  /** Sent in identify. Default `lp2p/<version> node/<version>`. */
  agentVersion?: string
  /** Sent in identify. Default `ipfs/0.1.0`. */
  protocolVersion?: string
  /** Serve and run identify (default true). */
  identify?: boolean
  /** Serve ping (default true). */
  ping?: boolean
  limits?: {
    /** Open connections in total. Default 300. */
    maxConnections?: number
    /** Inbound connections upgrading at once. Default 64. */
    maxPendingInbound?: number
  }
  /** The dialer: schedule, timeouts, backoff, black-hole detection, caps (see `dialer/config.ts`). */
  dialer?: DialerOptions
  timeouts?: {
    /** A whole outbound dial (all addresses, connect + upgrade), ms. Default 30 000 (same as `dialer.dialTimeout`). */
    dial?: number
    /** An inbound upgrade, ms. Default 10 000. */
    inboundUpgrade?: number
    /** Negotiating a stream's protocol (either side), ms. Default 10 000. */
    streamNegotiation?: number
    /** A graceful connection close before streams are reset, ms. Default 5 000. */
    connectionClose?: number
    /** One identify exchange, ms. Default 10 000. */
    identify?: number
    /**
     * A liveness probe before a new stream on a connection silent for longer than its
     * muxer's `staleAfter` (yamux: 15 s), ms; past it the stream fails with
     * `ERR_CONNECTION_STALE`. Default 5 000: a live remote answers within one round
     * trip, plus whatever of our output is queued ahead of the ping.
     */
    livenessProbe?: number
  }
}

/** The node's events, each with its listener arguments. */
export interface NodeEvents {
  /** A connection finished its upgrade (spec: Connected). */
  'connection:open': [connection: Connection]
  /** A connection closed (spec: Disconnected); `error` when it closed because of one. */
  'connection:close': [connection: Connection, error: Error | undefined]
  /** The first connection to a peer opened. */
  'peer:connect': [peer: PeerId]
  /** The last connection to a peer closed. */
  'peer:disconnect': [peer: PeerId]
  /** A stream's protocol was agreed, either direction (spec: OpenedStream). */
  'stream:open': [stream: Stream]
  /** A stream closed (spec: ClosedStream). */
  'stream:close': [stream: Stream]
  /** We started listening on an address (spec: Listen). */
  'listen': [addresses: Multiaddr[]]
  /** We stopped listening on an address (spec: ListenClose). */
  'listen:close': [addresses: Multiaddr[]]
  /** Identify (or a push) told us about a peer. */
  'peer:identify': [result: IdentifyResult]
  /** A peer store record changed (committed): addresses, protocols, keys, tags, metadata. */
  'peer:update': [event: PeerUpdateEvent]
}
