/**
 * A yamux stream as a Node Duplex: the muxer-independent {@link MuxedStreamBase} wired
 * to the session's record of the stream. Driver code.
 */
import { MuxedStreamBase } from '../stream-base.js'
import type { YamuxSession } from './session.js'
import type { StreamState } from './stream-state.js'
import type { YamuxConfig } from './config.js'

export class YamuxStream extends MuxedStreamBase<StreamState> {
  /**
   * Opens an outbound stream (`state` undefined; may throw ERR_MUXER_CLOSED or
   * ERR_TOO_MANY_STREAMS) or wraps an inbound one the session accepted.
   */
  constructor (session: YamuxSession, config: YamuxConfig, now: number, state?: StreamState) {
    super({
      session,
      id: state === undefined ? '' : String(state.id),
      direction: state === undefined ? 'outbound' : 'inbound',
      readableHighWaterMark: config.streamReadableHighWaterMark,
      writableHighWaterMark: config.streamWritableHighWaterMark
    })
    if (state === undefined) {
      state = session.openStream(this.sink, now)
      ;(this as { id: string }).id = String(state.id)
    } else {
      state.sink = this.sink
    }
    this.bind(state)
  }

  /** The yamux stream id. */
  get streamId (): number {
    return this.state.id
  }
}
