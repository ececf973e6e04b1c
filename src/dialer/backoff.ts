/**
 * Dial backoff per (peer, address) (pure; time passed in). After an address fails,
 * it is not dialed again until `base + coefficient * tries²` has passed, at most
 * `max`; a success clears every backoff of the peer. The dialer consults it for the
 * addresses it picks itself (a dial by peer id); an address the caller names, or a
 * dial with `force`, is tried anyway.
 *
 * The numbers are go-libp2p's swarm backoff (`BackoffBase` 5 s, `BackoffCoef` 1 s,
 * `BackoffMax` 5 min): a dead address costs at most one attempt per 5 s at first and
 * one per 5 min eventually, while a peer that comes back is found within seconds of
 * its first retries.
 */

export interface BackoffConfig {
  /** Wait after the first failure, ms. Default 5 000. */
  base: number
  /** Added per tries², ms. Default 1 000 (6 s, 9 s, 14 s, ... after further failures). */
  coefficient: number
  /** Longest wait, ms. Default 300 000. */
  max: number
  /**
   * Most (peer, address) entries kept. Default 10 000: about 1 MiB; the oldest
   * entries go first (an evicted entry only means one more early retry).
   */
  maxEntries: number
}

export const DEFAULT_BACKOFF_CONFIG: Readonly<BackoffConfig> = Object.freeze({
  base: 5_000,
  coefficient: 1_000,
  max: 300_000,
  maxEntries: 10_000
})

export interface BackoffEntry {
  /** Failures in a row. */
  tries: number
  /** Not dialed before this time (ms, the clock the caller passes in). */
  until: number
  /** The code of the last failure, for the error of a dial that was backed off. */
  lastCode?: string
}

export class DialBackoff {
  readonly #config: BackoffConfig
  /** peer -> address -> entry; peers least recently failed first (re-inserted on update). */
  readonly #byPeer = new Map<string, Map<string, BackoffEntry>>()
  #count = 0

  constructor (config: Partial<BackoffConfig> = {}) {
    this.#config = { ...DEFAULT_BACKOFF_CONFIG, ...config }
  }

  /** Entries held. */
  get size (): number {
    return this.#count
  }

  /** The entry that backs `addr` off at `now`, or undefined when it may be dialed. */
  check (peer: string, addr: string, now: number): BackoffEntry | undefined {
    const e = this.#byPeer.get(peer)?.get(addr)
    return e !== undefined && now < e.until ? e : undefined
  }

  /** Records a failure at `now`; returns the new entry. */
  fail (peer: string, addr: string, now: number, code?: string): BackoffEntry {
    let addrs = this.#byPeer.get(peer)
    if (addrs === undefined) addrs = new Map()
    else this.#byPeer.delete(peer)
    this.#byPeer.set(peer, addrs)
    const old = addrs.get(addr)
    if (old === undefined) this.#count++
    const tries = (old?.tries ?? 0) + 1
    const c = this.#config
    const wait = Math.min(c.max, c.base + c.coefficient * (tries - 1) ** 2)
    const e: BackoffEntry = { tries, until: now + wait, ...(code !== undefined ? { lastCode: code } : {}) }
    addrs.set(addr, e)
    this.#evict(now)
    return e
  }

  /** A dial of the peer succeeded: forget every backoff of the peer. */
  clearPeer (peer: string): void {
    const addrs = this.#byPeer.get(peer)
    if (addrs === undefined) return
    this.#count -= addrs.size
    this.#byPeer.delete(peer)
  }

  /** Over the bound: drops expired entries, then whole peers, least recently failed first. */
  #evict (now: number): void {
    if (this.#count <= this.#config.maxEntries) return
    for (const [peer, addrs] of this.#byPeer) {
      for (const [addr, e] of addrs) {
        // Kept a while after it expires (it carries `tries`), not once the longest
        // wait has passed again.
        if (e.until + this.#config.max <= now) {
          addrs.delete(addr)
          this.#count--
        }
      }
      if (addrs.size === 0) this.#byPeer.delete(peer)
    }
    for (const peer of this.#byPeer.keys()) {
      if (this.#count <= this.#config.maxEntries) break
      this.clearPeer(peer)
    }
  }
}
