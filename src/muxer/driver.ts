/**
 * What the yamux and mplex drivers share: a pure muxer session connected to a
 * {@link ByteChannel}, Node streams and timers. A driver (`yamux/muxer.ts`,
 * `mplex/muxer.ts`) subclasses {@link MuxerDriver} with its session, its stream class
 * and the hooks below; every protocol decision stays the session's.
 *
 * Output is coalesced: frames produced during one turn of the event loop (by any
 * number of streams) leave in one `channel.writev()` (see flush.ts; measurements in
 * yamux/muxer.ts). When the channel's write returns false, nothing more is written
 * until `onDrain`, and streams are asked to wait, so backpressure reaches every
 * stream's `write()`.
 *
 * How a muxer ends:
 * - `close()`: no new streams either way, wait for ours to finish, queue the session's
 *   last frames (yamux: GoAway), send what is queued and end the channel, then give
 *   the remote {@link CLOSE_GRACE_MS} to close its side;
 * - the remote ends its side: the same end, now (its open streams end with an error);
 * - a session failure: the same end, with the channel destroyed right after the final
 *   write, or, when the connection is dead (the driver says which), destroyed at once;
 * - `abort(err)`, an aborted `close()`, or the channel closing under us: every stream
 *   is reset and the channel destroyed at once.
 * `StreamMuxerInit.onClose` is called once, at the first of these.
 */
import type { ByteChannel, ByteChannelHandler } from '../interfaces/channel.js'
import type { MuxedStream, StreamMuxer, StreamMuxerInit } from '../interfaces/muxer.js'
import { AbortError, codes, Lp2pError } from '../errors.js'
import { channelCloseError, remoteEndError } from './channel-close.js'
import { deferFlush, type FlushTarget } from './flush.js'

/**
 * After we end the channel (graceful close, or the remote ended its side) the remote
 * has this long to close its side before the channel is destroyed: enough to read our
 * last frames (yamux: the GoAway) and finish (go-mplex, rust-libp2p and js-libp2p
 * close theirs as soon as they read our end), while a peer that never closes cannot
 * hold the connection open.
 */
export const CLOSE_GRACE_MS = 10_000

/** What the driver asks of either session (yamux and mplex give these the same meaning). */
export interface DriverSession {
  /** The channel refused more (its write returned false) and has not drained yet. */
  readonly blocked: boolean
  /** Graceful close begins: no new streams either way. */
  beginClose (): void
  /** Ends the session: every live stream is reset with `err`. Final. */
  terminate (err: Error | undefined): void
  /** The channel took the last output; `ok` is what its write returned. */
  flushed (ok: boolean): void
  /** The channel drained after a write returned false. */
  drained (): void
}

/**
 * The driver's one handler object: the session's handler (the union of the yamux and
 * mplex `SessionHandler`s, `State` being the session's stream record), the channel's
 * {@link ByteChannelHandler} and the deferred flush's {@link FlushTarget}.
 */
export interface DriverEvents<State> extends ByteChannelHandler, FlushTarget {
  onInboundStream (state: State): void
  onOutput (): void
  onStreamRemoved (state: State): void
  onFailure (err: Lp2pError): void
  /** yamux: the remote sent GoAway(0). */
  onRemoteGoAway (): void
  /** mplex, `'block'` policy: the reader caught up. */
  onInputUnblocked (): void
}

/**
 * A muxer over a {@link ByteChannel}: `Session` is the driver's session, `State` its
 * record of a stream, `Stream` the Duplex made from one, kept by `Key` in opening order.
 *
 * Memory per connection: one handler object ({@link handler}) instead of closures, a
 * static timer callback with the muxer as argument, and no instance `#method` in a
 * driver (its private helpers are static, taking the muxer): a class with instance
 * private methods gives each instance a brand slot, so a second one would cost 8
 * bytes per muxer.
 */
export abstract class MuxerDriver<Session extends DriverSession, State, Stream extends MuxedStream, Key> implements StreamMuxer {
  abstract readonly protocol: string
  readonly #channel: ByteChannel
  readonly #init: StreamMuxerInit
  /** The {@link #Events} object: the channel's, the session's and the deferred flush's handler. */
  readonly #events: DriverEvents<State>
  readonly #streams = new Map<Key, Stream>()
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

  /** The driver's constructor then makes its session with {@link handler} and attaches that to `channel`. */
  constructor (channel: ByteChannel, init: StreamMuxerInit) {
    this.#channel = channel
    this.#init = init
    this.#events = new MuxerDriver.#Events(this)
  }

