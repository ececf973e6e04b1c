/**
 * The session's record of one yamux stream: its opening handshake, its half-close
 * state and both flow-control windows (yamux.md, "Opening a stream", "Closing a
 * stream", "Flow Control"). Pure data and arithmetic; the session drives it.
 */
import type { Direction } from '../../interfaces/muxer.js'
import type { StreamSink } from '../stream-base.js'
import { SPEC_INITIAL_WINDOW } from './config.js'

export type { StreamSink }

/**
 * The opening handshake.
 * - `syn-queued`: outbound, held back by the ACK backlog; nothing sent yet;
 * - `syn-pending`: outbound, the SYN leaves with the stream's next frame;
 * - `syn-sent`: outbound, waiting for the remote's ACK (or RST);
 * - `ack-pending`: inbound, our ACK leaves with the stream's next frame;
 * - `established`.
 */
export type Handshake = 'syn-queued' | 'syn-pending' | 'syn-sent' | 'ack-pending' | 'established'

/**
 * Half-close state. `closed` (both FINs) and `reset` (either side's RST, or the session
 * ended) are final: the stream has left the session.
 */
export type Phase = 'open' | 'local-fin' | 'remote-fin' | 'closed' | 'reset'

export class StreamState {
  readonly id: number
  readonly direction: Direction
  /** Where this stream's events go (set by the stream driver). */
  sink: StreamSink
  handshake: Handshake
  phase: Phase = 'open'

  /** Bytes we may still send (the remote's receive window as we know it). */
  sendWindow = SPEC_INITIAL_WINDOW
  /** Receive window: bytes we allow outstanding (in flight plus unread). */
  recvWindow: number
  /** Bytes the remote may still send before our next Window Update. */
  recvCredit = SPEC_INITIAL_WINDOW
  /** Bytes received and not yet consumed by the application. */
  recvBuffered = 0
  /** When the current window-update epoch began (for receive-window growth). */
  epochStart: number

  /** In the session's list of streams with a control frame to send. */
  dirty = false
  /** Our FIN is decided and goes out with the next flush. */
  finPending = false
  /** In the session's set of streams waiting for send capacity. */
  waiting = false
  /** Counted in the session's unacknowledged (ACK backlog) count. */
  unacked = false

  constructor (id: number, direction: Direction, sink: StreamSink, handshake: Handshake, recvWindow: number, now: number) {
    this.id = id
    this.direction = direction
    this.sink = sink
    this.handshake = handshake
    this.recvWindow = recvWindow
    this.epochStart = now
  }

  /** Still part of the session (not closed, not reset). */
  get live (): boolean {
    return this.phase !== 'closed' && this.phase !== 'reset'
  }

  /** The remote may still send data, so window updates still mean something. */
  get remoteSending (): boolean {
    return this.phase === 'open' || this.phase === 'local-fin'
  }

  /** We may still send data. */
  get localSending (): boolean {
    return this.phase === 'open' || this.phase === 'remote-fin'
  }

  /** Credit we could grant now without exceeding the receive window. */
  get grantable (): number {
    return this.recvWindow - this.recvCredit - this.recvBuffered
  }

  /**
   * Whether a Window Update is worth sending: the remote is still sending and at least
   * half the window can be granted (go-yamux and rust-yamux use the same half-window
   * threshold), so updates stay rare on small exchanges and keep a full window in
   * flight on bulk ones.
   */
  get wantsWindowUpdate (): boolean {
    return this.remoteSending && this.grantable * 2 >= this.recvWindow
  }

  /**
   * Receive-window growth toward the bandwidth-delay product, decided when a regular
   * Window Update is about to be sent: if the previous one went out less than 2 RTTs
   * ago, the window (not the path) limits the stream, so the window doubles, up to
   * `max`. On a path where the window already covers the BDP, half a window takes
   * longer than 2 RTTs to arrive and the window stops growing (at most ~4 BDP).
   * Returns the credit to grant and starts a new epoch.
   */
  takeCredit (now: number, rtt: number | undefined, max: number): number {
    if (rtt !== undefined && rtt > 0 && now - this.epochStart < 2 * rtt && this.recvWindow < max) {
      this.recvWindow = Math.min(this.recvWindow * 2, max)
    }
    this.epochStart = now
    const delta = Math.max(0, this.grantable)
    this.recvCredit += delta
    return delta
  }
}
