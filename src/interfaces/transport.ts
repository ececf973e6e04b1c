/**
 * Transports: how raw connections are made and accepted. A raw connection is a
 * {@link ByteChannel}; the upgrader adds security and a muxer on top of it.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from './channel.js'

export interface TransportDialOptions {
  /** Aborts the dial; the dialer uses it for the dial timeout too. */
  signal?: AbortSignal
}

export interface TransportListenerInit {
  /** A new raw inbound connection. */
  onConnection: (channel: ByteChannel) => void
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

export interface Transport {
  /** A short name for logs and errors: `tcp`, `memory`, `ws`. */
  readonly name: string
  /**
   * True for a transport whose connections arrive already secured and multiplexed
   * (QUIC): the upgrader does not run on them, so a private network (`psk`) cannot
   * protect them and a node refuses the combination (ERR_PNET_UNSUPPORTED_TRANSPORT).
   */
  readonly bringsOwnSecurity?: boolean
  /** True when this transport can dial the address (ignoring a trailing /p2p). */
  canDial (addr: Multiaddr): boolean
  /** True when this transport can listen on the address. */
  canListen (addr: Multiaddr): boolean
  /** Opens a raw connection. Rejects with ERR_TRANSPORT_DIAL_FAILED, or the signal's error. */
  dial (addr: Multiaddr, options?: TransportDialOptions): Promise<ByteChannel>
  createListener (init: TransportListenerInit): TransportListener
}
