/**
 * The mplex session as a pure state machine (`specs/mplex.md`, "Protocol"): bytes in,
 * messages and stream events out. No socket, no timer, no clock, no await.
 *
 * Inputs: {@link receive} (bytes from the channel), {@link resumeInput},
 * {@link openStream}, {@link write}, {@link consumed}, {@link closeWrite},
 * {@link release}, {@link reset}, {@link beginClose}, {@link terminate},
 * {@link flushed} / {@link drained}.
 * Outputs: {@link takeOutput} (buffers for `channel.writev`), the
 * {@link SessionHandler} and per-stream sink callbacks, and {@link inputPaused}.
 *
 * Streams are keyed by (id, who opened them): the flag of each message says whose
 * namespace its id is in. What interop requires for messages that do not fit the
 * state (checked against go-mplex, rust-libp2p and js-libp2p-mplex):
 * - Message, Close or Reset for a stream we do not know: ignored. It is the normal
 *   race after we reset a stream (all three ignore it; go-mplex calls it "a
 *   perfectly valid case"). It costs us no memory: the body is skipped, not buffered.
 * - Message after the remote's own Close: dropped, as go-mplex and rust-libp2p do.
 *   The reader has seen the end already; resetting would also kill our write side.
 * - NewStream for an id of theirs that is still open: the session fails
 *   (ERR_MUXER_PROTOCOL), as go-mplex and js-libp2p do. An id whose stream is gone
 *   may be reused ("undefined behaviour" in the spec): it opens a new stream.
 * - NewStream beyond `maxInboundStreams`, or while we are closing: answered with a
 *   Reset, as rust-libp2p and js-libp2p do.
 * - Flag 7, an invalid varint, or a length over `maxMessageSize`: the session fails.
 * - A body on Close or Reset (the spec says it is empty): skipped.
 *
 * No flow control: each stream counts the bytes its reader has not consumed, and at
 * `maxStreamBufferSize` the policy applies (config.ts, StreamBufferPolicy). Under
 * `'block'` the session stops decoding, keeps the rest of the input in the decoder,
 * and {@link inputPaused} tells the driver to pause the channel until the reader
 * catches up.
 */
import { codes, Lp2pError } from '../../errors.js'
import { Flag, FrameDecoder, MAX_STREAM_ID, sentByInitiator, type FrameHeader } from './frame.js'
import { OutputQueue } from './output.js'
import { SendScheduler } from '../send-scheduler.js'
import { StreamState, type StreamSink } from './stream-state.js'
import { MAX_QUEUED_CONTROL_FRAMES, MAX_QUEUED_DATA, MAX_STREAM_NAME_BYTES, type MplexConfig } from './config.js'
import type { WriteQueue } from '../write-queue.js'

export type SessionState =
  | { readonly kind: 'open' }
  /** No new streams either way; open ones may finish. */
  | { readonly kind: 'closing' }
  /** Final. `error` when it did not end gracefully. */
  | { readonly kind: 'closed', readonly error: Error | undefined }

export interface SessionHandler {
  /** The remote opened a stream and it was accepted; the handler sets `stream.sink`. */
  onInboundStream (stream: StreamState): void
  /** Messages were queued: flush soon (called once until the next {@link MplexSession.takeOutput}). */
  onOutput (): void
  /** A stream left the session (both sides closed, or reset). */
  onStreamRemoved (stream: StreamState): void
  /** `'block'` policy: the reader caught up; call {@link MplexSession.resumeInput}. */
  onInputUnblocked (): void
  /** The session failed; every stream was already reset with `err`. */
  onFailure (err: Lp2pError): void
}

/** What the body of the message being received is for. */
type Body =
  | { readonly kind: 'data', readonly stream: StreamState }
  | { readonly kind: 'name', readonly id: number, readonly parts: Uint8Array[], kept: number }
  | { readonly kind: 'skip' }

const SKIP: Body = { kind: 'skip' }
const textDecoder = new TextDecoder()

