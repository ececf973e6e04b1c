/**
 * The frames a muxer session has produced and not yet handed to the channel, kept as
 * the buffer list that `channel.writev()` takes. Shared by yamux and mplex; each
 * subclass writes its own frame headers (yamux/output.ts, mplex/output.ts).
 *
 * Headers are written into a shared arena, so the headers of consecutive control
 * frames form one contiguous buffer, and a data frame is its header followed by views
 * of the writer's own buffers: no payload is copied here. The arena is never written
 * twice (memory handed to the channel stays as it was), arenas are small slices of
 * Node's shared buffer pool, and the queue lets go of its arena whenever it is taken:
 * an idle session holds no arena at all (a kept slice would pin its whole 8 KiB pool
 * slab).
 */

/** 1 KiB: under Node's 4 KiB limit for pooled `Buffer.allocUnsafe` slices, so an arena costs no allocation of its own. */
const ARENA_BYTES = 1024
const NO_ARENA = new Uint8Array(0)

export class OutputQueueBase {
  /** Where headers are written, from {@link pos} on (after {@link reserveFrame}). */
  protected arena: Uint8Array = NO_ARENA
  /** Next free byte of the arena. */
  protected pos = 0
  /** Start of the run of arena bytes not yet closed into `#chunks`. */
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
    this.arena = NO_ARENA
    this.pos = 0
    this.#runStart = 0
    this.#frames = 0
    this.#dataBytes = 0
    return out
  }

  /** Counts one more frame whose header (at most `n` bytes, n <= 1 KiB) the caller writes at {@link pos}. */
  protected reserveFrame (n: number): void {
    if (this.pos + n > this.arena.byteLength) this.#newArena()
    this.#frames++
  }

  #closeRun (): void {
    if (this.pos > this.#runStart) {
      this.#chunks.push(this.arena.subarray(this.#runStart, this.pos))
      this.#runStart = this.pos
    }
  }

  #newArena (): void {
    this.#closeRun()
    this.arena = Buffer.allocUnsafe(ARENA_BYTES)
    this.pos = 0
    this.#runStart = 0
  }
}
