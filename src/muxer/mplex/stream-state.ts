/**
 * The session's record of one mplex stream: who opened it, its half-close state and
 * how far its reader is behind (`specs/mplex.md`, "Protocol"). Pure data; the session
 * drives it.
 */
import type { StreamSink } from '../stream-base.js'
import { Flag } from './frame.js'

export type { StreamSink }

/**
 * Half-close state (mplex.md, "Closing a stream", "Resetting a stream"). `closed`
 * (both sides sent Close) and `reset` (either side's Reset, or the session ended) are
 * final: the stream has left the session.
 */
export type Phase = 'open' | 'local-closed' | 'remote-closed' | 'closed' | 'reset'

export class StreamState {
  /** The mplex stream id, in the namespace of the side that opened it. */
  readonly id: number
  /**
   * True when we opened it. mplex ids are per initiator: the same number can be ours
   * and theirs at once, and the flag of each message says which (mplex.md, "Opening
   * a new stream").
   */
  readonly initiator: boolean
  /** The name the opener sent (truncated; for debugging only). */
  readonly name: string
  /** Where this stream's events go (set by the stream driver). */
  sink: StreamSink
  phase: Phase = 'open'
  /** Bytes delivered to the sink and not yet consumed by the application. */
  buffered = 0
  /** In the session's set of streams waiting for send capacity. */
  waiting = false

  constructor (id: number, initiator: boolean, name: string, sink: StreamSink) {
    this.id = id
    this.initiator = initiator
    this.name = name
    this.sink = sink
  }

  /** Still part of the session (not closed, not reset). */
  get live (): boolean {
    return this.phase !== 'closed' && this.phase !== 'reset'
  }

  /** The remote may still send data. */
  get remoteSending (): boolean {
    return this.phase === 'open' || this.phase === 'local-closed'
  }

  /** We may still send data. */
  get localSending (): boolean {
    return this.phase === 'open' || this.phase === 'remote-closed'
  }

  /** The flags we send on this stream: the Initiator variants if we opened it. */
  get messageFlag (): Flag {
    return this.initiator ? Flag.MessageInitiator : Flag.MessageReceiver
  }

  get closeFlag (): Flag {
    return this.initiator ? Flag.CloseInitiator : Flag.CloseReceiver
  }

  get resetFlag (): Flag {
    return this.initiator ? Flag.ResetInitiator : Flag.ResetReceiver
  }
}
