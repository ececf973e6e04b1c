/**
 * QUIC's own stream multiplexing behind the {@link StreamMuxer} interface, so a QUIC
 * connection is the same `Connection` with the same streams as a yamux one
 * (`specs/quic.md`: QUIC "natively supports stream multiplexing"; no muxer is
 * negotiated).
 *
 * Driver code between the engine and {@link QuicStream}s:
 * - writes: one engine write per stream at a time; the stream's write callback waits
 *   for it, so `write()` returns false and `'drain'` follows when the remote's flow
 *   control credit (its receive window) is used up (RFC 9000 §4.1);
 * - reads: one engine read per stream at a time, and none while the stream holds a
 *   high-water mark of unconsumed bytes, so a reader that stops reading stops the
 *   credit and the remote writer;
 * - `end()` is the FIN, `destroy()` RESET_STREAM + STOP_SENDING, and a remote reset
 *   (or STOP_SENDING) destroys the stream with `ERR_STREAM_RESET`;
 * - limits: the remote's streams by MAX_STREAMS in the engine, ours by
 *   `maxOutboundStreams` here.
 *
 * How it ends, as the byte-stream muxers do (src/muxer/driver.ts):
 * - `close()`: no new streams either way, wait for ours to finish, then close the
 *   connection (CONNECTION_CLOSE, code 0). QUIC has no GoAway: the remote tells a
 *   graceful close from a failure by whether streams were still open;
 * - the connection closes under us (the remote, the idle timeout): streams still open
 *   end with ERR_CONNECTION_CLOSED, and so does the muxer (none open: graceful);
 * - `abort(err)`: every stream is reset with `err` and the connection closed now.
 */
import type { MuxedStream, StreamMuxer, StreamMuxerInit } from '../../interfaces/muxer.js'
import type { StreamSession } from '../../muxer/stream-base.js'
import type { WriteQueue } from '../../muxer/write-queue.js'
import { AbortError, codes, Lp2pError } from '../../errors.js'
import { channelCloseError } from '../../muxer/channel-close.js'
import { engineError, type EngineConnection, type EngineStream, type QuicEngine } from './engine.js'
import { QUIC_PROTOCOL } from './protocol.js'
import { QuicStream, quicStreamId, type QuicStreamRecord } from './stream.js'

export interface QuicMuxerInit {
  engine: QuicEngine
  connection: EngineConnection
  /** True when we dialed: our streams are client-initiated. */
  client: boolean
  maxOutboundStreams: number
  streamHighWaterMark: number
}

export class QuicMuxer implements StreamMuxer, StreamSession<QuicStreamRecord> {
  readonly protocol = QUIC_PROTOCOL
  readonly #engine: QuicEngine
  readonly #conn: EngineConnection
  readonly #init: StreamMuxerInit
  readonly #options: QuicMuxerInit
  readonly #streams: QuicStream[] = []
  #status: 'open' | 'closing' | 'closed' = 'open'
  #outbound = 0
  #nextOutboundIndex = 0
  /** Resolves a graceful close waiting for the last stream. */
  #drained: (() => void) | undefined
  /** The graceful close in progress. */
  #closing: Promise<void> | undefined

  constructor (options: QuicMuxerInit, init: StreamMuxerInit) {
    this.#engine = options.engine
    this.#conn = options.connection
    this.#options = options
    this.#init = init
    this.#acceptNext()
  }

  get status (): 'open' | 'closing' | 'closed' {
    return this.#status
  }

  get streams (): readonly MuxedStream[] {
    return this.#streams
  }

  newStream (): MuxedStream {
    if (this.#status !== 'open') throw new Lp2pError(codes.ERR_MUXER_CLOSED, `the QUIC connection is ${this.#status}`)
    if (this.#outbound >= this.#options.maxOutboundStreams) {
      throw new Lp2pError(codes.ERR_TOO_MANY_STREAMS, `${this.#outbound} outbound streams open (maxOutboundStreams)`)
    }
    const stream = this.#add(quicStreamId(this.#nextOutboundIndex++, !this.#options.client), 'outbound', undefined)
    this.#outbound++
    this.#engine.openStream(this.#conn).then((native) => { this.#opened(stream, native) }, (err: unknown) => { this.#failed(stream.record, err) })
    return stream
  }

  async close (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#status === 'closed') return
    // A close already waiting for streams: wait with it (its signal governs).
    if (this.#closing !== undefined) {
      await this.#closing
      return
    }
    this.#closing = this.#close(options.signal)
    await this.#closing
  }

  async #close (signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) {
      this.abort(new AbortError('QUIC connection close aborted', { cause: signal.reason }))
      return
    }
    this.#status = 'closing'
    if (this.#streams.length > 0) {
      await new Promise<void>((resolve) => {
        const onAbort = (): void => { this.abort(new AbortError('QUIC connection close aborted', { cause: signal?.reason })) }
        signal?.addEventListener('abort', onAbort, { once: true })
        this.#drained = () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
      })
    }
    // Aborted, or closed under us, while waiting.
    if (this.#ended()) return
    this.#engine.close(this.#conn)
    this.#end(undefined)
  }

