/**
 * The frames a session has produced and not yet handed to the channel, kept as the
 * buffer list that `channel.writev()` takes.
 *
 * Headers are written into a shared arena, so the headers of consecutive control
 * frames (window updates, ACKs, pings) form one contiguous buffer, and a Data frame
 * is its header followed by views of the writer's own buffers: nothing is copied
 * here. The arena is never written twice (memory handed to the channel stays as it
 * was), arenas are small slices of Node's shared buffer pool, and the queue lets go of
 * its arena whenever it is taken: an idle session holds no arena at all (a kept slice
 * would pin its whole 8 KiB pool slab).
 */
import { HEADER_LENGTH, writeHeader } from './frame.js'

/**
 * Headers per arena: 85 × 12 = 1020 bytes, under Node's 4 KiB limit for pooled
 * `Buffer.allocUnsafe` slices, so an arena costs no allocation of its own.
 */
const ARENA_HEADERS = 85
const NO_ARENA = new Uint8Array(0)

export class OutputQueue {
  #arena: Uint8Array = NO_ARENA
  /** Next free byte of the arena. */
  #pos = 0
  /** Start of the run of headers not yet closed into `#chunks`. */
  #runStart = 0
  #chunks: Uint8Array[] = []
  #frames = 0
  #dataBytes = 0

  /** Frames queued since the last {@link take}. */
  get frames (): number {
    return this.#frames
  }

  /** Data payload bytes queued since the last {@link take}. */
  get dataBytes (): number {
    return this.#dataBytes
  }

  /** Appends a header. A Data frame's payload must follow with {@link pushPayload}. */
  pushHeader (type: number, flags: number, streamId: number, length: number): void {
    if (this.#pos + HEADER_LENGTH > this.#arena.byteLength) this.#newArena()
    writeHeader(this.#arena, this.#pos, type, flags, streamId, length)
    this.#pos += HEADER_LENGTH
    this.#frames++
  }

  /** Appends payload bytes (views are kept, not copied). */
  pushPayload (bytes: Uint8Array): void {
    this.#closeRun()
    this.#chunks.push(bytes)
    this.#dataBytes += bytes.byteLength
  }

  /** Everything queued, as buffers for `writev`; empties the queue. */
  take (): Uint8Array[] | undefined {
    if (this.#frames === 0) return undefined
    this.#closeRun()
    const out = this.#chunks
    this.#chunks = []
    this.#arena = NO_ARENA
    this.#pos = 0
    this.#runStart = 0
    this.#frames = 0
    this.#dataBytes = 0
    return out
  }

  #closeRun (): void {
    if (this.#pos > this.#runStart) {
      this.#chunks.push(this.#arena.subarray(this.#runStart, this.#pos))
      this.#runStart = this.#pos
    }
  }

  #newArena (): void {
    this.#closeRun()
    this.#arena = Buffer.allocUnsafe(ARENA_HEADERS * HEADER_LENGTH)
    this.#pos = 0
    this.#runStart = 0
  }
}
