/**
 * The yamux session as a pure state machine (`specs/yamux.md`, "Message Flow" and
 * "Implementation considerations"): bytes and time in, frames, stream events and
 * deadlines out. No socket, no timer, no clock, no await.
 *
 * Inputs: {@link receive} (bytes from the channel), {@link openStream},
 * {@link write}, {@link consumed}, {@link closeWrite}, {@link reset}, {@link beginClose},
 * {@link sendGoAway}, {@link handleTimeout}, {@link flushed} / {@link drained}.
 * Outputs: {@link takeOutput} (buffers for `channel.writev`), the {@link SessionHandler}
 * and per-stream {@link StreamSink} callbacks, {@link nextTimeout}.
 *
 * Frames for streams that are gone (we reset them, or both sides closed) are ignored:
 * they are the normal race between the two ends (a Data frame sent before our RST
 * arrived, a Window Update that crossed our FIN), and go-yamux and js-libp2p-yamux
 * ignore them too. Frames no correct peer sends are protocol errors: GoAway(1) and
 * the session ends. Those are: a bad version or type, a Data length over the limit,
 * Data beyond the window granted, Data or Window Update on stream 0, Ping or GoAway on
 * a stream, a SYN with our id parity, a SYN for a stream that is open. Data after the
 * remote's own FIN resets that stream only.
 *
 * Ids of finished streams are not remembered (that would grow without bound), so a SYN
 * reusing one opens a new stream, as in go-yamux and js-libp2p-yamux. Ids are not
 * required to increase either: rust-yamux and we send the SYN with a stream's first
 * frame, so streams can appear out of id order.
 */
import type { Direction } from '../../interfaces/muxer.js'
import { codes, Lp2pError } from '../../errors.js'
import { Flag, FrameDecoder, FrameType, GoAwayCode, MAX_UINT32, type FrameHeader } from './frame.js'
import { OutputQueue } from './output.js'
import { StreamState, type StreamSink } from './stream-state.js'
import { ACK_BACKLOG, MAX_QUEUED_CONTROL_FRAMES, type YamuxConfig } from './config.js'
import { YamuxSendScheduler } from './send-scheduler.js'
import { KeepAlive } from './keep-alive.js'
import type { WriteQueue } from '../write-queue.js'

export type SessionState =
  | { readonly kind: 'open' }
  /** No new streams: we are closing (`local`) and/or the remote sent GoAway(0) (`remote`). */
  | { readonly kind: 'closing', readonly local: boolean, readonly remote: boolean }
  /** Final. `error` when it did not end gracefully. */
  | { readonly kind: 'closed', readonly error: Error | undefined }

export interface SessionHandler {
  /** The remote opened a stream and it was accepted; the handler sets `stream.sink`. */
  onInboundStream (stream: StreamState): void
  /** Frames were queued: flush soon (called once until the next {@link YamuxSession.takeOutput}). */
  onOutput (): void
  /** A stream left the session (both sides closed, or reset). */
  onStreamRemoved (stream: StreamState): void
  /** The remote sent GoAway(0): it accepts no new streams. */
  onRemoteGoAway (): void
  /** The session failed; every stream was already reset with `err`. */
  onFailure (err: Lp2pError): void
}

export class YamuxSession {
  readonly #config: YamuxConfig
  readonly #handler: SessionHandler
  readonly #client: boolean
  readonly #decoder: FrameDecoder
  readonly #output = new OutputQueue()
  readonly #streams = new Map<number, StreamState>()
  #state: SessionState = { kind: 'open' }
  #nextId: number
  #inbound = 0
  #outbound = 0
  #unackedInbound = 0
  #unackedOutbound = 0
  readonly #synQueue: StreamState[] = []
  #dirty: StreamState[] = []
  readonly #scheduler: YamuxSendScheduler
  #outputRequested = false

  // the Data frame being received: its header and stream (undefined: discard)
  #current: FrameHeader | undefined
  #target: StreamState | undefined
  readonly #keepAlive: KeepAlive

