/**
 * A muxer under test on one end of a memory channel pair; the test speaks raw frames
 * on the other end (shared by the yamux and mplex driver tests, each with its own
 * muxer and frame decoder).
 */
import { MemoryChannel } from '../../src/transport/memory-channel.js'
import type { MuxedStream, StreamMuxerInit } from '../../src/interfaces/muxer.js'
import { collect, type Collector } from '../helpers/channel.js'

export interface RawPeer<M, F> {
  muxer: M
  /** The muxer's end of the channel. */
  ours: MemoryChannel
  /** The test's end. */
  raw: MemoryChannel
  seen: Collector
  inbound: MuxedStream[]
  closed: Promise<Error | undefined>
  /** Frames the muxer sent since the last call. */
  sent: () => F[]
}

export interface RawPeerOptions {
  direction: 'inbound' | 'outbound'
  channelHwm?: number | undefined
  /** Called on each inbound stream before it is recorded. */
  onInbound?: (s: MuxedStream) => void
}

export function rawPeerOf<M, F> (
  create: (channel: MemoryChannel, init: StreamMuxerInit) => M,
  decode: (bytes: Uint8Array) => F[],
  options: RawPeerOptions
): RawPeer<M, F> {
  const { direction, channelHwm, onInbound } = options
  const [ours, raw] = MemoryChannel.pair(channelHwm === undefined ? {} : { highWaterMark: channelHwm })
  const seen = collect(raw)
  const inbound: MuxedStream[] = []
  let resolveClosed!: (e: Error | undefined) => void
  const closed = new Promise<Error | undefined>((resolve) => { resolveClosed = resolve })
  const init: StreamMuxerInit = {
    direction,
    onIncomingStream: (s) => {
      onInbound?.(s)
      inbound.push(s)
    },
    onClose: (err) => { resolveClosed(err) }
  }
  const muxer = create(ours, init)
  let offset = 0
  return {
    muxer,
    ours,
    raw,
    seen,
    inbound,
    closed,
    sent: () => {
      const all = seen.bytes()
      const fresh = all.subarray(offset)
      offset = all.byteLength
      return decode(fresh)
    }
  }
}