export class MplexSession {
  readonly #config: MplexConfig
  readonly #handler: SessionHandler
  readonly #decoder: FrameDecoder
  readonly #output = new OutputQueue()
  /** mplex has no send window: the connection-wide budget is the only limit. */
  readonly #scheduler: SendScheduler<StreamState>
  /** Streams we opened, by id. */
  readonly #ours = new Map<number, StreamState>()
  /** Streams the remote opened, by id. */
  readonly #theirs = new Map<number, StreamState>()
  #state: SessionState = { kind: 'open' }
  #nextId = 0
  #body: Body = SKIP
  /** `'block'` policy: the stream whose reader we wait for. */
  #blockedOn: StreamState | undefined
  #outputRequested = false

  constructor (config: MplexConfig, handler: SessionHandler) {
    this.#config = config
    this.#handler = handler
    this.#decoder = new FrameDecoder(config.maxMessageSize)
    this.#scheduler = new SendScheduler(this.#output, MAX_QUEUED_DATA)
  }

  get state (): SessionState {
    return this.#state
  }

  get streamCount (): number {
    return this.#ours.size + this.#theirs.size
  }

  /** The channel refused more (its write returned false) and has not drained yet. */
  get blocked (): boolean {
    return this.#scheduler.blocked
  }

  /** Messages queued and not yet taken. */
  get queuedFrames (): number {
    return this.#output.frames
  }

  /** Input bytes received and not yet processed (held while blocked); 0 once closed. */
  get pendingInput (): number {
    return this.#state.kind === 'closed' ? 0 : this.#decoder.bufferedBytes
  }

