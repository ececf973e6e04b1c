/**
 * The mplex messages a session has produced and not yet handed to the channel:
 * varint prefixes (and the short NewStream names) in the shared arena, payloads as
 * views (see ../output-queue.ts).
 */
import { OutputQueueBase } from '../output-queue.js'
import { type Flag, MAX_PREFIX_LENGTH, writePrefix } from './frame.js'

export class OutputQueue extends OutputQueueBase {
  #controlFrames = 0

  /** Messages without a data payload (NewStream, Close, Reset) queued since the last take. */
  get controlFrames (): number {
    return this.#controlFrames
  }

  /**
   * Appends a message whose body (at most 64 bytes here, e.g. a stream name) is
   * copied into the arena.
   */
  pushControl (flag: Flag, streamId: number, body?: Uint8Array): void {
    const length = body?.byteLength ?? 0
    this.reserveFrame(MAX_PREFIX_LENGTH + length)
    this.pos += writePrefix(this.arena, this.pos, flag, streamId, length)
    if (body !== undefined) {
      this.arena.set(body, this.pos)
      this.pos += length
    }
    this.#controlFrames++
  }

  /**
   * Appends a data message's prefix; its `length` payload bytes must follow with
   * {@link pushPayload}.
   */
  pushDataPrefix (flag: Flag, streamId: number, length: number): void {
    this.reserveFrame(MAX_PREFIX_LENGTH)
    this.pos += writePrefix(this.arena, this.pos, flag, streamId, length)
  }

  override take (): Uint8Array[] | undefined {
    this.#controlFrames = 0
    return super.take()
  }
}