  abort (err: Error): void {
    if (this.#status === 'closed') return
    this.#engine.close(this.#conn)
    this.#end(err)
  }

  // --- StreamSession: what a QuicStream asks of us ---------------------------------

  write (s: QuicStreamRecord, queue: WriteQueue): boolean {
    const native = s.native
    if (native === undefined || s.writing || s.gone) return false
    const parts = queue.take(queue.length)
    const data = parts.length === 1 ? parts[0] as Uint8Array : Buffer.concat(parts)
    s.writing = true
    this.#engine.write(native, data).then(() => { this.#written(s) }, (err: unknown) => { this.#failed(s, err) })
    // The write callback waits for the engine (see #written): Node holds what follows.
    return false
  }

  closeWrite (s: QuicStreamRecord): void {
    s.finishing = true
    this.#finishIfDone(s)
  }

  release (s: QuicStreamRecord, graceful: boolean): void {
    if (s.gone) return
    s.gone = true
    const native = s.native
    if (native !== undefined) {
      // Graceful: our FIN stands; a remote still sending is told we stopped reading.
      if (!graceful || !s.finished) this.#engine.reset(native)
      else if (!s.remoteEnded) this.#engine.stopReading(native)
    }
    this.#remove(s)
  }

  consumed (s: QuicStreamRecord, n: number): void {
    s.unread -= n
    this.#readMore(s)
  }

  // --- internals -------------------------------------------------------------------

  #ended (): boolean {
    return this.#status === 'closed'
  }

  #add (id: string, direction: 'inbound' | 'outbound', native: EngineStream | undefined): QuicStream {
    const stream = new QuicStream({ session: this, id, direction, highWaterMark: this.#options.streamHighWaterMark, native })
    this.#streams.push(stream)
    return stream
  }

  #remove (s: QuicStreamRecord): void {
    const i = this.#streams.findIndex((st) => st.record === s)
    if (i === -1) return
    const [stream] = this.#streams.splice(i, 1)
    if (stream?.direction === 'outbound') this.#outbound--
    if (this.#streams.length === 0) this.#drained?.()
  }

  #acceptNext (): void {
    this.#engine.acceptStream(this.#conn).then((native) => {
      if (this.#status !== 'open') {
        // Closing: no new streams either way.
        this.#engine.reset(native)
      } else {
        const stream = this.#add(quicStreamId(this.#engine.streamIndex(native), this.#options.client), 'inbound', native)
        this.#readMore(stream.record)
        this.#init.onIncomingStream(stream)
      }
      this.#acceptNext()
    }, () => {
      // The connection is closing; #connectionClosed ends the muxer.
    })
  }

  #opened (stream: QuicStream, native: EngineStream): void {
    const s = stream.record
    if (s.gone) {
      this.#engine.reset(native)
      return
    }
    s.native = native
    stream.assignId(quicStreamId(this.#engine.streamIndex(native), !this.#options.client))
    s.sink.onWritable()
    this.#finishIfDone(s)
    this.#readMore(s)
  }

  #written (s: QuicStreamRecord): void {
    s.writing = false
    if (s.gone) return
    s.sink.onWritable()
    this.#finishIfDone(s)
  }

  #finishIfDone (s: QuicStreamRecord): void {
    if (!s.finishing || s.finished || s.writing || s.native === undefined || s.gone) return
    s.finished = true
    this.#engine.finish(s.native)
  }

  #readMore (s: QuicStreamRecord): void {
    const native = s.native
    if (native === undefined || s.reading || s.remoteEnded || s.gone || s.unread >= this.#options.streamHighWaterMark) return
    s.reading = true
    this.#engine.read(native, this.#options.streamHighWaterMark).then((chunk) => {
      s.reading = false
      if (s.gone) return
      if (chunk === null) {
        s.remoteEnded = true
        s.sink.onRemoteEnd()
        return
      }
      s.unread += chunk.byteLength
      s.sink.onData(chunk)
      this.#readMore(s)
    }, (err: unknown) => {
      s.reading = false
      this.#failed(s, err)
    })
  }

  /** An engine call on a stream failed: a reset ends the stream, anything else the connection. */
  #failed (s: QuicStreamRecord, err: unknown): void {
    if (s.gone || this.#status === 'closed') return
    const error = engineError(err, 'QUIC stream')
    if (error.code === codes.ERR_STREAM_RESET) s.sink.onReset(error)
    else this.connectionClosed(err)
  }

  /**
   * The connection closed under us (the remote, a timeout, or the engine): told by
   * its {@link QuicUpgrade}, which watches the engine connection.
   */
  connectionClosed (err: unknown): void {
    if (this.#status === 'closed') return
    const cause = err === undefined ? undefined : engineError(err, 'the QUIC connection closed')
    this.#end(channelCloseError(cause, this.#streams.length))
  }

  /** Final: streams still open are destroyed with `err`; onClose once. */
  #end (err: Error | undefined): void {
    if (this.#status === 'closed') return
    this.#status = 'closed'
    const streamErr = err ?? new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'the QUIC connection closed')
    for (const stream of this.#streams.splice(0)) stream.destroy(streamErr)
    this.#outbound = 0
    this.#drained?.()
    this.#init.onClose?.(err)
  }
}
