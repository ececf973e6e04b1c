/**
 * Which connections to close when there are too many (pure; time passed in):
 * `connections/README.md`, "Connection Limits" asks for an upper bound "with some kind
 * of priority mechanism for selecting which connections are the most expendable".
 * The watermark scheme is go-libp2p's connection manager (`p2p/net/connmgr`); the
 * order is ours:
 *
 * - Above `highWater` open connections, trim down to `lowWater`, at most once per
 *   `silencePeriod` (so a node hovering at the high mark does not close a connection
 *   every time one opens: no saw-tooth).
 * - Never a protected peer's connection, nor one younger than `gracePeriod` (a new
 *   connection has not had the time to be tagged useful).
 * - Then, first to go: the lowest sum of the peer's tag values, then the fewest open
 *   streams, then inbound before outbound (we chose to dial the latter), then the
 *   youngest (the oldest have proven themselves), then by id for a stable order.
 */

export interface TrimConfig {
  /** Trim down to this many. Default 160 (go-libp2p's default low water). */
  lowWater: number
  /** Trim when above this many. Default 192 (go-libp2p's default high water). */
  highWater: number
  /** A connection younger than this is not trimmed, ms. Default 60 000 (go-libp2p: 1 min). */
  gracePeriod: number
  /** At most one trim per this period, ms. Default 10 000 (go-libp2p: 10 s). */
  silencePeriod: number
}

export const DEFAULT_TRIM_CONFIG: Readonly<TrimConfig> = Object.freeze({
  lowWater: 160,
  highWater: 192,
  gracePeriod: 60_000,
  silencePeriod: 10_000
})

export interface TrimCandidate {
  /** Unique per connection. */
  id: string
  /** The remote peer (string form). */
  peer: string
  direction: 'inbound' | 'outbound'
  /** When it opened, ms. */
  opened: number
  /** Streams open on it now. */
  streams: number
}

export interface TrimInput<C extends TrimCandidate> {
  connections: readonly C[]
  /** Sum of the peer's tag values (unexpired). */
  tagValue: (peer: string) => number
  isProtected: (peer: string) => boolean
  now: number
}

/**
 * The connections to close to get from `connections.length` down to `lowWater`
 * (fewer if too many are protected or in their grace period). Empty at or below
 * `highWater`.
 */
export function selectForTrim<C extends TrimCandidate> (input: TrimInput<C>, config: TrimConfig = DEFAULT_TRIM_CONFIG): C[] {
  const total = input.connections.length
  if (total <= config.highWater) return []
  const excess = total - config.lowWater
  const values = new Map<string, number>()
  const value = (peer: string): number => {
    let v = values.get(peer)
    if (v === undefined) {
      v = input.tagValue(peer)
      values.set(peer, v)
    }
    return v
  }
  const eligible = input.connections.filter((c) => !input.isProtected(c.peer) && input.now - c.opened >= config.gracePeriod)
  eligible.sort((a, b) =>
    value(a.peer) - value(b.peer) ||
    a.streams - b.streams ||
    (a.direction === b.direction ? 0 : a.direction === 'inbound' ? -1 : 1) ||
    b.opened - a.opened ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return eligible.slice(0, excess)
}

/**
 * When to trim (pure): call `shouldTrim(count, now)` whenever a connection opens; it
 * says yes above the high mark, at most once per silence period.
 */
export class TrimSchedule {
  readonly #config: TrimConfig
  #lastTrim = -Infinity

  constructor (config: TrimConfig = DEFAULT_TRIM_CONFIG) {
    this.#config = config
  }

  shouldTrim (count: number, now: number): boolean {
    if (count <= this.#config.highWater) return false
    if (now - this.#lastTrim < this.#config.silencePeriod) return false
    this.#lastTrim = now
    return true
  }

  /** When the next trim may happen, ms (for a timer that re-checks after the silence). */
  get nextAllowed (): number {
    return this.#lastTrim + this.#config.silencePeriod
  }
}