  /**
   * The session's handler, the channel's {@link ByteChannelHandler} and the deferred
   * flush's {@link FlushTarget} in one small object with shared prototype methods,
   * instead of ten closures per connection (under tsx each closure also carries a
   * property dictionary from esbuild's `keepNames`: ~0.3 KiB per closure per idle
   * connection).
   */
  static readonly #Events = class MuxerEvents implements DriverEvents<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    readonly #m: AnyDriver
    constructor (muxer: AnyDriver) { this.#m = muxer }

    onInboundStream (state: unknown): void {
      const m = this.#m
      const stream = m.createStream(state)
      m.#streams.set(m.streamKey(stream), stream)
      try {
        m.#init.onIncomingStream(stream)
      } catch (err) {
        stream.destroy(err as Error)
      }
    }

    onOutput (): void { this.#m.#scheduleFlush() }

    onStreamRemoved (state: unknown): void {
      const m = this.#m
      m.#streams.delete(m.stateKey(state))
      if (m.#streams.size === 0) m.onIdle()
    }

    /** The remote accepts no new streams: we open none either, and may close once idle. */
    onRemoteGoAway (): void {
      const m = this.#m
      if (m.#status === 'open') m.#status = 'closing'
      if (m.#streams.size === 0) m.onIdle()
    }

    onInputUnblocked (): void { this.#m.onInputUnblocked() }
    onFailure (err: Lp2pError): void { this.#m.#fail(err) }
    onData (chunk: Uint8Array): void { this.#m.receive(chunk) }
    onEnd (): void { this.#m.#onChannelEnd() }
    onClose (err?: Error): void { this.#m.#onChannelClose(err) }
    onDrain (): void { this.#m.#onDrain() }
    onFlush (): void { this.#m.#flush() }
  }

  // --- for the driver ------------------------------------------------------------

  /** The driver's session, made with {@link handler}. */
  protected abstract get session (): Session
  /** Wraps a stream the remote opened (`state`), or opens one (`undefined`; may throw). */
  protected abstract createStream (state?: State): Stream
  /** A stream's key in the stream map, from the stream and from the session's record. */
  protected abstract streamKey (stream: Stream): Key
  protected abstract stateKey (state: State): Key
  /** Everything the session has to send, as buffers for one `writev`, or undefined. */
  protected abstract takeOutput (): Uint8Array[] | undefined
  /** Bytes from the channel, for the session; pauses the input if the session says so. */
  protected abstract receive (chunk: Uint8Array): void
  /** The channel drained (the session knows it already). */
  protected abstract onDrained (): void
  /** A flush gave the channel the session's output. */
  protected abstract onFlushed (): void
  /** A session failure (`onFailure`): whether the connection can still carry a final write. */
  protected abstract canSendAfter (err: Lp2pError): boolean

  /** A graceful close, once our streams are done: queues the session's last frames. */
  protected finalFrames (): void {}
  /** We ended the channel (the status is `closed`). */
  protected onChannelEnded (): void {}
  /** The status became `closed`: stop the driver's own timers. */
  protected stopTimers (): void {}
  /** mplex, `'block'` policy: the reader caught up (see {@link DriverEvents}). */
  protected onInputUnblocked (): void {}

  /** No stream is left: releases the `close()` waiting for that. */
  protected onIdle (): void {
    const waiters = this.#idleWaiters
    this.#idleWaiters = undefined
    if (waiters !== undefined) for (const w of waiters) w()
  }

  /** Destroys the channel with `err` (`abort()`, a dead connection, a failure). */
  protected destroyChannel (err: Error): void {
    this.#channel.destroy(err)
  }

  /** The session's handler, for the driver's constructor; then `channel.attach(handler)`. */
  protected get handler (): DriverEvents<State> {
    return this.#events
  }

  /** Whether `close()` was called (it may still be waiting). */
  protected get closeStarted (): boolean {
    return this.#closing !== undefined
  }

  protected get channelClosed (): boolean {
    return this.#channelClosed
  }

  protected get inputPaused (): boolean {
    return this.#inputPaused
  }

  /** Pauses or resumes the channel's input (`channel.pause()`), once per change. */
  protected setInputPaused (paused: boolean): void {
    if (paused === this.#inputPaused) return
    this.#inputPaused = paused
    if (paused) this.#channel.pause()
    else this.#channel.resume()
  }

  /**
   * Counts the channel closed now, as if it had reported its close: releases the
   * `close()` waiting for that and the grace timer.
   */
  protected onChannelClosed (): void {
    this.#channelClosed = true
    if (this.#grace !== undefined) clearTimeout(this.#grace)
    this.#grace = undefined
    const waiters = this.#channelCloseWaiters
    this.#channelCloseWaiters = undefined
    if (waiters !== undefined) for (const w of waiters) w()
  }

  // --- StreamMuxer ---------------------------------------------------------------

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
    const stream = this.createStream()
    this.#streams.set(this.streamKey(stream), stream)
    return stream
  }

  async close (options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#closing ??= this.#close(options.signal)
    await this.#closing
  }

  abort (err: Error): void {
    if (this.#status === 'closed') {
      if (!this.#channelClosed) this.destroyChannel(err)
      return
    }
    this.#status = 'closed'
    this.stopTimers()
    this.session.terminate(err)
    this.destroyChannel(err)
    this.#finalize(err)
  }

  // --- closing -------------------------------------------------------------------

  async #close (signal: AbortSignal | undefined): Promise<void> {
    if (this.#status === 'closed') return
    const onAbort = (): void => {
      this.abort(new AbortError('the muxer close was aborted', { cause: signal?.reason }))
      this.onIdle()
      this.onChannelClosed()
    }
    if (signal?.aborted === true) {
      onAbort()
      return
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      this.#status = 'closing'
      this.session.beginClose()
      if (this.#streams.size > 0) {
        await new Promise<void>((resolve) => { (this.#idleWaiters ??= []).push(resolve) })
      }
      if (!this.#isClosed()) {
        this.finalFrames()
        this.#finish(undefined)
      }
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

  /**
   * Sends what is queued and ends the channel. A graceful close gives the remote a
   * grace period to end its side; a close for an error (a protocol violation, the
   * remote's GoAway error) destroys the channel right after the final write, as
   * go-yamux does: the connection has already left the node's books, so a peer that
   * never closes its side must not keep the socket.
   */
  #finish (err: Lp2pError | undefined): void {
    this.#status = 'closed'
    this.stopTimers()
    const out = this.takeOutput()
    if (out !== undefined && !this.#channelClosed) this.#channel.writev(out)
    this.session.terminate(err)
    this.#channel.end()
    this.onChannelEnded()
    if (!this.#channelClosed) {
      if (err !== undefined && err.code !== codes.ERR_CONNECTION_CLOSED) {
        this.destroyChannel(err)
      } else {
        this.#grace = setTimeout(MuxerDriver.#onGrace, CLOSE_GRACE_MS, this)
        this.#grace.unref()
      }
    }
    this.#finalize(err)
  }

  /** The session failed (every stream was already reset with `err`). */
  #fail (err: Lp2pError): void {
    if (this.#status === 'closed') return
    if (this.canSendAfter(err)) {
      this.#finish(err)
      return
    }
    this.#status = 'closed'
    this.stopTimers()
    this.destroyChannel(err)
    this.#finalize(err)
  }

  #finalize (err: Error | undefined): void {
    if (this.#finalized) return
    this.#finalized = true
    this.onIdle()
    this.#init.onClose?.(err)
  }

  static #onGrace (muxer: AnyDriver): void {
    muxer.#channel.destroy()
  }

  // --- channel events ------------------------------------------------------------

  #onDrain (): void {
    this.session.drained()
    this.onDrained()
    this.#scheduleFlush()
  }

  /** The remote ended its side: no frame can arrive any more. */
  #onChannelEnd (): void {
    if (this.#status === 'closed') return
    const open = this.#streams.size
    this.#finish(remoteEndError(open))
  }

  #onChannelClose (err: Error | undefined): void {
    this.onChannelClosed()
    if (this.#status === 'closed') return
    this.#status = 'closed'
    this.stopTimers()
    const e = channelCloseError(err, this.#streams.size)
    this.session.terminate(e)
    this.#finalize(e)
  }

  // --- output --------------------------------------------------------------------

  #scheduleFlush (): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    deferFlush(this.#events)
  }

  #flush (): void {
    this.#flushScheduled = false
    const session = this.session
    if (this.#status === 'closed' || session.blocked) return
    const out = this.takeOutput()
    if (out === undefined) return
    session.flushed(this.#channel.writev(out))
    this.onFlushed()
  }
}

type AnyDriver = MuxerDriver<DriverSession, any, MuxedStream, any> // eslint-disable-line @typescript-eslint/no-explicit-any
