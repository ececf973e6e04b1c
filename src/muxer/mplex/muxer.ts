/**
 * The mplex driver: connects an {@link MplexSession} to a {@link ByteChannel} and Node
 * streams. Thin: every protocol decision is the session's.
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
import type { ByteChannel, ByteChannelHandler } from '../../interfaces/channel.js'
import type { Direction, MuxedStream, StreamMuxer, StreamMuxerInit } from '../../interfaces/muxer.js'
import { AbortError, codes, Lp2pError } from '../../errors.js'
import { channelCloseError, remoteEndError } from '../channel-close.js'
import { deferFlush, type FlushTarget } from '../flush.js'
import { MplexSession, type SessionHandler } from './session.js'
import { MplexStream, streamName } from './stream.js'
import type { StreamState } from './stream-state.js'
import type { MplexConfig } from './config.js'

export const MPLEX_PROTOCOL = '/mplex/6.7.0'

/**
 * After we end the channel (graceful close) the remote has this long to close its
 * side before the channel is destroyed: go-mplex, rust-libp2p and js-libp2p close
 * theirs as soon as they read our end, while a peer that never closes cannot hold the
 * connection open. The same grace as the yamux driver.
 */
export const CLOSE_GRACE_MS = 10_000

export class MplexMuxer implements StreamMuxer {
  readonly protocol = MPLEX_PROTOCOL
  readonly #channel: ByteChannel
  readonly #init: StreamMuxerInit
  readonly #config: MplexConfig
  readonly #direction: Direction
  readonly #session: MplexSession
  /** The {@link #Events} object: the deferred flush calls it too. */
  readonly #events: FlushTarget
  /** By `MuxedStream.id`, in opening order. */
  readonly #streams = new Map<string, MplexStream>()
  #status: 'open' | 'closing' | 'closed' = 'open'
  #closing: Promise<void> | undefined
  #flushScheduled = false
  #inputPaused = false
  #channelClosed = false
  #finalized = false
  #grace: NodeJS.Timeout | undefined
  /** Callers of `close()` waiting for the last stream, then for the channel's close; rare, so created on demand. */
  #idleWaiters: Array<() => void> | undefined
  #channelCloseWaiters: Array<() => void> | undefined

  constructor (channel: ByteChannel, init: StreamMuxerInit, config: MplexConfig) {
    this.#channel = channel
    this.#init = init
    this.#config = config
    this.#direction = init.direction
    const events = this.#events = new MplexMuxer.#Events(this)
    this.#session = new MplexSession(config, events)
    channel.attach(events)
  }