  /** `jitter`: uniform in [0, 1), spreads keep-alive pings (`keep-alive.ts`); 0 in tests. */
  constructor (direction: Direction, config: YamuxConfig, handler: SessionHandler, now: number, jitter = 0) {
    this.#config = config
    this.#handler = handler
    // "The client side should use odd ID's, and the server even" (yamux.md, "StreamID Field").
    this.#client = direction === 'outbound'
    this.#nextId = this.#client ? 1 : 2
    this.#decoder = new FrameDecoder({ maxDataLength: Math.max(config.maxStreamWindow, config.initialStreamWindow) })
    this.#scheduler = new YamuxSendScheduler(this.#output, config.maxMessageSize)
    this.#keepAlive = new KeepAlive(config.keepAliveInterval, config.keepAliveTimeout, now, jitter)
  }

  get state (): SessionState {
    return this.#state
  }

  /** Latest round-trip time measured with our pings, in the clock's unit. */
  get rtt (): number | undefined {
    return this.#keepAlive.rtt
  }

  /** Live streams, in opening order. */
  get streams (): IterableIterator<StreamState> {
    return this.#streams.values()
  }

  get streamCount (): number {
    return this.#streams.size
  }

  /** The channel refused more (its write returned false) and has not drained yet. */
  get blocked (): boolean {
    return this.#scheduler.blocked
  }

  /** Frames queued and not yet taken. */
  get queuedFrames (): number {
    return this.#output.frames
  }

  /**
   * Whether the driver should stop reading the channel: our output is backpressured and
   * the remote keeps making us queue control frames (see MAX_QUEUED_CONTROL_FRAMES).
   */
  get inputThrottled (): boolean {
    return this.#scheduler.blocked && this.#output.frames >= MAX_QUEUED_CONTROL_FRAMES
  }

  // --- streams -------------------------------------------------------------------

