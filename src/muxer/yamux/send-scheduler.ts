/**
 * Who may send Data now, and who waits for what. Pure.
 *
 * A stream's capacity is the least of its send window (yamux.md, "Flow Control"), the
 * largest frame (`maxMessageSize`) and the connection-wide budget (../send-scheduler.ts,
 * shared with mplex: MAX_QUEUED_DATA, channel backpressure, round-robin FIFO). Only
 * streams held by that budget join its FIFO; a stream waiting for its own window or
 * for an ACK-backlog slot is woken by that event alone ({@link wakeOne}), so waking
 * never scans streams that cannot move.
 */
import { SendScheduler } from '../send-scheduler.js'
import type { OutputQueue } from './output.js'
import type { StreamState } from './stream-state.js'
import { MAX_QUEUED_DATA } from './config.js'

export class YamuxSendScheduler extends SendScheduler<StreamState> {
  readonly #maxMessageSize: number

  constructor (output: OutputQueue, maxMessageSize: number) {
    super(output, MAX_QUEUED_DATA)
    this.#maxMessageSize = maxMessageSize
  }

  /** Bytes the stream may put in its next Data frame now (0: it must wait). */
  capacity (s: StreamState): number {
    if (s.handshake === 'syn-queued' || this.full) return 0
    return Math.max(0, Math.min(s.sendWindow, this.#maxMessageSize))
  }

  /** The stream has data it could not send: it waits (see the file comment). */
  override wait (s: StreamState): void {
    if (ownObstacle(s)) s.waiting = true
    else super.wait(s)
  }

  /** The stream's own obstacle is gone (window update, backlog slot). */
  wakeOne (s: StreamState): void {
    if (!s.waiting || ownObstacle(s)) return
    if (this.full) {
      super.wait(s)
      return
    }
    this.forget(s)
    s.sink.onWritable()
  }
}

/** Whether the stream waits for something of its own: its send window, or its SYN's backlog slot. */
function ownObstacle (s: StreamState): boolean {
  return s.sendWindow <= 0 || s.handshake === 'syn-queued'
}
