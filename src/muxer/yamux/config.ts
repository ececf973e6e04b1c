/**
 * yamux options, their defaults and the reasons for them.
 */
import { invalidArgType, invalidArgValue } from '../../errors.js'
import { MAX_UINT32 } from './frame.js'

/**
 * The window both sides assume for a new stream before any Window Update
 * (yamux.md, "Flow Control": "each stream with a 256KiB window size"). Not a choice.
 */
export const SPEC_INITIAL_WINDOW = 256 * 1024

/**
 * The ACK backlog: streams we opened that the remote has not acknowledged yet. yamux.md
 * ("ACK backlog & backpressure"): implementations "SHOULD at most allow an ACK backlog
 * of 256 streams". Streams opened beyond it are created but hold their SYN (and data)
 * until an ACK frees a slot, so a compliant remote never has to reset them.
 */
export const ACK_BACKLOG = 256

/**
 * Ping answers queued at once. A well-behaved peer has one ping in flight (go-yamux,
 * rust-yamux and js-libp2p-yamux all wait for the answer before the next ping), so 16
 * is generous; answers beyond it are dropped, which bounds what a ping flood from a
 * peer that does not read can make us queue.
 */
export const MAX_PENDING_PONGS = 16

/**
 * Data payload bytes queued for one flush before writers are asked to wait: four
 * maximum-size frames at the default 64 KiB. It bounds the memory one flush takes and
 * how long one flush holds the event loop, and lets several streams share a flush.
 */
export const MAX_QUEUED_DATA = 256 * 1024

/**
 * Control frames (12 bytes each) queued while the channel is backpressured before we
 * stop reading from it: a peer that keeps sending frames that need an answer (SYNs we
 * must reset, pings) without reading our answers is throttled instead of growing our
 * queue. 4096 frames = 48 KiB; a legitimate peer queues at most one control frame per
 * stream plus the ping answers, far below this.
 */
export const MAX_QUEUED_CONTROL_FRAMES = 4096

export interface YamuxOptions {
  /**
   * Receive window of a new stream, in bytes. Default 256 KiB, the spec's initial window;
   * larger values are granted with a Window Update alongside the SYN or ACK.
   */
  initialStreamWindow?: number
  /**
   * The receive window grows (doubling) up to this many bytes when window updates have
   * to be sent more often than every 2 RTTs, i.e. when the window, not the path, limits
   * the stream. Default 16 MiB, as go-yamux and js-libp2p-yamux: enough for 1 Gbit/s at
   * 130 ms RTT. A stalled reader holds at most this many bytes of one stream.
   */
  maxStreamWindow?: number
  /**
   * Streams the remote may have open at once; more are reset. Default 1024: above the
   * few hundred a DHT or bitswap burst opens, while bounding per-connection state
   * (~1 KiB per idle stream) to about 1 MiB.
   */
  maxInboundStreams?: number
  /** Streams we may have open at once; `newStream()` throws beyond it. Default 1024. */
  maxOutboundStreams?: number
  /**
   * Remote-opened streams we have not acknowledged yet; SYNs beyond it are reset.
   * Default 256 (yamux.md, "ACK backlog & backpressure"). We acknowledge with the next
   * flush, so only a burst of SYNs in one read can reach it.
   */
  maxUnackedInboundStreams?: number
  /**
   * Milliseconds between keep-alive pings (and RTT measurements). Default 30 s, as
   * go-yamux and js-libp2p-yamux. 0 disables keep-alive.
   */
  keepAliveInterval?: number
  /**
   * Milliseconds without a ping answer, and without any other frame, after which the
   * connection is considered dead and closed with `ERR_KEEP_ALIVE_TIMEOUT`. Default 20 s:
   * longer than the time a full 16 MiB window takes to drain at ~7 Mbit/s, so a ping
   * answer queued behind bulk data on a slow link does not kill a live connection.
   */
  keepAliveTimeout?: number
  /**
   * Largest Data payload we send in one frame. Default 64 KiB, as go-yamux and
   * js-libp2p-yamux: 12 bytes of header per 64 KiB is negligible, and one frame holds
   * the connection for at most ~0.5 ms at 1 Gbit/s, so other streams interleave.
   */
  maxMessageSize?: number
  /**
   * Readable high-water mark of each stream. Default 64 KiB. Window updates are sent
   * only for bytes the application has taken out of the readable buffer.
   */
  streamReadableHighWaterMark?: number
  /** Writable high-water mark of each stream (`write()` returns false above it). Default 64 KiB. */
  streamWritableHighWaterMark?: number
}

export type YamuxConfig = Required<YamuxOptions>

export const DEFAULTS: YamuxConfig = {
  initialStreamWindow: SPEC_INITIAL_WINDOW,
  maxStreamWindow: 16 * 1024 * 1024,
  maxInboundStreams: 1024,
  maxOutboundStreams: 1024,
  maxUnackedInboundStreams: ACK_BACKLOG,
  keepAliveInterval: 30_000,
  keepAliveTimeout: 20_000,
  maxMessageSize: 64 * 1024,
  streamReadableHighWaterMark: 64 * 1024,
  streamWritableHighWaterMark: 64 * 1024
}

/** Fills in defaults and validates (TypeError / RangeError at the API edge). */
export function resolveOptions (options: YamuxOptions = {}): YamuxConfig {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options)
  const c: YamuxConfig = { ...DEFAULTS }
  for (const key of Object.keys(DEFAULTS) as Array<keyof YamuxConfig>) {
    const v = options[key]
    if (v === undefined) continue
    if (typeof v !== 'number' || Number.isNaN(v)) throw invalidArgType(`options.${key}`, 'a number', v)
    if (!Number.isInteger(v) || v < 0) throw invalidArgValue(`options.${key}`, `must be a non-negative integer, got ${v}`)
    c[key] = v
  }
  if (c.initialStreamWindow < SPEC_INITIAL_WINDOW) {
    throw invalidArgValue('options.initialStreamWindow', `must be at least ${SPEC_INITIAL_WINDOW} (the spec's initial window cannot shrink)`)
  }
  if (c.maxStreamWindow < c.initialStreamWindow || c.maxStreamWindow > MAX_UINT32) {
    throw invalidArgValue('options.maxStreamWindow', `must be between initialStreamWindow and ${MAX_UINT32}`)
  }
  if (c.maxMessageSize < 1024 || c.maxMessageSize > MAX_UINT32) {
    throw invalidArgValue('options.maxMessageSize', 'must be at least 1024')
  }
  if (c.keepAliveInterval > 0 && c.keepAliveTimeout === 0) {
    throw invalidArgValue('options.keepAliveTimeout', 'must be positive when keep-alive is enabled')
  }
  for (const key of ['streamReadableHighWaterMark', 'streamWritableHighWaterMark', 'maxUnackedInboundStreams'] as const) {
    if (c[key] === 0) throw invalidArgValue(`options.${key}`, 'must be positive')
  }
  return c
}
