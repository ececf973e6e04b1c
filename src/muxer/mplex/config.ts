/**
 * mplex options, their defaults and the reasons for them.
 *
 * mplex has no flow control (`specs/mplex.md`, "Implementation notes"): a remote
 * writer cannot be told to slow down on one stream. What a reader that falls behind
 * costs is therefore bounded here, per stream, with a declared policy for a full
 * buffer (see {@link MplexOptions.streamBufferPolicy}).
 */
import { invalidArgType, invalidArgValue } from '../../errors.js'
import { SPEC_MAX_MESSAGE_SIZE } from './frame.js'

/**
 * What to do when a stream's reader has fallen `maxStreamBufferSize` bytes behind:
 * - `'reset-stream'`: reset that stream (the reader gets `ERR_STREAM_BUFFER_FULL`, the
 *   remote writer `ERR_STREAM_RESET`); every other stream keeps flowing;
 * - `'block'`: stop reading the connection until that reader catches up. Nothing is
 *   lost, but every stream of the connection waits for the slowest reader
 *   (head-of-line blocking), and two peers that each wait for the other to read can
 *   deadlock.
 *
 * These are the two mitigations mplex.md lists and rust-libp2p's `MaxBufferBehaviour`
 * offers (`ResetStream`, `Block`); js-libp2p-mplex resets; go-mplex blocks for up to
 * 5 s, then resets.
 */
export type StreamBufferPolicy = 'reset-stream' | 'block'

/**
 * Data payload bytes queued for one flush before writers are asked to wait: four
 * 64 KiB messages. It bounds the memory one flush takes and how long it holds the
 * event loop, and lets several streams share a flush (as in the yamux driver).
 */
export const MAX_QUEUED_DATA = 256 * 1024

/**
 * Control messages (Reset answers to streams we refuse or overflow, at most ~11
 * bytes each) queued while the channel is backpressured before we stop reading from
 * it: a peer that keeps opening streams beyond our limit without reading our answers
 * is throttled instead of growing our queue. 4096 messages = about 44 KiB. A
 * legitimate peer makes us queue at most one per stream it opens.
 */
export const MAX_QUEUED_CONTROL_FRAMES = 4096

/**
 * Bytes of a NewStream name kept (the rest is skipped, not buffered). Names are "purely
 * for debugging" (mplex.md, "Opening a new stream"); implementations send the stream
 * id in decimal (go-mplex, js-libp2p) or nothing (rust-libp2p).
 */
export const MAX_STREAM_NAME_BYTES = 256

export interface MplexOptions {
  /**
   * Streams the remote may have open at once; NewStream beyond it is answered with a
   * Reset. Default 1024, as js-libp2p-mplex (rust-libp2p allows 128).
   */
  maxInboundStreams?: number
  /** Streams we may have open at once; `newStream()` throws beyond it. Default 1024. */
  maxOutboundStreams?: number
  /**
   * Longest message body accepted; a longer one fails the connection
   * (`ERR_MESSAGE_TOO_LARGE`) as soon as its length is read. Default 1 MiB, the spec's
   * limit. Lower values break peers that send full-size messages (go-mplex and
   * js-libp2p do).
   */
  maxMessageSize?: number
  /**
   * Largest Message body we send: writes are split into messages of at most this
   * size. Default 64 KiB: the prefix costs at most 11 bytes per 64 KiB, and one
   * message holds the connection for ~0.5 ms at 1 Gbit/s, so other streams interleave
   * (mplex.md lists head-of-line blocking among its shortcomings). rust-libp2p bounds
   * its receive buffer in messages (32 per stream by default), so smaller messages
   * also cost such a peer less. At most 1 MiB, the spec's limit.
   */
  sendMessageSize?: number
  /**
   * Received bytes one stream may hold that its reader has not consumed yet; beyond
   * that `streamBufferPolicy` applies. Default 4 MiB, js-libp2p-mplex's
   * `maxStreamBufferSize`: four full-size messages, and an application that works
   * against js-libp2p sees the same limit here. Worst case per connection:
   * `maxStreamBufferSize` x (`maxInboundStreams` + `maxOutboundStreams`).
   */
  maxStreamBufferSize?: number
  /** See {@link StreamBufferPolicy}. Default `'reset-stream'`. */
  streamBufferPolicy?: StreamBufferPolicy
  /** Readable high-water mark of each stream. Default 64 KiB. */
  streamReadableHighWaterMark?: number
  /** Writable high-water mark of each stream (`write()` returns false above it). Default 64 KiB. */
  streamWritableHighWaterMark?: number
}

export type MplexConfig = Required<MplexOptions>

export const DEFAULTS: MplexConfig = {
  maxInboundStreams: 1024,
  maxOutboundStreams: 1024,
  maxMessageSize: SPEC_MAX_MESSAGE_SIZE,
  sendMessageSize: 64 * 1024,
  maxStreamBufferSize: 4 * 1024 * 1024,
  streamBufferPolicy: 'reset-stream',
  streamReadableHighWaterMark: 64 * 1024,
  streamWritableHighWaterMark: 64 * 1024
}

const NUMERIC = [
  'maxInboundStreams', 'maxOutboundStreams', 'maxMessageSize', 'sendMessageSize',
  'maxStreamBufferSize', 'streamReadableHighWaterMark', 'streamWritableHighWaterMark'
] as const

/** Fills in defaults and validates (TypeError / RangeError at the API edge). */
export function resolveOptions (options: MplexOptions = {}): MplexConfig {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options)
  const c: MplexConfig = { ...DEFAULTS }
  for (const key of NUMERIC) {
    const v = options[key]
    if (v === undefined) continue
    if (typeof v !== 'number' || Number.isNaN(v)) throw invalidArgType(`options.${key}`, 'a number', v)
    if (!Number.isSafeInteger(v) || v < 0) throw invalidArgValue(`options.${key}`, `must be a non-negative integer, got ${v}`)
    c[key] = v
  }
  const policy = options.streamBufferPolicy
  if (policy !== undefined) {
    if (policy !== 'reset-stream' && policy !== 'block') {
      throw invalidArgValue('options.streamBufferPolicy', 'must be "reset-stream" or "block"')
    }
    c.streamBufferPolicy = policy
  }
  // 1 KiB floor: below it the prefix overhead dominates and a NewStream name may not fit.
  if (c.maxMessageSize < 1024) throw invalidArgValue('options.maxMessageSize', 'must be at least 1024')
  if (c.sendMessageSize < 1 || c.sendMessageSize > SPEC_MAX_MESSAGE_SIZE) {
    throw invalidArgValue('options.sendMessageSize', `must be between 1 and ${SPEC_MAX_MESSAGE_SIZE}`)
  }
  for (const key of ['maxStreamBufferSize', 'streamReadableHighWaterMark', 'streamWritableHighWaterMark'] as const) {
    if (c[key] === 0) throw invalidArgValue(`options.${key}`, 'must be positive')
  }
  return c
}
