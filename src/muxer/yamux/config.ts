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

/**
 * On a busy connection (frames keep arriving, so no keep-alive ping is due), one ping
 * per this many keep-alive intervals still measures the RTT that window growth uses
 * (`stream-state.ts`): 4 x 10 s = 40 s, the order of go-yamux's 30 s RTT pings.
 */
export const RTT_REFRESH_INTERVALS = 4

/**
 * Each connection pings after `keepAliveInterval x (1 - KEEP_ALIVE_JITTER x u)` of
 * silence, `u` uniform in [0, 1) drawn by the driver once per connection: connections
 * that fell silent together (a burst of dials, a node holding 10 000 of them) would
 * otherwise all ping in the same few milliseconds, every interval. Measured with
 * `bench/scale.ts` before the jitter: 10 000 idle connections' pings stalled the event
 * loop for 423 ms at once. 10% spreads them over a second and keeps every bound, which
 * take the full interval.
 */
export const KEEP_ALIVE_JITTER = 0.1

/**
 * Silence beyond the keep-alive interval that a healthy connection never shows: the
 * ping sent after `keepAliveInterval` of silence is answered within one round trip,
 * and 5 s covers the round trip of a congested satellite path (~1 s) several times
 * over, including an answer queued behind a window of data on a slow link. More
 * silence than `keepAliveInterval + STALE_ALLOWANCE` makes a new stream wait for a
 * probe (`staleAfter`).
 */
export const STALE_ALLOWANCE = 5_000

/**
 * What TCP adds, after a path heals, before the first segment gets through, on top of
 * its exponential back-off (see {@link healedPartitionBound}): the retransmission
 * timeout before the first doubling, at most 3 s (RFC 6298 section 2 starts at 1 s;
 * Linux's minimum is 200 ms, and a deep router queue raises the measured RTT variance
 * into the seconds), plus one round trip of up to 1 s for the segment to arrive.
 */
export const TCP_RECOVERY_ALLOWANCE = 4_000

/**
 * The longest outage (ms) a connection survives whatever the phase of the ping cycle:
 * a path down for less than this and then healed never costs the connection.
 *
 * Why: let the last frame arrive at t0 and the path go down at s >= t0, for P ms.
 * Before s, silence never exceeds the interval I plus a round trip (we ping after I
 * of silence), so s - t0 <= I. TCP resends an unacknowledged segment at
 * send + RTO * (2^k - 1), doubling each time, so the first resend after the heal at
 * s + P comes less than (s + P - send) + RTO after the heal; the segment that carries
 * the remote's next frame was sent at or after s. Its frame therefore arrives before
 * t0 + I + 2P + RTO + RTT, and the connection lives while that is under the silence
 * bound T: P < (T - I - TCP_RECOVERY_ALLOWANCE) / 2, i.e. 23 s with the defaults
 * (T = 60 s, I = 10 s). TCP's own limit (~15 minutes of retries, tcp_retries2) is
 * far longer; doubling stops at 120 s (TCP_RTO_MAX), which only helps. Measured by
 * `npm run test:faults` (20 s partitions at several phases of the ping cycle).
 */
export function healedPartitionBound (config: Pick<YamuxConfig, 'keepAliveInterval' | 'keepAliveTimeout'>): number {
  if (config.keepAliveInterval === 0) return Infinity
  return Math.max(0, Math.floor((config.keepAliveTimeout - config.keepAliveInterval - TCP_RECOVERY_ALLOWANCE) / 2))
}

/**
 * How long after a path goes down for good both ends have closed the connection with
 * `ERR_KEEP_ALIVE_TIMEOUT` (ms): the silence bound, since the last frame arrived
 * before the path went down and each side ends the connection once it has heard
 * nothing for `keepAliveTimeout` (its ping, sent after `keepAliveInterval` of
 * silence, being unanswered). Plus the timer's own lateness (event-loop delay).
 */
export function detectionBound (config: Pick<YamuxConfig, 'keepAliveInterval' | 'keepAliveTimeout'>): number {
  return config.keepAliveInterval === 0 ? Infinity : config.keepAliveTimeout
}

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
   * Milliseconds of silence (nothing received) after which we ping. Default 10 s. Any
   * frame from the remote resets the silence, so a busy connection sends no keep-alive
   * pings (one per `RTT_REFRESH_INTERVALS` intervals keeps the RTT fresh), and on an
   * idle connection the first side to fall silent pings for both: about one exchange
   * per interval per connection, 24 bytes of yamux plus one Noise message each way.
   * The interval enters the healed-partition bound once (see
   * {@link healedPartitionBound}): 10 s keeps that bound above 20 s with the default
   * timeout while 10 000 idle connections cost ~1 000 small exchanges a second. 0
   * disables keep-alive.
   */
  keepAliveInterval?: number
  /**
   * The silence bound: milliseconds without any frame from the remote, while a ping of
   * ours is outstanding, after which the connection is dead and closes with
   * `ERR_KEEP_ALIVE_TIMEOUT`. Default 60 s. It is also the bound on detecting a path
   * that stays down ({@link detectionBound}). Chosen so that a partition of up to
   * {@link healedPartitionBound} (23 s with the defaults) heals without losing the
   * connection whatever the phase of the ping cycle, while a dead path is found within
   * a minute (go-yamux: 30 s interval + 10 s write timeout; TCP alone: ~15 minutes).
   * Must exceed `keepAliveInterval`.
   */
  keepAliveTimeout?: number
  /**
   * Milliseconds of silence after which a new stream first waits for a liveness probe
   * (a ping; any frame that arrives ends it) before it is handed out, so a caller is
   * not given a stream on a connection known to be stale. Default
   * `keepAliveInterval + STALE_ALLOWANCE` (15 s): on a healthy connection a ping
   * answer arrives within a round trip of the interval, so more silence than that is a
   * sign of trouble, and a healthy connection never pays for the probe. 0 probes
   * before every new stream (one round trip each, for callers that prefer a fresh
   * proof); the node's `timeouts.livenessProbe` bounds the wait.
   */
  staleAfter?: number
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
  keepAliveInterval: 10_000,
  keepAliveTimeout: 60_000,
  staleAfter: 10_000 + 5_000,
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
  if (c.keepAliveInterval > 0 && c.keepAliveTimeout <= c.keepAliveInterval) {
    throw invalidArgValue('options.keepAliveTimeout', 'must exceed keepAliveInterval when keep-alive is enabled')
  }
  if (options.staleAfter === undefined) {
    // No keep-alive: silence says nothing about the connection, so no probe by default.
    c.staleAfter = c.keepAliveInterval > 0 ? c.keepAliveInterval + STALE_ALLOWANCE : Number.MAX_SAFE_INTEGER
  }
  for (const key of ['streamReadableHighWaterMark', 'streamWritableHighWaterMark', 'maxUnackedInboundStreams'] as const) {
    if (c[key] === 0) throw invalidArgValue(`options.${key}`, 'must be positive')
  }
  return c
}
