/**
 * Byte helpers shared by the pure codecs: copying, concatenation, and an accumulator that
 * joins arbitrary input chunks for an incremental decoder without copying in the
 * common case (a chunk holding whole messages is read in place).
 */

/**
 * A copy of `bytes` that owns its memory, for bytes kept beyond the message they came
 * in: a view would pin the whole message, or the read buffer it sits in. (Not
 * `.slice()`: on a Node `Buffer` that is a view too.)
 */
export function copyBytes (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

/** Concatenates `parts` into one new buffer (returns the part itself when alone). */
export function concatBytes (parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  let n = 0
  for (const p of parts) n += p.byteLength
  const out = new Uint8Array(n)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.byteLength
  }
  return out
}

/**
 * The unread input of an incremental decoder: `push()` chunks, read at `offset` in
 * `buf`, `advance()` past what was decoded. Leftover bytes are joined with the next
 * chunk (one copy of the partial message only).
 */
export class ByteAccumulator {
  #buf: Uint8Array = new Uint8Array(0)
  #off = 0

  /** The current buffer; unread bytes start at {@link offset}. */
  get buf (): Uint8Array {
    return this.#buf
  }

  get offset (): number {
    return this.#off
  }

  /** Bytes not yet consumed. */
  get buffered (): number {
    return this.#buf.length - this.#off
  }

  push (chunk: Uint8Array): void {
    if (chunk.length === 0) return
    if (this.#off === this.#buf.length) {
      this.#buf = chunk
      this.#off = 0
      return
    }
    const rest = this.#buf.subarray(this.#off)
    const joined = new Uint8Array(rest.length + chunk.length)
    joined.set(rest, 0)
    joined.set(chunk, rest.length)
    this.#buf = joined
    this.#off = 0
  }

  /** Marks everything before `offset` consumed. */
  advanceTo (offset: number): void {
    this.#off = offset
  }

  /** Returns and clears the unread bytes. */
  takeRemaining (): Uint8Array {
    const rest = this.#buf.subarray(this.#off)
    this.#buf = new Uint8Array(0)
    this.#off = 0
    return rest
  }
}
