/**
 * The messages a session has produced and not yet handed to the channel, kept as the
 * buffer list that `channel.writev()` takes.
 *
 * Prefixes (and the short NewStream names) are written into a shared arena, so
 * consecutive control messages form one contiguous buffer, and a data message is its
 * prefix followed by views of the writer's own buffers: no payload is copied here.
 * The arena is never written twice (memory handed to the channel stays as it was),
 * and arenas are slices of Node's shared buffer pool, so an idle session holds none.
 */
import { type Flag, MAX_PREFIX_LENGTH, writePrefix } from './frame.js'

/** 1 KiB: under Node's 4 KiB limit for pooled `Buffer.allocUnsafe` slices; ~90 prefixes. */
const ARENA_BYTES = 1024

export class OutputQueue {
  #arena: Uint8Array = new Uint8Array(0)
  /** Next free byte of the arena. */
  #pos = 0
  /** Start of the run of arena bytes not yet closed into `#chunks`. */
  #runStart = 0
  #chunks: Uint8Array[] = []
  #frames = 0
  #controlFrames = 0
  #dataBytes = 0

  /** Messages queued since the last {@link take}. */
  get frames (): number {
    return this.#frames
  }

  /** Messages without a data payload (NewStream, Close, Reset) queued since the last take. */
  get controlFrames (): number {
    return this.#controlFrames
  }

  /** Data payload bytes queued since the last {@link take}. */
  get dataBytes (): number {
    return this.#dataBytes
  }

  /**
   * Appends a message whose body (at most 64 bytes here, e.g. a stream name) is
   * copied into the arena.
   */
  pushControl (flag: Flag, streamId: number, body?: Uint8Array): void {
    const length = body?.byteLength ?? 0
    this.#reserve(MAX_PREFIX_LENGTH + length)
    this.#pos += writePrefix(this.#arena, this.#pos, flag, streamId, length)
    if (body !== undefined) {
      this.#arena.set(body, this.#pos)
      this.#pos += length
    }
    this.#frames++
    this.#controlFrames++
  }

  /**
   * Appends a data message's prefix; its `length` payload bytes must follow with
   * {@link pushPayload}.
   */
  pushDataPrefix (flag: Flag, streamId: number, length: number): void {
    this.#reserve(MAX_PREFIX_LENGTH)
    this.#pos += writePrefix(this.#arena, this.#pos, flag, streamId, length)
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
    this.#frames = 0
    this.#controlFrames = 0
    this.#dataBytes = 0
    return out
  }

  #reserve (n: number): void {
    if (this.#pos + n <= this.#arena.byteLength) return
    this.#closeRun()
    this.#arena = Buffer.allocUnsafe(ARENA_BYTES)
    this.#pos = 0
    this.#runStart = 0
  }

  #closeRun (): void {
    if (this.#pos > this.#runStart) {
      this.#chunks.push(this.#arena.subarray(this.#runStart, this.#pos))
      this.#runStart = this.#pos
    }
  }
}
