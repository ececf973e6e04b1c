/**
 * A libp2p connection (`connections/README.md`, "Definitions"): secure, multiplexed,
 * authenticated, to one remote peer.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PublicKey } from './keys.js'
import type { Direction, MuxedStream } from './muxer.js'

export type ConnectionStatus = 'open' | 'closing' | 'closed'

export interface NewStreamOptions {
  signal?: AbortSignal
  /**
   * Negotiate lazily when a single protocol is given (default true): the stream is
   * returned at once and the negotiation's answer is checked when it arrives.
   */
  lazy?: boolean
}

export interface Stream extends MuxedStream {
  /** The connection this stream belongs to. */
  readonly connection: Connection
}

export interface Connection {
  /** Unique within this node. */
  readonly id: string
  readonly remotePeer: PeerId
  /**
   * The remote's public key, as the security handshake verified it. Undefined only
   * when the transport brought its own security without handing the key over and the
   * peer id does not inline it (QUIC with an RSA or ECDSA peer); identify's verified
   * key is then in the peer store.
   */
  readonly remotePublicKey: PublicKey | undefined
  readonly remoteAddr: Multiaddr
  readonly localAddr: Multiaddr | undefined
  /** `outbound`: we dialed it. */
  readonly direction: Direction
  readonly status: ConnectionStatus
  /** The security protocol id, e.g. `/noise`; `/quic-v1` for QUIC's built-in TLS 1.3. */
  readonly encryption: string
  /** The muxer protocol id, e.g. `/yamux/1.0.0`; `/quic-v1` for QUIC's own streams. */
  readonly multiplexer: string
  /** Milliseconds since the epoch. */
  readonly timeline: { readonly open: number, readonly upgraded: number, close?: number }
  /** The streams open on this connection. */
  readonly streams: readonly Stream[]
  /** Opens a stream and negotiates one of `protocols` (in preference order). */
  newStream (protocols: string | readonly string[], options?: NewStreamOptions): Promise<Stream>
  /** Graceful close: lets open streams finish (bounded), then closes. */
  close (options?: { signal?: AbortSignal }): Promise<void>
  /** Closes now, resetting every stream. */
  abort (err?: Error): void
}
