/**
 * The part of a multiplexed stream that does not depend on the muxer: a Node `Duplex`
 * (`MuxedStream` in src/interfaces/muxer.ts) fed by a muxer session through a
 * {@link StreamSink}, with
 * - read-side flow control: the muxer is told only about bytes the application has
 *   actually taken out of the readable buffer (or an interceptor consumed), so a reader
 *   that stops reading stops the window updates and the remote writer stops;
 * - write-side backpressure: `write()` data is framed as far as the muxer allows and
 *   the write callback waits for the rest, so `write()` returns false and `'drain'`
 *   follows when the send window or the connection is full;
 * - half-close (`end()` sends the muxer's FIN, reading goes on), reset (`destroy()`),
 *   and the inbound interceptor used by multistream-select on streams.
 *
 * Driver code (a Node stream). A muxer subclasses it to open the stream in its session
 * (or wrap one the remote opened) and hands it the session's record of the stream
 * ({@link MuxedStreamBase.bind}); what the stream does is then told to the session
 * through {@link StreamSession}.
 */
import { Duplex } from 'node:stream'
import type { Direction, InboundInterceptor, MuxedStream } from '../interfaces/muxer.js'
import { WriteQueue } from './write-queue.js'

/** Where a muxer session delivers one stream's events. */
export interface StreamSink {
  /** Payload bytes, in order (owned by the sink from here on). */
  onData (data: Uint8Array): void
  /** The remote half-closed; no more data follows. */
  onRemoteEnd (): void
  /** The stream is gone (remote reset, or the connection ended). Final. */
  onReset (err: Error): void
  /** The stream may send again. */
  onWritable (): void
}

/**
 * What a stream tells its muxer session, about the session's record `State` of the
 * stream (the yamux and mplex sessions alike).
 */
export interface StreamSession<State> {
  /** Frames what it can of `queue` (views, no copies); true once the queue is empty. */
  write (s: State, queue: WriteQueue): boolean
  /** Our half-close (FIN), after everything written so far. */
  closeWrite (s: State): void
  /**
   * The stream is destroyed: reset it (RST) if it is still open at the muxer level.
   * `graceful`: the application ended its side and every byte is framed, so if the
   * remote has finished too, a FIN (not a reset) completes the stream.
   */
  release (s: State, graceful: boolean): void
  /** The application consumed `n` received bytes: the muxer may grant more. */
  consumed (s: State, n: number): void
}

export interface StreamBaseOptions<State> {
  session: StreamSession<State>
  id: string
  direction: Direction
  readableHighWaterMark: number
  writableHighWaterMark: number
}

type WriteCallback = (error?: Error | null) => void

// Set by MuxedStreamBase's static block (private access without per-stream closures).
let sinkData: (s: MuxedStreamBase, data: Uint8Array) => void
let sinkRemoteEnd: (s: MuxedStreamBase) => void
let sinkWritable: (s: MuxedStreamBase) => void

export abstract class MuxedStreamBase<State = unknown> extends Duplex implements MuxedStream {
  readonly id: string
  readonly direction: Direction
  protocol: string | undefined
  readonly timeline: { open: number, close?: number }
  /** What the muxer session calls; forwards to this stream. */
  protected readonly sink: StreamSink

  readonly #session: StreamSession<State>
  /** The session's record of this stream: set by {@link bind}, right after construction. */
  #state!: State
  #interceptor: InboundInterceptor | null = null
  readonly #queue = new WriteQueue()
  #pendingWrite: WriteCallback | undefined
  /** Bytes pushed into the readable side, and how many of them were reported read. */
  #pushed = 0
  #reported = 0

