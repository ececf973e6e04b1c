/**
 * Options of the QUIC transport, their defaults and why, and their validation
 * (TypeError / RangeError at the API edge). Pure.
 *
 * The engine enforces the flow-control and stream limits on the wire (RFC 9000 §4:
 * MAX_STREAM_DATA, MAX_DATA, MAX_STREAMS), so a peer that exceeds them is a protocol
 * violation the engine closes the connection for, not a buffer we grow.
 */
import type { PrivateKey } from '../../interfaces/keys.js'
import { invalidArgType, invalidArgValue } from '../../errors.js'
import type { EngineSettings } from './engine.js'

export interface QuicOptions {
  /** The identity key (default: the node's, given through `Transport.init`). */
  privateKey?: PrivateKey
  /**
   * A dial's handshake, ms, from the first packet to the verified certificate. Default
   * 5 s (rust-libp2p's and go-libp2p's default): a QUIC handshake is one round trip,
   * so this allows for several lost packets on a slow path, and a silent UDP path
   * (a firewall dropping datagrams) gives the dialer back within it.
   */
  handshakeTimeout?: number
  /**
   * A connection with no packet for this long is closed, ms; the lower of both peers'
   * values applies (RFC 9000 §10.1). Default 10 s, as rust-libp2p. The engine also
   * bounds an inbound handshake by it (it has no separate handshake timeout), so it is
   * also how long a stalled handshake can hold an accept slot.
   */
  maxIdleTimeout?: number
  /**
   * A PING after this long without sending, ms, so an idle connection stays open (and
   * NAT bindings stay warm). Default 5 s: half the idle timeout, so one lost PING does
   * not close the connection. 0 disables keep-alive.
   */
  keepAliveInterval?: number
  /**
   * Streams the remote may have open at once (MAX_STREAMS, bidirectional). Default 256,
   * as rust-libp2p and go-libp2p: the remote's further opens wait for credit, which is
   * returned as streams close; nothing is reset.
   */
  maxInboundStreams?: number
  /**
   * Streams we may have open or opening at once; `newStream()` throws
   * ERR_TOO_MANY_STREAMS beyond it. Default 1024 (as yamux): opens beyond the remote's
   * stream credit wait in the engine until a stream closes.
   */
  maxOutboundStreams?: number
  /**
   * Unread bytes the remote may send on one stream (its receive window). Default
   * 4 MiB: 320 Mbit/s on a 100 ms path, and what a stalled reader can hold per stream.
   */
  maxStreamData?: number
  /**
   * Unread bytes the remote may send on all streams of a connection together. Default
   * 8 MiB: two full stream windows; the most one connection's unread data can cost.
   */
  maxConnectionData?: number
  /**
   * UDP socket buffers, bytes (clamped by the kernel's `net.core.[rw]mem_max`).
   * Default 2 MiB: room for a burst of 1500 full datagrams at 10 Gbit/s line rate,
   * about 1.7 ms of it, before the kernel drops.
   */
  socketBufferSize?: number
  /**
   * Inbound handshakes in progress at once per listener: how many accept calls wait on
   * the engine. Default 1024. The engine has no Retry (RFC 9000 §8.1), so a flood of
   * Initials that never complete holds slots until the idle timeout: with 1024 slots
   * and 10 s that takes a sustained ~100 Initials per second (~120 KB/s); below that,
   * honest handshakes find a free slot at once. Each stalled handshake costs the
   * engine a few KiB.
   */
  maxPendingHandshakes?: number
  /**
   * Readable and writable high-water marks of each stream, bytes. Default 64 KiB (as
   * yamux): the engine is read in chunks of this size while the application keeps up.
   */
  streamHighWaterMark?: number
}

export type QuicConfig = Required<Omit<QuicOptions, 'privateKey'>>

export const QUIC_DEFAULTS: QuicConfig = {
  handshakeTimeout: 5_000,
  maxIdleTimeout: 10_000,
  keepAliveInterval: 5_000,
  maxInboundStreams: 256,
  maxOutboundStreams: 1024,
  maxStreamData: 4 * 1024 * 1024,
  maxConnectionData: 8 * 1024 * 1024,
  socketBufferSize: 2 * 1024 * 1024,
  maxPendingHandshakes: 1024,
  streamHighWaterMark: 64 * 1024
}

/**
 * The engine's window and timer fields are unsigned 32-bit (quinn's VarInt limits
 * windows to 2^62, the binding to u32).
 */
const MAX_U32 = 0xffff_ffff

/** Fills in defaults and validates. */
export function resolveQuicOptions (options: QuicOptions = {}): QuicConfig {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options)
  const c: QuicConfig = { ...QUIC_DEFAULTS }
  for (const key of Object.keys(QUIC_DEFAULTS) as Array<keyof QuicConfig>) {
    const v = options[key]
    if (v === undefined) continue
    if (typeof v !== 'number' || Number.isNaN(v)) throw invalidArgType(`options.${key}`, 'a number', v)
    if (!Number.isInteger(v) || v < 0 || v > MAX_U32) throw invalidArgValue(`options.${key}`, `must be an integer from 0 to ${MAX_U32}, got ${v}`)
    c[key] = v
  }
  for (const key of ['maxIdleTimeout', 'handshakeTimeout', 'maxStreamData', 'maxConnectionData', 'maxPendingHandshakes', 'streamHighWaterMark', 'maxOutboundStreams'] as const) {
    if (c[key] === 0) throw invalidArgValue(`options.${key}`, 'must be positive')
  }
  if (c.keepAliveInterval >= c.maxIdleTimeout) {
    throw invalidArgValue('options.keepAliveInterval', 'must be below maxIdleTimeout, or the connection idles out between keep-alives')
  }
  if (c.maxConnectionData < c.maxStreamData) {
    throw invalidArgValue('options.maxConnectionData', 'must be at least maxStreamData')
  }
  return c
}

/** The engine's settings for a config. */
export function engineSettings (c: QuicConfig): EngineSettings {
  return {
    handshakeTimeout: c.handshakeTimeout,
    maxIdleTimeout: c.maxIdleTimeout,
    // The engine always sets an interval; one past the idle timeout never fires,
    // which is what 0 (no keep-alive) means here.
    keepAliveInterval: c.keepAliveInterval === 0 ? MAX_U32 : c.keepAliveInterval,
    maxConcurrentStreamLimit: c.maxInboundStreams,
    maxStreamData: c.maxStreamData,
    maxConnectionData: c.maxConnectionData,
    receiveBufferSize: c.socketBufferSize,
    sendBufferSize: c.socketBufferSize,
    // Draining the endpoint at close: 1 s lets peers read our CONNECTION_CLOSE
    // without holding a node's stop() for long.
    shutdownTimeout: 1_000
  }
}
