/**
 * Write-behind for the persistent peer store (driver: owns one timer). Changes are
 * coalesced per peer: the pending set maps a peer to its latest state (an entry to
 * write, or a deletion), so it never holds more than one item per peer, however
 * many writes a peer gets, and is bounded by the peer bound. Every `interval` the
 * pending peers are encoded and written in batches; an explicit `flush()` writes
 * them now. Flushes run one at a time, in order.
 *
 * What a crash loses: the changes of the last interval (not yet handed to LevelDB)
 * and of a batch in flight. LevelDB has then appended what it was given to its log
 * (with `sync: false`, in the OS page cache): a killed process loses nothing more; a
 * power loss or an OS crash can lose what the OS had not written back, unless `sync`.
 */
import type { PeerEntry } from './peer-entry.js'

/** One write of a batch: a value to put under the peer's key, or none to delete it. */
export interface PeerWrite {
  entry: PeerEntry
  removed: boolean
}

export interface WriteBehindInit {
  /** ms between a first pending change and its write. */
  interval: number
  /** Peers per LevelDB batch: a long flush yields to the event loop between batches. */
  batchSize: number
  /** Writes one batch (encodes and hands it to the database). */
  write: (batch: readonly PeerWrite[]) => Promise<void>
  /** A background flush failed: the writes stay pending and are tried again. */
  onError: (err: unknown) => void
}

export class WriteBehind {
  readonly #init: WriteBehindInit
  #pending = new Map<string, PeerWrite>()
  #timer: NodeJS.Timeout | undefined
  #queue: Promise<void> = Promise.resolve()
  #closed = false

  constructor (init: WriteBehindInit) {
    this.#init = init
  }

  /** Peers waiting to be written. */
  get pending (): number {
    return this.#pending.size
  }

  changed (entry: PeerEntry): void {
    this.#mark(entry, false)
  }

  removed (entry: PeerEntry): void {
    this.#mark(entry, true)
  }

  /** Writes everything pending now; resolves when it is handed to the database. */
  async flush (): Promise<void> {
    const run = this.#queue.then(async () => { await this.#writePending() })
    this.#queue = run.catch(() => {})
    await run
  }

  /** Writes what is pending, then ignores later changes (the store is memory-only after close). */
  async close (): Promise<void> {
    this.#closed = true
    await this.flush()
  }

  #mark (entry: PeerEntry, removed: boolean): void {
    if (this.#closed) return
    this.#pending.set(entry.key, { entry, removed })
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => { this.#background() }, this.#init.interval)
      // A pending write must not keep the process alive; close() writes it.
      this.#timer.unref()
    }
  }

  #background (): void {
    this.#timer = undefined
    this.flush().catch((err: unknown) => {
      this.#init.onError(err)
      if (this.#pending.size > 0 && this.#timer === undefined && !this.#closed) {
        this.#timer = setTimeout(() => { this.#background() }, this.#init.interval)
        this.#timer.unref()
      }
    })
  }

  async #writePending (): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#pending.size === 0) return
    const taken = this.#pending
    this.#pending = new Map()
    const all = [...taken.values()]
    for (let i = 0; i < all.length; i += this.#init.batchSize) {
      const batch = all.slice(i, i + this.#init.batchSize)
      try {
        await this.#init.write(batch)
      } catch (err) {
        // What failed and was not changed again since stays pending.
        for (const w of all.slice(i)) if (!this.#pending.has(w.entry.key)) this.#pending.set(w.entry.key, w)
        throw err
      }
    }
  }
}