  /**
   * Whether the driver should stop reading the channel: a reader is behind under the
   * `'block'` policy, or our output is backpressured and the remote keeps making us
   * queue answers (MAX_QUEUED_CONTROL_FRAMES).
   */
  get inputPaused (): boolean {
    return this.#blockedOn !== undefined ||
      (this.#scheduler.blocked && this.#output.controlFrames >= MAX_QUEUED_CONTROL_FRAMES)
  }

  // --- streams -------------------------------------------------------------------

  /**
   * Opens an outbound stream: its NewStream (named with its id in decimal, as
   * go-mplex and js-libp2p do) goes out with the next flush. Throws
   * ERR_MUXER_CLOSED / ERR_TOO_MANY_STREAMS.
   */
  openStream (sink: StreamSink): StreamState {
    if (this.#state.kind !== 'open') {
      throw new Lp2pError(codes.ERR_MUXER_CLOSED, `the muxer is ${this.#state.kind}`)
    }
    if (this.#ours.size >= this.#config.maxOutboundStreams) {
      throw new Lp2pError(codes.ERR_TOO_MANY_STREAMS, `too many outbound streams (limit ${this.#config.maxOutboundStreams})`)
    }
    const id = this.#nextId
    if (id > MAX_STREAM_ID) throw new Lp2pError(codes.ERR_TOO_MANY_STREAMS, 'stream ids exhausted on this connection')
    this.#nextId++
    const name = String(id)
    const s = new StreamState(id, true, name, sink)
    this.#ours.set(id, s)
    this.#output.pushControl(Flag.NewStream, id, asciiBytes(name))
    this.#requestOutput()
    return s
  }

  /**
   * Frames as much of `queue` as the connection allows, in messages of at most
   * `sendMessageSize`. Returns true when the queue is empty; otherwise the stream's
   * sink gets `onWritable` when it may continue.
   */
  write (s: StreamState, queue: WriteQueue): boolean {
    if (!s.localSending) {
      queue.clear()
      return true
    }
    while (queue.length > 0) {
      if (this.#scheduler.full) {
        this.#scheduler.wait(s)
        return false
      }
      const n = Math.min(this.#config.sendMessageSize, queue.length)
      this.#output.pushDataPrefix(s.messageFlag, s.id, n)
      for (const piece of queue.take(n)) this.#output.pushPayload(piece)
      this.#requestOutput()
    }
    return true
  }

  /** The application took `n` bytes of this stream's received data. */
  consumed (s: StreamState, n: number): void {
    s.buffered = Math.max(0, s.buffered - n)
    if (this.#blockedOn === s && s.buffered < this.#config.maxStreamBufferSize) this.#unblock()
  }

  /** Our half-close: a Close after everything written so far (mplex.md, "Closing a stream"). */
  closeWrite (s: StreamState): void {
    if (s.phase === 'open') s.phase = 'local-closed'
    else if (s.phase === 'remote-closed') s.phase = 'closed'
    else return
    this.#output.pushControl(s.closeFlag, s.id)
    this.#requestOutput()
    if (s.phase === 'closed') this.#remove(s)
  }

  /**
   * The stream's owner is gone. `graceful`: it ended its side with everything written;
   * if the remote has finished too, our Close completes the stream. Otherwise (the
   * remote may still send, and nobody will read) the stream is reset.
   */
  release (s: StreamState, graceful: boolean): void {
    if (graceful && s.phase === 'remote-closed') this.closeWrite(s)
    else this.reset(s)
  }

  /** Resets the stream (mplex.md, "Resetting a stream"), unless it is already gone. */
  reset (s: StreamState): void {
    if (!s.live) return
    s.phase = 'reset'
    this.#output.pushControl(s.resetFlag, s.id)
    this.#requestOutput()
    this.#remove(s)
  }

  // --- session -------------------------------------------------------------------

  /** Graceful close begins: no new streams either way (inbound NewStream is reset). */
  beginClose (): void {
    if (this.#state.kind === 'open') this.#state = { kind: 'closing' }
  }

  /** Ends the session: every live stream is reset with `err` (the channel closed, or we aborted). Final. */
  terminate (err: Error | undefined): void {
    if (this.#state.kind === 'closed') return
    this.#state = { kind: 'closed', error: err }
    this.#resetAll(err)
  }

  /** The channel took the last output; `ok` is what its write returned. */
  flushed (ok: boolean): void {
    this.#scheduler.flushed(ok)
  }

  /** The channel drained after a write returned false. */
  drained (): void {
    this.#scheduler.drained()
  }

  /** Everything to send, as buffers for one `writev`, or undefined. */
  takeOutput (): Uint8Array[] | undefined {
    this.#outputRequested = false
    return this.#output.take()
  }

  // --- receiving -----------------------------------------------------------------

  /** Bytes from the channel. Protocol errors fail the session; never throws them. */
  receive (chunk: Uint8Array): void {
    if (this.#state.kind === 'closed') return
    this.#decoder.push(chunk)
    this.#process()
  }

  /** `'block'` policy: continue with the input held while a reader was behind. */
  resumeInput (): void {
    if (this.#state.kind === 'closed' || this.#blockedOn !== undefined) return
    this.#process()
  }

  #process (): void {
    const decoder = this.#decoder
    const limit = this.#config.maxStreamBufferSize
    const block = this.#config.streamBufferPolicy === 'block'
    try {
      for (;;) {
        let maxPiece = Infinity
        const body = this.#body
        if (block && body.kind === 'data' && decoder.bodyRemaining > 0 && body.stream.live) {
          maxPiece = limit - body.stream.buffered
          if (maxPiece <= 0) {
            this.#blockedOn = body.stream
            return
          }
        }
        const ev = decoder.next(maxPiece)
        if (ev === undefined) return
        if (ev instanceof Uint8Array) {
          this.#onBody(ev)
          if (decoder.bodyRemaining === 0) this.#endBody()
        } else {
          this.#onHeader(ev)
          if (ev.length === 0) this.#endBody()
        }
        if (this.#isClosed()) return
      }
    } catch (err) {
      if (!(err instanceof Lp2pError)) throw err
      this.#fail(err)
    }
  }

  #onHeader (h: FrameHeader): void {
    if (h.flag === Flag.NewStream) {
      if (this.#theirs.has(h.streamId)) {
        throw new Lp2pError(codes.ERR_MUXER_PROTOCOL, `NewStream for stream ${h.streamId}, which is open`)
      }
      this.#body = { kind: 'name', id: h.streamId, parts: [], kept: 0 }
      return
    }
    // Flags sent by the opener concern their stream; the others concern ours.
    const s = sentByInitiator(h.flag) ? this.#theirs.get(h.streamId) : this.#ours.get(h.streamId)
    this.#body = SKIP
    if (s === undefined) return
    switch (h.flag) {
      case Flag.MessageInitiator:
      case Flag.MessageReceiver:
        if (s.remoteSending) this.#body = { kind: 'data', stream: s }
        return
      case Flag.CloseInitiator:
      case Flag.CloseReceiver:
        this.#onRemoteClose(s)
        return
      default:
        this.#onRemoteReset(s)
    }
  }

  #onBody (piece: Uint8Array): void {
    const body = this.#body
    if (body.kind === 'data') {
      const s = body.stream
      if (!s.live) return
      const room = this.#config.maxStreamBufferSize - s.buffered
      if (piece.byteLength > room) {
        // 'reset-stream' (under 'block' a piece never overflows: see #process). The
        // reader gets exactly the limit, then the error, however the input was split.
        if (room > 0) {
          s.buffered += room
          s.sink.onData(piece.subarray(0, room))
          if (!s.live) return
        }
        this.#body = SKIP
        this.reset(s)
        s.sink.onReset(new Lp2pError(codes.ERR_STREAM_BUFFER_FULL,
          `stream ${s.id}: the reader fell more than ${this.#config.maxStreamBufferSize} bytes behind; reset`))
        return
      }
      s.buffered += piece.byteLength
      s.sink.onData(piece)
    } else if (body.kind === 'name' && body.kept < MAX_STREAM_NAME_BYTES) {
      const keep = piece.subarray(0, MAX_STREAM_NAME_BYTES - body.kept)
      body.parts.push(keep)
      body.kept += keep.byteLength
    }
  }

  #endBody (): void {
    const body = this.#body
    this.#body = SKIP
    if (body.kind === 'name') this.#onNewStream(body.id, decodeName(body.parts))
  }

  #onNewStream (id: number, name: string): void {
    if (this.#state.kind !== 'open' || this.#theirs.size >= this.#config.maxInboundStreams) {
      this.#output.pushControl(Flag.ResetReceiver, id)
      this.#requestOutput()
      return
    }
    const s = new StreamState(id, false, name, placeholderSink)
    this.#theirs.set(id, s)
    this.#handler.onInboundStream(s)
  }

  #onRemoteClose (s: StreamState): void {
    if (s.phase === 'open') s.phase = 'remote-closed'
    else if (s.phase === 'local-closed') s.phase = 'closed'
    else return // a repeated Close changes nothing
    if (s.phase === 'closed') this.#remove(s)
    s.sink.onRemoteEnd()
  }

  #onRemoteReset (s: StreamState): void {
    if (!s.live) return
    s.phase = 'reset'
    this.#remove(s)
    s.sink.onReset(new Lp2pError(codes.ERR_STREAM_RESET, `stream ${s.id} was reset by the remote`))
  }

  // --- internals -----------------------------------------------------------------

  /** A method, not a property check, so that narrowing does not survive callbacks. */
  #isClosed (): boolean {
    return this.#state.kind === 'closed'
  }

