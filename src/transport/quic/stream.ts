/**
 * A QUIC stream as a libp2p stream: the same Node `Duplex` as a yamux or mplex stream
 * (src/muxer/stream-base.ts gives the write queue, half-close, reset, the inbound
 * interceptor and read accounting), over one bidirectional QUIC stream of the engine
 * (RFC 9000 §2-3) instead of a muxer session's frames.
 *
 * Driver code. What the base calls "the session" is the {@link QuicMuxer}, which
 * moves bytes between this record and the engine.
 */
import type { Direction } from '../../interfaces/muxer.js'
import { MuxedStreamBase, type StreamSession, type StreamSink } from '../../muxer/stream-base.js'
import type { EngineStream } from './engine.js'

/** The muxer's record of one stream. */
export class QuicStreamRecord {
  /** The engine's stream; undefined while an outbound open waits for stream credit. */
  native: EngineStream | undefined
  readonly sink: StreamSink
  /** A write is with the engine (one at a time: the engine's stream is not reentrant). */
  writing = false
  /** The application ended its side; the FIN goes after the write in flight. */
  finishing = false
  finished = false
  /** The remote's FIN arrived. */
  remoteEnded = false
  /** A read is with the engine (one at a time). */
  reading = false
  /** Bytes handed to the stream and not yet consumed: reading pauses above the high-water mark. */
  unread = 0
  /** Destroyed: the muxer forgot it. */
  gone = false

  constructor (sink: StreamSink, native: EngineStream | undefined) {
    this.sink = sink
    this.native = native
  }
}

export interface QuicStreamInit {
  session: StreamSession<QuicStreamRecord>
  id: string
  direction: Direction
  highWaterMark: number
  native: EngineStream | undefined
}

export class QuicStream extends MuxedStreamBase<QuicStreamRecord> {
  constructor (init: QuicStreamInit) {
    super({
      session: init.session,
      id: init.id,
      direction: init.direction,
      readableHighWaterMark: init.highWaterMark,
      writableHighWaterMark: init.highWaterMark
    })
    this.bind(new QuicStreamRecord(this.sink, init.native))
  }

  /** The muxer's record of this stream. */
  get record (): QuicStreamRecord {
    return this.state
  }

  /**
   * Corrects the id once the engine assigned the stream: outbound ids are predicted
   * in opening order, which the engine may change when opens wait for credit.
   */
  assignId (id: string): void {
    if (id !== this.id) (this as { id: string }).id = id
  }
}

/**
 * The QUIC stream id (RFC 9000 §2.1): the index among the streams of one initiator and
 * type, shifted left by two, with bit 0 set for server-initiated streams (bit 1, the
 * unidirectional flag, is never set: libp2p uses bidirectional streams only).
 */
export function quicStreamId (index: number, serverInitiated: boolean): string {
  return String(index * 4 + (serverInitiated ? 1 : 0))
}
