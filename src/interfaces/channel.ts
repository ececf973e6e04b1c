/**
 * The byte channel: one ordered, reliable, bidirectional byte pipe between two layers
 * of a connection. A raw transport connection is a ByteChannel; a secure channel
 * (Noise, TLS) is a ByteChannel built on top of one; a stream muxer consumes one.
 *
 * Why not a Node `Duplex` between layers: a Duplex costs an internal buffer, an event
 * emission and a callback per chunk in each direction, at every layer. A channel hands
 * each chunk straight to the one consumer above it, lets a writer pass several buffers
 * at once (so one Noise message and one syscall can carry many small frames), and
 * keeps backpressure explicit: `write()` returns false, `onDrain` follows.
 * Application streams, which users hold, are Duplex objects (`MuxedStream`).
 */
import type { Multiaddr } from '@multiformats/multiaddr'

/** The single consumer of a channel's inbound side. */
export interface ByteChannelHandler {
  /**
   * Inbound bytes, in order. The chunk is owned by the handler from here on (the
   * channel never reuses its memory).
   */
  onData (chunk: Uint8Array): void
  /** The remote half-closed its sending side; no more `onData` calls follow. */
  onEnd (): void
  /**
   * The channel is fully closed (both sides, or torn down). Final: nothing follows.
   * `err` is set when it closed because of an error (ours or the remote's).
   */
  onClose (err?: Error): void
  /** A previous `write()` returned false and the channel can take more now. */
  onDrain (): void
}

export interface ByteChannel {
  /** Address of the remote end, as the transport saw it. */
  readonly remoteAddr: Multiaddr
  /** Our local address, when the transport knows it. */
  readonly localAddr: Multiaddr | undefined
  /** True once the channel is fully closed or destroyed. */
  readonly closed: boolean

  /**
   * Installs the consumer, replacing any previous one. Bytes that arrived while no
   * handler (or the previous handler) was installed and were not consumed, including
   * bytes given back with {@link unshift}, are delivered to the new handler first,
   * in order, on a later microtask (never from inside `attach` itself). An end or a
   * close that already happened is delivered the same way.
   */
  attach (handler: ByteChannelHandler): void
  /**
   * Removes the consumer: inbound bytes are held (and the source paused) until the
   * next `attach`. A layer that finishes (a negotiation) detaches before it gives
   * back the bytes it read past its end with {@link unshift}.
   */
  detach (): void
  /**
   * Gives bytes back, to be delivered before anything else to the next handler.
   * Used when one layer read past its own end (a negotiation that received the first
   * bytes of the next protocol in the same chunk).
   */
  unshift (chunk: Uint8Array): void

  /**
   * Sends bytes. Returns false when the caller should stop writing until `onDrain`.
   * The channel keeps the bytes either way (it never drops accepted data); writes
   * after `end()` or after close are ignored.
   */
  write (chunk: Uint8Array): boolean
  /** Sends several buffers as if concatenated; lets the layer below coalesce them. */
  writev (chunks: readonly Uint8Array[]): boolean
  /** Half-closes our sending side after everything written so far is sent. */
  end (): void
  /** Closes both directions now, discarding unsent data. `err` reaches `onClose`. */
  destroy (err?: Error): void

  /** Stops `onData` delivery until `resume()` (read-side backpressure). */
  pause (): void
  resume (): void
}
