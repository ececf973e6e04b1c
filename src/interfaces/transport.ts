/**
 * Transports: how raw connections are made and accepted. A raw connection is a
 * {@link ByteChannel}; the upgrader adds security and a muxer on top of it.
 *
 * A transport that brings its own security and stream multiplexing (QUIC:
 * `connections/README.md`, "Overview", and `specs/quic.md`) yields an
 * {@link UpgradedConnection} instead, which the upgrader passes through after the
 * same identity check; the dialer and the node treat both alike.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from './channel.js'
import type { PeerId, PrivateKey, PublicKey } from './keys.js'
import type { Direction, StreamMuxer, StreamMuxerInit } from './muxer.js'

/**
 * A connection that is secure and multiplexed, not yet a `Connection`: what the
 * upgrader makes of a raw {@link ByteChannel}, and what a transport with built-in
 * security and streams (QUIC) makes by itself.
 */
export interface UpgradedConnection {
  readonly direction: Direction
  /** The authenticated remote peer. */
  readonly remotePeer: PeerId
  /**
   * The remote's public key. Undefined when the transport authenticated the peer
   * without handing the key over and the peer id does not inline it (QUIC with an RSA
   * or ECDSA peer); identify supplies it later.
   */
  readonly remotePublicKey: PublicKey | undefined
  readonly remoteAddr: Multiaddr
  readonly localAddr: Multiaddr | undefined
  /** The security protocol id, e.g. `/noise`, or `/quic-v1` when built in (TLS 1.3 inside QUIC). */
  readonly encryption: string
  /** The muxer protocol id, e.g. `/yamux/1.0.0`, or `/quic-v1` for QUIC's own streams. */
  readonly multiplexer: string
  /** How the muxer was agreed; `transport` when it comes with the transport. */
  readonly muxerNegotiation: 'inlined' | 'multistream' | 'lazy' | 'transport'
  /** Milliseconds spent securing and multiplexing (the QUIC handshake). */
  readonly upgradeMs: number
  /** Starts the muxer. Called once, by the connection that takes this over. */
  createMuxer (init: StreamMuxerInit): StreamMuxer
  /** Tears the connection down before a muxer was created (a node stopping mid-upgrade). */
  destroy (err: Error): void
}

/** What a node gives its transports before the first dial or listen. */
export interface TransportContext {
  /** The node's identity: a transport with built-in security makes its certificate from it. */
  privateKey: PrivateKey
}

export interface TransportDialOptions {
  /** Aborts the dial; the dialer uses it for the dial timeout too. */
  signal?: AbortSignal
}

/** What a transport's dials and listeners yield: a raw channel, or an upgraded connection. */
export type TransportConnection = ByteChannel | UpgradedConnection

export interface TransportListenerInit<C extends TransportConnection = TransportConnection> {
  /** A new inbound connection: raw, or already upgraded when the transport is {@link Transport.secure}. */
  onConnection: (connection: C) => void
  /** An error of the listening socket after it started (not per connection). */
  onError?: (err: Error) => void
  /** The listening socket closed. */
  onClose?: () => void
}

export interface TransportListener {
  /** Starts listening; resolves once bound. Rejects with ERR_LISTEN_FAILED. */
  listen (addr: Multiaddr): Promise<void>
  /**
   * The addresses we can be reached on: the real port for port 0, and a wildcard
   * host (0.0.0.0, ::) expanded to every interface address.
   */
  getAddrs (): Multiaddr[]
  /** Stops accepting. Connections already accepted stay up. */
  close (): Promise<void>
}

/** `C`: what its dials and listeners yield (`ByteChannel` for TCP, `UpgradedConnection` for QUIC). */
export interface Transport<C extends TransportConnection = TransportConnection> {
  /** A short name for logs and errors: `tcp`, `memory`, `ws`, `quic-v1`. */
  readonly name: string
  /**
   * True when the transport brings its own security and stream multiplexing (QUIC):
   * its dials and listeners yield {@link UpgradedConnection}s, and protections that
   * wrap a raw byte stream before the security handshake (a private network's PSK,
   * `specs/pnet.md`) cannot apply to it. Absent or false: raw {@link ByteChannel}s.
   */
  readonly secure?: boolean
  /**
   * Called by the node once, before any dial or listen, with what a transport may need
   * from it (the identity key, for a transport with built-in security).
   */
  init? (context: TransportContext): void
  /** True when this transport can dial the address (ignoring a trailing /p2p). */
  canDial (addr: Multiaddr): boolean
  /** True when this transport can listen on the address. */
  canListen (addr: Multiaddr): boolean
  /**
   * Opens a connection: raw, or upgraded when the transport is {@link secure}. Rejects
   * with ERR_TRANSPORT_DIAL_FAILED (ERR_TRANSPORT_UNAVAILABLE when the transport cannot
   * run on this platform), or the signal's error.
   */
  dial (addr: Multiaddr, options?: TransportDialOptions): Promise<C>
  createListener (init: TransportListenerInit<C>): TransportListener
}
