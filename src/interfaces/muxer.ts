/**
 * Stream multiplexers (`specs/yamux.md`, `specs/mplex.md`): many independent streams,
 * each with its own flow control and half-close, over one secure channel.
 */
import type { Duplex } from 'node:stream'
import type { ByteChannel } from './channel.js'

/** `outbound`: we opened it (dialed the connection, or opened the stream). */
export type Direction = 'inbound' | 'outbound'

/**
 * Sees a stream's inbound bytes before its readable side does, while installed.
 * Used by multistream-select on streams (inbound negotiation, and the dialer's lazy
 * negotiation whose answer arrives after the stream is handed to the user).
 *
 * Called with each inbound chunk, and with `null` at the remote's half-close.
 * - return `undefined`: the bytes were consumed; keep intercepting;
 * - return a `Uint8Array` (possibly empty): interception is over; the interceptor is
 *   removed and those bytes go to the readable side, followed by everything after.
 * An interceptor that finds a protocol error destroys the stream itself.
 * Bytes an interceptor consumes count as read for flow control.
 */
export type InboundInterceptor = (chunk: Uint8Array | null) => Uint8Array | undefined

/**
 * One multiplexed stream, as a Node Duplex:
 * - `write()` returns false under backpressure (the send window or the channel is
 *   full) and `'drain'` follows;
 * - `end()` half-closes our side (yamux FIN), we keep reading;
 * - `'end'` is the remote's half-close;
 * - `destroy()` resets the stream (yamux RST); a remote reset destroys it with an
 *   `Lp2pError` of code `ERR_STREAM_RESET`;
 * - a reader that stops reading stops the window updates, so the remote stops.
 */
export interface MuxedStream extends Duplex {
  /** Unique within its connection (the muxer's stream id, as a string). */
  readonly id: string
  readonly direction: Direction
  /** The protocol negotiated on this stream, once known. */
  protocol: string | undefined
  /** Milliseconds since the epoch: when opened, and when fully closed. */
  readonly timeline: { open: number, close?: number }
  /** Installs or removes (null) the inbound interceptor. */
  setInboundInterceptor (fn: InboundInterceptor | null): void
}

export interface StreamMuxerInit {
  /**
   * `outbound` when we dialed the underlying connection. yamux: the dialer's streams
   * use odd ids and the listener's even ids (yamux.md, "Stream Identifiers").
   */
  direction: Direction
  /** A new stream opened by the remote (already accepted within the limits). */
  onIncomingStream (stream: MuxedStream): void
  /** The muxer closed (gracefully or not); `err` says why when it was not graceful. */
  onClose? (err?: Error): void
}

export interface StreamMuxer {
  readonly protocol: string
  /** `closing`: no new streams; existing ones may finish. */
  readonly status: 'open' | 'closing' | 'closed'
  /** The streams currently open (either direction), in opening order. */
  readonly streams: readonly MuxedStream[]
  /**
   * Opens a stream. Synchronous: the open (yamux SYN) goes out with the first bytes
   * written, or on the next flush. Throws `ERR_MUXER_CLOSED` when closing or closed,
   * `ERR_TOO_MANY_STREAMS` at the stream limit.
   */
  newStream (): MuxedStream
  /**
   * Graceful close: no new streams, tell the remote (yamux GoAway), wait for open
   * streams to finish, then close the channel. The signal turns it into `abort`.
   */
  close (options?: { signal?: AbortSignal }): Promise<void>
  /** Closes now: resets every stream and destroys the channel with `err`. */
  abort (err: Error): void
  /**
   * Muxers that can prove the remote alive (yamux, with pings): whether nothing has
   * been received for so long that a new stream should wait for {@link probe}.
   */
  readonly stale?: boolean
  /**
   * Pings and resolves when the next frame of any kind arrives; rejects with
   * `ERR_CONNECTION_CLOSED` if the muxer closes first. Unbounded: the caller's signal
   * bounds it.
   */
  probe? (signal?: AbortSignal): Promise<void>
}

export interface StreamMuxerFactory {
  /** The multistream-select protocol id, e.g. `/yamux/1.0.0`. */
  readonly protocol: string
  createStreamMuxer (channel: ByteChannel, init: StreamMuxerInit): StreamMuxer
}