  /** Opens an outbound stream. Throws ERR_MUXER_CLOSED / ERR_TOO_MANY_STREAMS. */
  openStream (sink: StreamSink, now: number): StreamState {
    if (this.#state.kind !== 'open') {
      throw new Lp2pError(codes.ERR_MUXER_CLOSED, `the muxer is ${this.#state.kind === 'closed' ? 'closed' : 'closing'}`)
    }
    if (this.#outbound >= this.#config.maxOutboundStreams) {
      throw new Lp2pError(codes.ERR_TOO_MANY_STREAMS, `too many outbound streams (limit ${this.#config.maxOutboundStreams})`)
    }
    const id = this.#nextId
    if (id > MAX_UINT32) throw new Lp2pError(codes.ERR_TOO_MANY_STREAMS, 'stream ids exhausted on this connection')
    this.#nextId += 2
    const backlogFull = this.#unackedOutbound >= ACK_BACKLOG
    const s = new StreamState(id, 'outbound', sink, backlogFull ? 'syn-queued' : 'syn-pending', this.#config.initialStreamWindow, now)
    this.#streams.set(id, s)
    this.#outbound++
    if (backlogFull) {
      this.#synQueue.push(s)
    } else {
      s.unacked = true
      this.#unackedOutbound++
      this.#markDirty(s)
    }
    return s
  }

  /**
   * Frames as much of `queue` as the stream's send window, the flush budget and the
   * channel allow. Returns true when the queue is empty; otherwise the stream's sink
   * gets `onWritable` when it may continue.
   */
  write (s: StreamState, queue: WriteQueue): boolean {
    if (!s.localSending) {
      queue.clear()
      return true
    }
    while (queue.length > 0) {
      const cap = this.#scheduler.capacity(s)
      if (cap === 0) {
        this.#scheduler.wait(s)
        return false
      }
      const n = Math.min(cap, queue.length)
      this.#output.pushHeader(FrameType.Data, this.#openFlags(s), s.id, n)
      for (const piece of queue.take(n)) this.#output.pushPayload(piece)
      s.sendWindow -= n
      this.#requestOutput()
    }
    return true
  }

  /** The application took `n` bytes of this stream's received data. */
  consumed (s: StreamState, n: number): void {
    s.recvBuffered = Math.max(0, s.recvBuffered - n)
    if (s.wantsWindowUpdate) this.#markDirty(s)
  }

  /**
   * Our half-close: the FIN follows everything written so far, on a Window Update of
   * its own (with any credit due). Never on a Data frame with payload: js-libp2p-yamux 8
   * applies a frame's flags before its payload and drops data that arrives with a FIN.
   */
  closeWrite (s: StreamState): void {
    if (s.phase === 'open') s.phase = 'local-fin'
    else if (s.phase === 'remote-fin') s.phase = 'closed'
    else return
    s.finPending = true
    if (s.handshake !== 'syn-queued') this.#markDirty(s)
    if (s.phase === 'closed') this.#remove(s)
  }

  /**
   * The stream's owner is gone. `graceful`: it ended its side with everything written;
   * if the remote has finished too, our FIN completes the stream. Otherwise (the
   * remote may still send, and nobody will read) the stream is reset.
   */
  release (s: StreamState, graceful: boolean): void {
    if (graceful && s.phase === 'remote-fin') this.closeWrite(s)
    else this.reset(s)
  }

  /** Resets the stream (RST), unless it is already gone. */
  reset (s: StreamState): void {
    if (!s.live) return
    s.phase = 'reset'
    if (s.handshake !== 'syn-queued' && s.handshake !== 'syn-pending') {
      // The remote knows this stream: tell it. (A stream whose SYN never left needs nothing.)
      this.#output.pushHeader(FrameType.WindowUpdate, Flag.RST, s.id, 0)
      this.#requestOutput()
    }
    this.#remove(s)
  }

  // --- session -------------------------------------------------------------------

  /** Graceful close begins: no new streams either way (inbound SYNs are reset). */
  beginClose (): void {
    if (this.#state.kind === 'open') this.#state = { kind: 'closing', local: true, remote: false }
    else if (this.#state.kind === 'closing' && !this.#state.local) this.#state = { kind: 'closing', local: true, remote: this.#state.remote }
  }

  /** Queues a GoAway frame (yamux.md, "Session termination"). */
  sendGoAway (code: number): void {
    if (this.#state.kind === 'closed') return
    this.#output.pushHeader(FrameType.GoAway, 0, 0, code)
    this.#requestOutput()
  }

  /**
   * Ends the session: every live stream is reset with `err` (the channel closed, or we
   * aborted). Final.
   */
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

  /**
   * Everything to send, as buffers for one `writev`, or undefined. Control frames of
   * dirty streams (SYN, ACK, Window Update, FIN; merged into one frame per stream) are
   * produced here, after the Data frames queued in this turn.
   */
  takeOutput (now: number): Uint8Array[] | undefined {
    this.#outputRequested = false
    const dirty = this.#dirty
    if (dirty.length > 0) {
      this.#dirty = []
      for (const s of dirty) this.#emitControl(s, now)
    }
    if (this.#keepAlive.wantsProbe && this.#output.frames > 0 && this.#state.kind !== 'closed') {
      // The first RTT measurement rides with the first frames we send anyway.
      this.#sendPing(now)
    }
    this.#keepAlive.flushed()
    return this.#output.take()
  }

  // --- keep-alive ----------------------------------------------------------------

  /** When {@link handleTimeout} should run next (the clock's unit), or undefined. */
  nextTimeout (): number | undefined {
    return this.#state.kind === 'closed' ? undefined : this.#keepAlive.nextTimeout()
  }

  /**
   * Sends the keep-alive ping when due; fails the session with ERR_KEEP_ALIVE_TIMEOUT
   * when nothing at all arrived for `keepAliveTimeout` while a ping of ours was
   * outstanding (`keep-alive.ts`). Returns the next deadline.
   */
  handleTimeout (now: number): number | undefined {
    if (this.#state.kind === 'closed') return undefined
    const due = this.#keepAlive.due(now)
    if (due === 'timeout') {
      const silent = Math.round(this.#keepAlive.silentFor(now))
      this.#fail(new Lp2pError(codes.ERR_KEEP_ALIVE_TIMEOUT, `nothing received for ${silent} ms, a keep-alive ping unanswered (keepAliveTimeout ${this.#config.keepAliveTimeout} ms)`))
      return undefined
    }
    if (due === 'ping') {
      this.#sendPing(now)
      this.#requestOutput()
    }
    return this.nextTimeout()
  }

  /**
   * Whether nothing has arrived for `staleAfter`: a new stream should wait for a
   * {@link probe} before it is handed out.
   */
  stale (now: number): boolean {
    return this.#state.kind !== 'closed' && this.#keepAlive.silentFor(now) >= this.#config.staleAfter
  }

  /** When the remote was last heard from (the clock's unit). */
  get lastReceiveAt (): number {
    return this.#keepAlive.lastReceiveAt
  }

  /**
   * A liveness probe: pings now unless a ping of ours is already outstanding. The
   * driver waits for the next frame received ({@link lastReceiveAt} moves).
   */
  probe (now: number): void {
    if (this.#state.kind === 'closed' || this.#keepAlive.pinging) return
    this.#sendPing(now)
    this.#requestOutput()
  }

  // --- receiving -----------------------------------------------------------------

  /** Bytes from the channel. Protocol errors end the session (GoAway(1)); never throws. */
  receive (chunk: Uint8Array, now: number): void {
    if (this.#state.kind === 'closed') return
    const keepAlive = this.#keepAlive
    const decoder = this.#decoder
    decoder.push(chunk)
    try {
      for (let ev = decoder.next(); ev !== undefined; ev = decoder.next()) {
        // Every frame (and every piece of a long Data frame) is a sign of life, but an
        // answer to a ping we did not send (#onPing).
        if (ev instanceof Uint8Array) {
          keepAlive.received(now)
          const s = this.#target
          if (s !== undefined && s.live) s.sink.onData(ev)
          if (decoder.payloadRemaining === 0) this.#endDataFrame()
        } else {
          if (ev.type !== FrameType.Ping || (ev.flags & Flag.ACK) === 0) keepAlive.received(now)
          this.#onHeader(ev, now)
        }
        if (this.#isClosed()) return
      }
    } catch (err) {
      if (!(err instanceof Lp2pError)) throw err
      this.#fail(err, GoAwayCode.ProtocolError)
    }
  }

  #onHeader (h: FrameHeader, now: number): void {
    if (h.type === FrameType.Data || h.type === FrameType.WindowUpdate) {
      this.#onStreamFrame(h)
      return
    }
    // "Both Ping and Go Away messages should always use the 0 StreamID."
    if (h.streamId !== 0) throw protocolError(`${h.type === FrameType.Ping ? 'Ping' : 'GoAway'} on stream ${h.streamId}`)
    if (h.type === FrameType.Ping) this.#onPing(h, now)
    else this.#onGoAway(h.length)
  }

  #onStreamFrame (h: FrameHeader): void {
    if (h.streamId === 0) throw protocolError('Data or Window Update on stream 0')
    let s = this.#streams.get(h.streamId)
    if ((h.flags & Flag.SYN) !== 0) {
      if (s !== undefined) throw protocolError(`SYN for stream ${h.streamId}, which is already open`)
      if ((h.streamId % 2 === 1) === this.#client) {
        throw protocolError(`the remote opened stream ${h.streamId}, which has our parity`)
      }
      s = this.#acceptInbound(h.streamId)
    } else if (s !== undefined && (h.flags & Flag.ACK) !== 0 && s.handshake === 'syn-sent') {
      s.handshake = 'established'
      this.#unackedDone(s)
    }
    if (h.type === FrameType.WindowUpdate) {
      if (s === undefined || !s.live) return
      if ((h.flags & Flag.RST) === 0 && h.length > 0) {
        s.sendWindow += h.length
        this.#scheduler.wakeOne(s)
      }
      if (s.live) this.#endFlags(s, h.flags)
      return
    }
    // A Data frame: its payload follows; flags (FIN, RST) apply after it.
    this.#current = h
    this.#target = undefined
    if (s !== undefined && s.live) {
      if (!s.remoteSending) {
        if (h.length > 0) this.#streamError(s, `Data on stream ${s.id} after its FIN`)
      } else {
        // "Both sides should track the number of bytes sent in Data frames only."
        if (h.length > s.recvCredit) {
          throw protocolError(`stream ${s.id} received ${h.length} bytes with a window of ${s.recvCredit}`)
        }
        s.recvCredit -= h.length
        s.recvBuffered += h.length
        this.#target = s
      }
    }
    if (h.length === 0) this.#endDataFrame()
  }

  #endDataFrame (): void {
    const s = this.#target
    const h = this.#current as FrameHeader
    this.#target = undefined
    this.#current = undefined
    if (s !== undefined && s.live) this.#endFlags(s, h.flags)
  }

  #endFlags (s: StreamState, flags: number): void {
    if ((flags & Flag.RST) !== 0) {
      s.phase = 'reset'
      this.#remove(s)
      s.sink.onReset(new Lp2pError(codes.ERR_STREAM_RESET, `stream ${s.id} was reset by the remote`))
      return
    }
    if ((flags & Flag.FIN) === 0) return
    if (s.phase === 'open') s.phase = 'remote-fin'
    else if (s.phase === 'local-fin') s.phase = 'closed'
    else return // a repeated FIN changes nothing
    if (s.phase === 'closed') this.#remove(s)
    s.sink.onRemoteEnd()
  }

  #acceptInbound (id: number): StreamState | undefined {
    const refuse = this.#state.kind !== 'open' ||
      this.#inbound >= this.#config.maxInboundStreams ||
      this.#unackedInbound >= this.#config.maxUnackedInboundStreams
    if (refuse) {
      // "reply ... with the RST flag to reject the stream" (yamux.md, "Opening a stream").
      this.#output.pushHeader(FrameType.WindowUpdate, Flag.RST, id, 0)
      this.#requestOutput()
      return undefined
    }
    const s = new StreamState(id, 'inbound', placeholderSink, 'ack-pending', this.#config.initialStreamWindow, this.#keepAlive.lastReceiveAt)
    this.#streams.set(id, s)
    this.#inbound++
    s.unacked = true
    this.#unackedInbound++
    this.#markDirty(s)
    this.#handler.onInboundStream(s)
    return s
  }

  #onPing (h: FrameHeader, now: number): void {
    if ((h.flags & Flag.SYN) !== 0) {
      // Answer with the same opaque value (yamux.md, "Length Field"); bounded.
      if (!this.#keepAlive.takePong()) return
      this.#output.pushHeader(FrameType.Ping, Flag.ACK, 0, h.length)
      this.#requestOutput()
    } else if ((h.flags & Flag.ACK) !== 0) {
      if (this.#keepAlive.answered(h.length, now)) this.#keepAlive.received(now)
    }
  }

  #onGoAway (code: number): void {
    if (code !== GoAwayCode.Normal) {
      const what = code === GoAwayCode.ProtocolError ? 'protocol error' : code === GoAwayCode.InternalError ? 'internal error' : `code ${code}`
      this.#fail(new Lp2pError(codes.ERR_GO_AWAY, `the remote went away: ${what}`))
      return
    }
    const local = this.#state.kind === 'closing' && this.#state.local
    if (this.#state.kind !== 'closed') this.#state = { kind: 'closing', local, remote: true }
    // Streams whose SYN has not left will be refused: fail them now instead.
    for (const s of [...this.#streams.values()]) {
      if (s.handshake === 'syn-queued' || s.handshake === 'syn-pending') {
        s.phase = 'reset'
        this.#remove(s)
        s.sink.onReset(new Lp2pError(codes.ERR_MUXER_CLOSED, 'the remote sent GoAway before this stream was opened'))
      }
    }
    this.#handler.onRemoteGoAway()
  }

  // --- internals -----------------------------------------------------------------

  /** A method, not a property check, so that narrowing does not survive callbacks. */
  #isClosed (): boolean {
    return this.#state.kind === 'closed'
  }

  #fail (err: Lp2pError, goAway?: number): void {
    if (this.#state.kind === 'closed') return
    if (goAway !== undefined) this.sendGoAway(goAway)
    this.#state = { kind: 'closed', error: err }
    this.#resetAll(err)
    this.#handler.onFailure(err)
  }

  #resetAll (err: Error | undefined): void {
    const streams = [...this.#streams.values()]
    this.#scheduler.stop()
    // The error is made only for a stream to reset: its stack capture is the costliest
    // step of a close with no streams left.
    let reason: Error | undefined
    this.#synQueue.length = 0
    for (const s of streams) {
      s.phase = 'reset'
      this.#remove(s)
      s.sink.onReset(reason ??= err ?? new Lp2pError(codes.ERR_MUXER_CLOSED, 'the muxer closed'))
    }
  }

  /** A stream-level protocol violation: reset that stream only. */
  #streamError (s: StreamState, message: string): void {
    this.reset(s)
    s.sink.onReset(protocolError(message))
  }

  #remove (s: StreamState): void {
    if (this.#streams.get(s.id) !== s) return
    this.#streams.delete(s.id)
    if (s.direction === 'inbound') this.#inbound--
    else this.#outbound--
    this.#scheduler.forget(s)
    // A stream that closed with its ACK still to send keeps its backlog slot until
    // the flush sends the ACK; a reset one frees it now.
    if (s.phase === 'reset') this.#unackedDone(s)
    this.#handler.onStreamRemoved(s)
  }

  #unackedDone (s: StreamState): void {
    if (!s.unacked) return
    s.unacked = false
    if (s.direction === 'inbound') {
      this.#unackedInbound--
      return
    }
    this.#unackedOutbound--
    // A backlog slot is free: the oldest held-back stream may send its SYN.
    while (this.#unackedOutbound < ACK_BACKLOG && this.#synQueue.length > 0) {
      const next = this.#synQueue.shift() as StreamState
      if (!next.live && !next.finPending) continue
      next.handshake = 'syn-pending'
      next.unacked = true
      this.#unackedOutbound++
      this.#markDirty(next)
      this.#scheduler.wakeOne(next)
    }
  }

  /** SYN or ACK flags owed by the stream's first frame; marks them sent. */
  #openFlags (s: StreamState): number {
    if (s.handshake === 'syn-pending') {
      s.handshake = 'syn-sent'
      return Flag.SYN
    }
    if (s.handshake === 'ack-pending') {
      s.handshake = 'established'
      this.#unackedDone(s)
      return Flag.ACK
    }
    return 0
  }

  #emitControl (s: StreamState, now: number): void {
    s.dirty = false
    if (s.phase === 'reset' || s.handshake === 'syn-queued') return
    let flags = this.#openFlags(s)
    let delta = 0
    if (s.wantsWindowUpdate) {
      // Growth is judged on regular updates only, not on the one that opens the stream.
      delta = s.takeCredit(now, flags === 0 ? this.#keepAlive.rtt : undefined, this.#config.maxStreamWindow)
    }
    if (s.finPending) {
      s.finPending = false
      flags |= Flag.FIN
    }
    if (flags === 0 && delta === 0) return
    this.#output.pushHeader(FrameType.WindowUpdate, flags, s.id, delta)
  }

  #markDirty (s: StreamState): void {
    if (s.dirty) return
    s.dirty = true
    this.#dirty.push(s)
    this.#requestOutput()
  }

  #requestOutput (): void {
    if (this.#outputRequested) return
    this.#outputRequested = true
    this.#handler.onOutput()
  }

  #sendPing (now: number): void {
    this.#output.pushHeader(FrameType.Ping, Flag.SYN, 0, this.#keepAlive.ping(now))
  }
}

function protocolError (message: string): Lp2pError {
  return new Lp2pError(codes.ERR_MUXER_PROTOCOL, message)
}

/** Replaced by the handler's sink before any event can reach it. */
const placeholderSink: StreamSink = {
  onData () {},
  onRemoteEnd () {},
  onReset () {},
  onWritable () {}
}
