/**
 * A stream's bytes accepted by `write()` and not yet framed: a list of the writer's
 * own buffers, consumed from the front in pieces of any size without copying (a piece
 * is a view of one buffer). Muxer-independent; pure.
 *
 * Bounded by the stream's writable high-water mark: the stream calls the write
 * callback only once a buffer is fully taken, so Node's Writable holds the rest.
 */
export class WriteQueue {
  #chunks: Uint8Array[] = []
  #head = 0
  #offset = 0
  #length = 0

  /** Bytes queued. */
  get length (): number {
    return this.#length
  }

  push (chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return
    this.#chunks.push(chunk)
    this.#length += chunk.byteLength
  }

  /**
   * Removes `n` bytes (1 <= n <= length) from the front and returns them as pieces, in
   * order.
   */
  take (n: number): Uint8Array[] {
    if (n > this.#length || n <= 0) throw new RangeError(`cannot take ${n} of ${this.#length} bytes`)
    const out: Uint8Array[] = []
    this.#length -= n
    while (n > 0) {
      const chunk = this.#chunks[this.#head] as Uint8Array
      const available = chunk.byteLength - this.#offset
      if (n >= available) {
        out.push(this.#offset === 0 ? chunk : chunk.subarray(this.#offset))
        this.#head++
        this.#offset = 0
        n -= available
      } else {
        out.push(chunk.subarray(this.#offset, this.#offset + n))
        this.#offset += n
        n = 0
      }
    }
    if (this.#head === this.#chunks.length) {
      this.#chunks = []
      this.#head = 0
    } else if (this.#head > 64) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
    return out
  }

  clear (): void {
    this.#chunks = []
    this.#head = 0
    this.#offset = 0
    this.#length = 0
  }
}