  /**
   * The session's {@link SessionHandler}, the channel's {@link ByteChannelHandler} and
   * the deferred flush's {@link FlushTarget} in one small object with shared prototype
   * methods, instead of a closure per event per connection (as in the yamux driver).
   */
  static readonly #Events = class MuxerEvents implements SessionHandler, ByteChannelHandler, FlushTarget {
    readonly #m: MplexMuxer
    constructor (muxer: MplexMuxer) { this.#m = muxer }

    onInboundStream (state: StreamState): void {
      const m = this.#m
      const stream = new MplexStream(m.#session, m.#config, m.#direction, state)
      m.#streams.set(stream.id, stream)
      try {
        m.#init.onIncomingStream(stream)
      } catch (err) {
        stream.destroy(err as Error)
      }
    }

    onOutput (): void { this.#m.#scheduleFlush() }
    onStreamRemoved (state: StreamState): void { this.#m.#onStreamRemoved(state) }
    onInputUnblocked (): void { queueMicrotask(() => { this.#m.#resumeInput() }) }
    onFailure (err: Lp2pError): void { this.#m.#fail(err) }

    onData (chunk: Uint8Array): void {
      this.#m.#session.receive(chunk)
      this.#m.#updateInput()
    }

    onEnd (): void { this.#m.#onChannelEnd() }
    onClose (err?: Error): void { this.#m.#onChannelClose(err) }
    onDrain (): void { this.#m.#onDrain() }
    onFlush (): void { this.#m.#flush() }
  }

  get status (): 'open' | 'closing' | 'closed' {
    return this.#status
  }

  get streams (): readonly MuxedStream[] {
    return [...this.#streams.values()]
  }

  newStream (): MuxedStream {
    if (this.#status !== 'open') {
      throw new Lp2pError(codes.ERR_MUXER_CLOSED, `the muxer is ${this.#status}`)
    }
    const stream = new MplexStream(this.#session, this.#config, this.#direction)
    this.#streams.set(stream.id, stream)
    return stream
  }

  async close (options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#closing ??= this.#close(options.signal)
    await this.#closing
  }

  abort (err: Error): void {
    if (this.#status === 'closed') {
      if (!this.#channelClosed) this.#destroyChannel(err)
      return
    }
    this.#status = 'closed'
    this.#session.terminate(err)
    this.#destroyChannel(err)
    this.#finalize(err)
  }

  // --- closing -------------------------------------------------------------------

  /**
   * mplex has no message that ends a session (no GoAway): we stop opening and accepting
   * streams, wait for ours to finish, then end the channel.
   */
  async #close (signal: AbortSignal | undefined): Promise<void> {
    if (this.#status === 'closed') return
    const onAbort = (): void => {
      this.abort(new AbortError('the muxer close was aborted', { cause: signal?.reason }))
    }
    if (signal?.aborted === true) {
      onAbort()
      return
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      this.#status = 'closing'
      this.#session.beginClose()
      if (this.#streams.size > 0) {
        await new Promise<void>((resolve) => { (this.#idleWaiters ??= []).push(resolve) })
      }
      if (!this.#isClosed()) this.#finish(undefined)
      if (!this.#channelClosed) {
        await new Promise<void>((resolve) => { (this.#channelCloseWaiters ??= []).push(resolve) })
      }
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** A method, so that narrowing does not survive an await. */
  #isClosed (): boolean {
    return this.#status === 'closed'
  }

  /** Sends what is queued, ends the channel, and gives the remote a grace period. */
  #finish (err: Lp2pError | undefined): void {
    this.#status = 'closed'
    const out = this.#session.takeOutput()
    if (out !== undefined && !this.#channelClosed) this.#channel.writev(out)
    this.#session.terminate(err)
    this.#channel.end()
    // Input may be paused (a reader was behind, or we throttled a flood): the remote's
    // close must still reach us, and the terminated session ignores any bytes now.
    if (this.#inputPaused) {
      this.#inputPaused = false
      this.#channel.resume()
    }
    if (!this.#channelClosed) {
      this.#grace = setTimeout(MplexMuxer.#onGrace, CLOSE_GRACE_MS, this)
      this.#grace.unref()
    }
    this.#finalize(err)
  }

  /** A protocol error: nothing more can be understood on this connection. */
  #fail (err: Lp2pError): void {
    if (this.#status === 'closed') return
    this.#status = 'closed'
    this.#destroyChannel(err)
    this.#finalize(err)
  }

  /**
   * Destroys the channel and counts it closed at once: a paused channel (a reader
   * behind under 'block') would not report its close until resumed, and a pending
   * `close()` waits for that report.
   */
  #destroyChannel (err: Error): void {
    this.#channel.destroy(err)
    this.#onChannelClosed()
  }

  #finalize (err: Error | undefined): void {
    if (this.#finalized) return
    this.#finalized = true
    this.#releaseIdleWaiters()
    this.#init.onClose?.(err)
  }

  static #onGrace (muxer: MplexMuxer): void {
    muxer.#channel.destroy()
  }

  #onStreamRemoved (state: StreamState): void {
    this.#streams.delete(streamName(state.id, state.initiator === (this.#direction === 'outbound')))
    if (this.#streams.size === 0) this.#releaseIdleWaiters()
  }

  #releaseIdleWaiters (): void {
    const waiters = this.#idleWaiters
    this.#idleWaiters = undefined
    if (waiters !== undefined) for (const w of waiters) w()
  }

  // --- channel events ------------------------------------------------------------

  #resumeInput (): void {
    this.#session.resumeInput()
    this.#updateInput()
  }

  #updateInput (): void {
    if (this.#channelClosed) return
    const pause = this.#status !== 'closed' && this.#session.inputPaused
    if (pause === this.#inputPaused) return
    this.#inputPaused = pause
    if (pause) this.#channel.pause()
    else this.#channel.resume()
  }

  #onDrain (): void {
    this.#session.drained()
    this.#updateInput()
    this.#scheduleFlush()
  }

  /** The remote ended its side: no message can arrive any more. */
  #onChannelEnd (): void {
    if (this.#status === 'closed') return
    const open = this.#streams.size
    this.#finish(remoteEndError(open))
  }

  #onChannelClose (err: Error | undefined): void {
    this.#onChannelClosed()
    if (this.#status === 'closed') return
    this.#status = 'closed'
    const e = channelCloseError(err, this.#streams.size)
    this.#session.terminate(e)
    this.#finalize(e)
  }

  #onChannelClosed (): void {
    this.#channelClosed = true
    if (this.#grace !== undefined) clearTimeout(this.#grace)
    this.#grace = undefined
    const waiters = this.#channelCloseWaiters
    this.#channelCloseWaiters = undefined
    if (waiters !== undefined) for (const w of waiters) w()
  }

  // --- output --------------------------------------------------------------------

  #scheduleFlush (): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    deferFlush(this.#events)
  }

  #flush (): void {
    this.#flushScheduled = false
    const session = this.#session
    if (this.#status === 'closed' || session.blocked) return
    const out = session.takeOutput()
    if (out === undefined) return
    session.flushed(this.#channel.writev(out))
    // The answers that throttled our input may have left with this flush.
    this.#updateInput()
  }
}
