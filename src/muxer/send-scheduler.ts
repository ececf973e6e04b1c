/**
 * Who may frame data now, and in what order held-back streams continue: the
 * connection-wide send budget, shared by the yamux and mplex sessions. Pure.
 *
 * No stream may frame data while the channel is backpressured (its write returned
 * false) or once `maxQueuedData` payload bytes wait for the next flush. Streams held
 * by that budget wait in one FIFO and are woken oldest first when a flush goes out or
 * the channel drains; a woken stream that must wait again goes to the back, so one
 * bulk writer cannot starve the others.
 */
import type { StreamSink } from './stream-base.js'

/** What the scheduler needs of a session's stream record. */
export interface Sender {
  /** Held back and owed an `onWritable` (set and cleared by the scheduler). */
  waiting: boolean
  readonly sink: StreamSink
}

export class SendScheduler<S extends Sender> {
  readonly #output: { readonly dataBytes: number }
  readonly #maxQueuedData: number
  #waiting = new Set<S>()
  #blocked = false
  #stopped = false

  /** `output`: the session's queue for the next flush (its queued payload bytes count). */
  constructor (output: { readonly dataBytes: number }, maxQueuedData: number) {
    this.#output = output
    this.#maxQueuedData = maxQueuedData
  }

  /** The channel refused more and has not drained yet. */
  get blocked (): boolean {
    return this.#blocked
  }

  /** No stream may frame data now. */
  get full (): boolean {
    return this.#blocked || this.#stopped || this.#output.dataBytes >= this.#maxQueuedData
  }

  /** The stream has data it could not frame: it waits for the next flush or drain. */
  wait (s: S): void {
    if (this.#stopped) return
    s.waiting = true
    this.#waiting.add(s)
  }

  /** The stream left the session (or no longer waits for the budget). */
  forget (s: S): void {
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
    for (const s of this.#waiting) s.waiting = false
    this.#waiting.clear()
  }

  #wakeAll (): void {
    if (this.#waiting.size === 0) return
    const turn = [...this.#waiting]
    this.#waiting = new Set()
    for (let i = 0; i < turn.length; i++) {
      const s = turn[i] as S
      if (!s.waiting) continue
      if (this.full) {
        // The budget ran out again: the rest keep their place, ahead of the streams
        // that were woken in this turn and had to wait again.
        const again = this.#waiting
        this.#waiting = new Set()
        for (let j = i; j < turn.length; j++) {
          const r = turn[j] as S
          if (r.waiting) this.#waiting.add(r)
        }
        for (const r of again) this.#waiting.add(r)
        return
      }
      s.waiting = false
      s.sink.onWritable()
    }
  }
}
