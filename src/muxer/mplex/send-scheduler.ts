/**
 * Who may send data now, and who waits. Pure.
 *
 * mplex has no send window: the only limit is the connection. A stream may frame data
 * unless the channel is backpressured (its write returned false) or MAX_QUEUED_DATA
 * bytes already wait for the next flush. Streams held back wait in one FIFO and are
 * woken oldest first when the flush goes out or the channel drains; a woken stream
 * that must wait again goes to the back, so one bulk writer cannot starve the others.
 */
import type { OutputQueue } from './output.js'
import type { StreamState } from './stream-state.js'
import { MAX_QUEUED_DATA } from './config.js'

export class SendScheduler {
  readonly #output: OutputQueue
  #waiting = new Set<StreamState>()
  #blocked = false
  #stopped = false

  constructor (output: OutputQueue) {
    this.#output = output
  }

  /** The channel refused more and has not drained yet. */
  get blocked (): boolean {
    return this.#blocked
  }

  /** No stream may frame data now. */
  get full (): boolean {
    return this.#blocked || this.#stopped || this.#output.dataBytes >= MAX_QUEUED_DATA
  }

  /** The stream has data it could not frame: it waits for the next flush or drain. */
  wait (s: StreamState): void {
    if (this.#stopped) return
    s.waiting = true
    this.#waiting.add(s)
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
    for (const s of this.#waiting) s.waiting = false
    this.#waiting.clear()
  }

  #wakeAll (): void {
    if (this.#waiting.size === 0) return
    const turn = [...this.#waiting]
    this.#waiting = new Set()
    for (let i = 0; i < turn.length; i++) {
      const s = turn[i] as StreamState
      if (!s.waiting) continue
      if (this.full) {
        // The budget ran out again: the rest keep their place, ahead of the streams
        // that were woken in this turn and had to wait again.
        const again = this.#waiting
        this.#waiting = new Set()
        for (let j = i; j < turn.length; j++) {
          const r = turn[j] as StreamState
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
