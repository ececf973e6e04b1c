/**
 * The mplex driver: connects an {@link MplexSession} to a {@link ByteChannel} and Node
 * streams. Thin: every protocol decision is the session's. What it shares with the
 * yamux driver (channel events, flush, streams, closing) is {@link MuxerDriver}; what
 * is its own: pausing the input, stream names, and no keep-alive.
 *
 * Output is coalesced as in the yamux driver: messages produced during one turn of
 * the event loop (by any number of streams) leave in one `channel.writev()`, flushed
 * once the microtask queue is empty (a microtask that schedules a `process.nextTick`),
 * so small writes share one encrypted message and one syscall. When the channel's
 * write returns false nothing more is written until `onDrain`, and streams are asked
 * to wait, so backpressure reaches every stream's `write()`.
 *
 * Input is paused (`channel.pause()`) while the session says so: under the `'block'`
 * policy while a reader is behind, and while the remote floods us with messages that
 * need an answer without reading our answers.
 */
import type { ByteChannel } from '../../interfaces/channel.js'
import type { Direction, StreamMuxerInit } from '../../interfaces/muxer.js'
import { MuxerDriver } from '../driver.js'
import { MplexSession } from './session.js'
import { MplexStream, streamName } from './stream.js'
import type { StreamState } from './stream-state.js'
import type { MplexConfig } from './config.js'

export const MPLEX_PROTOCOL = '/mplex/6.7.0'

/**
 * Streams are keyed by `MuxedStream.id`. mplex has no message that ends a session (no
 * GoAway): a graceful close stops opening and accepting streams, waits for ours to
 * finish, then ends the channel.
 */
export class MplexMuxer extends MuxerDriver<MplexSession, StreamState, MplexStream, string> {
  readonly protocol = MPLEX_PROTOCOL
  readonly #config: MplexConfig
  readonly #direction: Direction
  readonly #session: MplexSession

  constructor (channel: ByteChannel, init: StreamMuxerInit, config: MplexConfig) {
    super(channel, init)
    this.#config = config
    this.#direction = init.direction
    this.#session = new MplexSession(config, this.handler)
    channel.attach(this.handler)
  }

  // --- MuxerDriver ---------------------------------------------------------------

  protected get session (): MplexSession {
    return this.#session
  }

  protected createStream (state?: StreamState): MplexStream {
    return new MplexStream(this.#session, this.#config, this.#direction, state)
  }

  protected streamKey (stream: MplexStream): string {
    return stream.id
  }

  protected stateKey (state: StreamState): string {
    return streamName(state.id, state.initiator === (this.#direction === 'outbound'))
  }

  protected takeOutput (): Uint8Array[] | undefined {
    return this.#session.takeOutput()
  }

  protected receive (chunk: Uint8Array): void {
    this.#session.receive(chunk)
    MplexMuxer.#updateInput(this)
  }

  protected onDrained (): void {
    MplexMuxer.#updateInput(this)
  }

  protected onFlushed (): void {
    // The answers that throttled our input may have left with this flush.
    MplexMuxer.#updateInput(this)
  }

  /** A protocol error: nothing more can be understood on this connection. */
  protected canSendAfter (): boolean {
    return false
  }

  protected override onChannelEnded (): void {
    // Input may be paused (a reader was behind, or we throttled a flood): the remote's
    // close must still reach us, and the terminated session ignores any bytes now.
    this.setInputPaused(false)
  }

  /**
   * Destroys the channel and counts it closed at once: a paused channel (a reader
   * behind under 'block') would not report its close until resumed, and a pending
   * `close()` waits for that report.
   */
  protected override destroyChannel (err: Error): void {
    super.destroyChannel(err)
    this.onChannelClosed()
  }

  protected override onInputUnblocked (): void {
    queueMicrotask(() => { MplexMuxer.#resumeInput(this) })
  }

  // --- input ---------------------------------------------------------------------
  // Static, taking the muxer: no second private brand per muxer (see MuxerDriver).

  static #resumeInput (m: MplexMuxer): void {
    m.#session.resumeInput()
    MplexMuxer.#updateInput(m)
  }

  static #updateInput (m: MplexMuxer): void {
    if (m.channelClosed) return
    m.setInputPaused(m.status !== 'closed' && m.#session.inputPaused)
  }
}