  #fail (err: Lp2pError): void {
    if (this.#state.kind === 'closed') return
    this.#state = { kind: 'closed', error: err }
    this.#resetAll(err)
    this.#handler.onFailure(err)
  }

  #resetAll (err: Error | undefined): void {
    this.#scheduler.stop()
    // The error is made only for a stream to reset: its stack capture is the costliest
    // step of a close with no streams left.
    let reason: Error | undefined
    this.#blockedOn = undefined
    this.#body = SKIP
    for (const s of [...this.#ours.values(), ...this.#theirs.values()]) {
      s.phase = 'reset'
      this.#remove(s)
      s.sink.onReset(reason ??= err ?? new Lp2pError(codes.ERR_MUXER_CLOSED, 'the muxer closed'))
    }
  }

  #remove (s: StreamState): void {
    const map = s.initiator ? this.#ours : this.#theirs
    if (map.get(s.id) !== s) return
    map.delete(s.id)
    this.#scheduler.forget(s)
    this.#handler.onStreamRemoved(s)
    // Nobody will read it any more: its remaining input is skipped, not waited for.
    if (this.#blockedOn === s) this.#unblock()
  }

  #unblock (): void {
    this.#blockedOn = undefined
    if (this.#state.kind !== 'closed') this.#handler.onInputUnblocked()
  }

  #requestOutput (): void {
    if (this.#outputRequested) return
    this.#outputRequested = true
    this.#handler.onOutput()
  }
}

function asciiBytes (s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

function decodeName (parts: Uint8Array[]): string {
  if (parts.length === 0) return ''
  return textDecoder.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts))
}

/** Replaced by the handler's sink before any event can reach it. */
const placeholderSink: StreamSink = {
  onData () {},
  onRemoteEnd () {},
  onReset () {},
  onWritable () {}
}
