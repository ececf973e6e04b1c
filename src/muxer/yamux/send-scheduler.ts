/**
 * Who may send Data now, and who waits for what. Pure.
 *
 * A stream's capacity is the least of its send window (yamux.md, "Flow Control"), the
 * largest frame (`maxMessageSize`) and a connection-wide budget: nothing while the
 * channel is backpressured (its write returned false) or once MAX_QUEUED_DATA bytes
 * wait for the next flush. Streams held by that budget wait in one FIFO and are woken
 * oldest first, round-robin (a woken stream that must wait again goes to the back), so
 * one bulk stream cannot starve the others. A stream waiting for its own window or for
 * an ACK-backlog slot is woken by that event alone, never by scanning.
 */
import type { OutputQueue } from './output.js'
import type { StreamState } from './stream-state.js'
import { MAX_QUEUED_DATA } from './config.js'

export class SendScheduler {
  readonly #output: OutputQueue
  readonly #maxMessageSize: number
  readonly #waiting = new Set<StreamState>()
  #blocked = false
  #stopped = false

  constructor (output: OutputQueue, maxMessageSize: number) {
    this.#output = output
    this.#maxMessageSize = maxMessageSize
  }

  /** The channel refused more and has not drained yet. */
  get blocked (): boolean {
    return this.#blocked
  }

  /** Bytes the stream may put in its next Data frame now (0: it must wait). */
  capacity (s: StreamState): number {
    if (s.handshake === 'syn-queued' || this.#full()) return 0
    return Math.max(0, Math.min(s.sendWindow, this.#maxMessageSize))
  }

  /** The stream has data it could not send: it waits (see the class comment). */
  wait (s: StreamState): void {
    s.waiting = true
    if (s.sendWindow > 0 && s.handshake !== 'syn-queued') this.#waiting.add(s)
  }

  /** The stream's own obstacle is gone (window update, backlog slot). */
  wakeOne (s: StreamState): void {
    if (!s.waiting || s.sendWindow <= 0 || s.handshake === 'syn-queued') return
    if (this.#full()) {
      this.#waiting.add(s)
      return
    }
    s.waiting = false
    this.#waiting.delete(s)
    s.sink.onWritable()
  }

  /** The stream left the session. */
  forget (s: StreamState): void {
    if (!s.waiting) return
    s.waiting = false
    this.#waiting.delete(s)
  }

  /** The channel took a flush; `ok` is what its write returned. */
  flushed (ok: boolean): void {
    this.#blocked = !ok
    if (ok) this.#wakeAll()
  }

  /** The channel drained after refusing. */
  drained (): void {
    if (!this.#blocked) return
    this.#blocked = false
    this.#wakeAll()
  }

  /** The session ended: nobody sends again. */
  stop (): void {
    this.#stopped = true
    this.#waiting.clear()
  }

  #full (): boolean {
    return this.#blocked || this.#stopped || this.#output.dataBytes >= MAX_QUEUED_DATA
  }

  #wakeAll (): void {
    if (this.#waiting.size === 0) return
    const list = [...this.#waiting]
    this.#waiting.clear()
    for (let i = 0; i < list.length; i++) {
      const s = list[i] as StreamState
      if (!s.waiting) continue
      if (this.#full()) {
        // The budget ran out again: the rest keep their place, ahead of newcomers.
        const newcomers = [...this.#waiting]
        this.#waiting.clear()
        for (const r of list.slice(i)) if (r.waiting) this.#waiting.add(r)
        for (const n of newcomers) this.#waiting.add(n)
        return
      }
      s.waiting = false
      s.sink.onWritable()
    }
  }
}