  constructor (options: StreamBaseOptions<State>) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark
    })
    this.id = options.id
    this.direction = options.direction
    this.timeline = { open: Date.now() }
    this.sink = new Sink(this)
    this.#session = options.session
  }

  static {
    // What `Sink` forwards to: the stream's private handlers, reached without a
    // closure per stream (see `Sink`).
    sinkData = (s, data) => { s.#onData(data) }
    sinkRemoteEnd = (s) => { s.#onRemoteEnd() }
    sinkWritable = (s) => { s.#pump() }
  }

  // --- for the muxer -------------------------------------------------------------

  /**
   * The session's record of this stream, once the subclass's constructor opened it
   * (outbound, with {@link sink}) or gave the remote's one our {@link sink} (inbound).
   */
  protected bind (state: State): void {
    this.#state = state
  }

  protected get state (): State {
    return this.#state
  }

  // --- MuxedStream ---------------------------------------------------------------

  setInboundInterceptor (fn: InboundInterceptor | null): void {
    this.#interceptor = fn
  }

  // --- readable side -------------------------------------------------------------

  override _read (): void {
    // Data arrives when the remote sends it; nothing to start here. (Consumption is
    // reported from read(): Node calls _read before it takes bytes out of the buffer,
    // and not again until the next push.)
  }

  /**
   * Every way of consuming a Readable goes through here (`read()`, flowing mode,
   * async iteration, pipe), except the direct 'data' emission inside `push()`, which
   * {@link #push} accounts for.
   */
  override read (size?: number): any { // eslint-disable-line @typescript-eslint/no-explicit-any
    const chunk = super.read(size)
    if (chunk !== null) this.#reportConsumed()
    return chunk
  }

  #onData (data: Uint8Array): void {
    if (this.destroyed) return
    const fn = this.#interceptor
    if (fn === null) {
      this.#push(data)
      return
    }
    const rest = fn(data)
    if (rest === undefined) {
      this.#session.consumed(this.#state, data.byteLength)
      return
    }
    if (this.#interceptor === fn) this.#interceptor = null
    const consumed = data.byteLength - rest.byteLength
    // An interceptor may hand back bytes of earlier chunks it already consumed (and
    // we already reported): those must not be reported a second time when read.
    if (consumed >= 0) this.#session.consumed(this.#state, consumed)
    else this.#reported -= consumed
    if (!this.destroyed && rest.byteLength > 0) this.#push(rest)
  }

  #onRemoteEnd (): void {
    if (this.destroyed) return
    const fn = this.#interceptor
    if (fn !== null) {
      this.#interceptor = null
      const rest = fn(null)
      if (this.destroyed) return
      if (rest !== undefined && rest.byteLength > 0) {
        this.#reported += rest.byteLength
        this.#push(rest)
      }
    }
    this.push(null)
  }

  #push (data: Uint8Array): void {
    this.#pushed += data.byteLength
    this.push(data)
    this.#reportConsumed()
  }

  /** Reports bytes that left the readable buffer since the last report. */
  #reportConsumed (): void {
    const read = this.#pushed - this.readableLength
    if (read > this.#reported && !this.destroyed) {
      const n = read - this.#reported
      this.#reported = read
      this.#session.consumed(this.#state, n)
    }
  }

  // --- writable side -------------------------------------------------------------

  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#queue.push(chunk)
    this.#pendingWrite = callback
    this.#pump()
  }

  override _writev (chunks: Array<{ chunk: Buffer }>, callback: WriteCallback): void {
    for (const c of chunks) this.#queue.push(c.chunk)
    this.#pendingWrite = callback
    this.#pump()
  }

  /**
   * Frames queued bytes; completes the write once all are framed. The callback is
   * called synchronously when everything fits, so all writes of one turn are framed
   * into the same flush. (As with any Duplex, a buffer passed to `write()` must not be
   * modified afterwards: the frames reference it until the flush at the end of the turn.)
   */
  #pump (): void {
    const cb = this.#pendingWrite
    if (cb === undefined) return
    if (this.#queue.length > 0 && !this.#session.write(this.#state, this.#queue)) return
    this.#pendingWrite = undefined
    cb()
  }

  /**
   * `for await` reads until the remote's half-close and then leaves the stream open
   * for writing, so a request/response handler can read the whole request and then
   * `end(reply)`. Node's default iterator destroys a Duplex when the loop ends, which
   * here would reset the stream and lose the reply (libp2p streams half-close; a
   * socket's reader rarely answers after EOF). Leaving the loop early (`break`,
   * `return`, a throw) still destroys (resets) the stream, as Node's iterator does.
   */
  override [Symbol.asyncIterator] (): AsyncIterableIterator<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return readUntilEnd(this)
  }

  override _final (callback: WriteCallback): void {
    this.#session.closeWrite(this.#state)
    callback()
  }

  override _destroy (err: Error | null, callback: (error?: Error | null) => void): void {
    this.#interceptor = null
    // Node destroys a Duplex (with an AbortError) when a `for await` over it ends,
    // possibly before `_final` ran: after end(), with every byte framed, that is a
    // close, not a reset.
    const graceful = (err === null || isNodeAbort(err)) && this.writableEnded &&
      this.#pendingWrite === undefined && this.#queue.length === 0 && this.writableLength === 0
    this.#queue.clear()
    this.#session.release(this.#state, graceful)
    this.timeline.close = Date.now()
    const pending = this.#pendingWrite
    this.#pendingWrite = undefined
    callback(err)
    // A write waiting for the window fails with the stream (Node only fails the
    // writes it still buffers itself).
    if (pending !== undefined) pending(err ?? new Error('the stream was destroyed'))
  }
}

/**
 * A stream's {@link StreamSink}: one small object with shared prototype methods
 * instead of four closures per stream. Opening a stream is a hot path (a DHT or a
 * bitswap burst opens hundreds), and each closure costs an allocation (and, under
 * tsx/esbuild's `keepNames`, a `defineProperty` call: ~3 µs of the ~21 µs a yamux
 * open + 1-byte echo + close costs both ends, measured with bench/stream-churn.ts).
 */
class Sink implements StreamSink {
  readonly #stream: MuxedStreamBase

  constructor (stream: MuxedStreamBase) {
    this.#stream = stream
  }

  onData (data: Uint8Array): void { sinkData(this.#stream, data) }
  onRemoteEnd (): void { sinkRemoteEnd(this.#stream) }
  onReset (err: Error): void { this.#stream.destroy(err) }
  onWritable (): void { sinkWritable(this.#stream) }
}

/** Iterates a stream's chunks; destroys it only when the loop is left early. */
async function * readUntilEnd (stream: Duplex): AsyncGenerator<Buffer> {
  let finished = false
  try {
    for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer
    finished = true
  } finally {
    if (!finished && !stream.destroyed) stream.destroy()
  }
}

/** The AbortError Node's stream utilities (async iterator, pipeline) destroy with. */
function isNodeAbort (err: Error): boolean {
  return err.name === 'AbortError' && (err as { code?: unknown }).code === 'ABORT_ERR'
}
