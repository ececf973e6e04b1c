/**
 * An mplex stream as a Node Duplex: the muxer-independent {@link MuxedStreamBase} wired
 * to the session's record of the stream. Driver code.
 */
import type { Direction } from '../../interfaces/muxer.js'
import { MuxedStreamBase } from '../stream-base.js'
import type { MplexSession } from './session.js'
import type { StreamState } from './stream-state.js'
import type { MplexConfig } from './config.js'

export class MplexStream extends MuxedStreamBase<StreamState> {
  /**
   * Opens an outbound stream (`state` undefined; may throw ERR_MUXER_CLOSED or
   * ERR_TOO_MANY_STREAMS) or wraps an inbound one the session accepted.
   * `connection`: whether we dialed the connection, which names the stream (see
   * {@link streamName}).
   */
  constructor (session: MplexSession, config: MplexConfig, connection: Direction, state?: StreamState) {
    super({
      session,
      id: '',
      direction: state === undefined ? 'outbound' : 'inbound',
      readableHighWaterMark: config.streamReadableHighWaterMark,
      writableHighWaterMark: config.streamWritableHighWaterMark
    })
    if (state === undefined) state = session.openStream(this.sink)
    else state.sink = this.sink
    this.bind(state)
    ;(this as { id: string }).id = streamName(state.id, state.initiator === (connection === 'outbound'))
  }

  /** The mplex stream id (in the namespace of the side that opened the stream). */
  get streamId (): number {
    return this.state.id
  }

  /** The name the opener gave in its NewStream (for debugging; go and js send the id). */
  get name (): string {
    return this.state.name
  }
}

/**
 * `MuxedStream.id`, the same string at both ends of the connection: mplex ids are per
 * opener, so the id alone is ambiguous (each side's first stream is 0). `d0` is the
 * first stream the connection's dialer opened, `l0` the listener's first.
 */
export function streamName (id: number, openedByDialer: boolean): string {
  return (openedByDialer ? 'd' : 'l') + String(id)
}
