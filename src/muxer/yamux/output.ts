/**
 * The frames a session has produced and not yet handed to the channel, kept as the
 * buffer list that `channel.writev()` takes.
 *
 * Headers are written into a shared arena, so the headers of consecutive control
 * frames (window updates, ACKs, pings) form one contiguous buffer, and a Data frame
 * is its header followed by views of the writer's own buffers: nothing is copied
 * here. The arena is never written twice (memory handed to the channel stays as it
 * was), and arenas are small slices of Node's shared buffer pool, so an idle session
 * holds no arena at all.
 *
 * A header still in the queue may have flags added ({@link addFlags}), which is how a
 * FIN rides on the last Data frame of a stream instead of costing a frame of its own.
 */
import { HEADER_LENGTH, writeHeader } from './frame.js'

/**
 * Headers per arena: 85 × 12 = 1020 bytes, under Node's 4 KiB limit for pooled
 * `Buffer.allocUnsafe` slices, so an arena costs no allocation of its own.
 */
const ARENA_HEADERS = 85

export class OutputQueue {
  #arena: Uint8Array = new Uint8Array(0)
  /** Next free byte of the arena. */
  #pos = 0
  /** Start of the run of headers not yet closed into `#chunks`. */
  #runStart = 0
  #chunks: Uint8Array[] = []
  #frames = 0
  #dataBytes = 0
  /** Incremented by every {@link take}; header handles from older epochs are stale. */
  #epoch = 0

  /** Frames queued since the last {@link take}. */
  get frames (): number {
    return this.#frames
  }

  /** Data payload bytes queued since the last {@link take}. */
  get dataBytes (): number {
    return this.#dataBytes
  }

  get epoch (): number {
    return this.#epoch
  }

  /**
   * Appends a header; returns its handle (arena offset) for {@link addFlags}.
   * A Data frame's payload must follow with {@link pushPayload}.
   */
  pushHeader (type: number, flags: number, streamId: number, length: number): number {
    if (this.#pos + HEADER_LENGTH > this.#arena.byteLength) this.#newArena()
    const at = this.#pos
    writeHeader(this.#arena, at, type, flags, streamId, length)
    this.#pos += HEADER_LENGTH
    this.#frames++
    return at
  }

  /** Appends payload bytes (views are kept, not copied). */
  pushPayload (bytes: Uint8Array): void {
    this.#closeRun()
    this.#chunks.push(bytes)
    this.#dataBytes += bytes.byteLength
  }

  /** ORs `flags` into a header queued in the current epoch. */
  addFlags (handle: number, flags: number): void {
    const arena = this.#arena
    arena[handle + 2] = (arena[handle + 2] as number) | (flags >>> 8)
    arena[handle + 3] = (arena[handle + 3] as number) | (flags & 0xff)
  }

  /**
   * Whether a handle taken in `epoch` still designates a header that is queued (not
   * handed out) in the current arena.
   */
  isPending (epoch: number): boolean {
    return epoch === this.#epoch
  }

  /** Everything queued, as buffers for `writev`; empties the queue. */
  take (): Uint8Array[] | undefined {
    if (this.#frames === 0) return undefined
    this.#closeRun()
    const out = this.#chunks
    this.#chunks = []
    this.#frames = 0
    this.#dataBytes = 0
    this.#epoch++
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
    // Handles into the previous arena can no longer be patched: a new epoch.
    this.#epoch++
  }
}
