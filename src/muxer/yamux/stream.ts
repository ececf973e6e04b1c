/**
 * A yamux stream as a Node Duplex: the muxer-independent {@link MuxedStreamBase} wired
 * to the session's record of the stream. Driver code.
 */
import { MuxedStreamBase } from '../stream-base.js'
import type { WriteQueue } from '../write-queue.js'
import type { YamuxSession } from './session.js'
import type { StreamState } from './stream-state.js'
import type { YamuxConfig } from './config.js'

export class YamuxStream extends MuxedStreamBase {
  readonly #session: YamuxSession
  readonly #state: StreamState

  /**
   * Opens an outbound stream (`state` undefined; may throw ERR_MUXER_CLOSED or
   * ERR_TOO_MANY_STREAMS) or wraps an inbound one the session accepted.
   */
  constructor (session: YamuxSession, config: YamuxConfig, now: number, state?: StreamState) {
    super({
      id: state === undefined ? '' : String(state.id),
      direction: state === undefined ? 'outbound' : 'inbound',
      readableHighWaterMark: config.streamReadableHighWaterMark,
      writableHighWaterMark: config.streamWritableHighWaterMark
    })
    this.#session = session
    if (state === undefined) {
      state = session.openStream(this.sink, now)
      ;(this as { id: string }).id = String(state.id)
    } else {
      state.sink = this.sink
    }
    this.#state = state
  }

  /** The yamux stream id. */
  get streamId (): number {
    return this.#state.id
  }

  protected sendData (queue: WriteQueue): boolean {
    return this.#session.write(this.#state, queue)
  }

  protected sendEnd (): void {
    this.#session.closeWrite(this.#state)
  }

  protected sendClose (graceful: boolean): void {
    this.#session.release(this.#state, graceful)
  }

  protected onConsumed (n: number): void {
    this.#session.consumed(this.#state, n)
  }
}
