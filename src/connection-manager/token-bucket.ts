/**
 * A token bucket (pure; time passed in): `burst` tokens at most, refilled at `rate`
 * tokens per second. Used to rate-limit new inbound connections per source address
 * (go-libp2p's resource manager allows a burst of 16 and 0.2 per second per /32 by
 * default; the numbers live with the limits that use them).
 */
export class TokenBucket {
  readonly rate: number
  readonly burst: number
  #tokens: number
  #at: number

  /**
   * @param rate tokens per second (> 0)
   * @param burst bucket size (>= 1)
   * @param now ms; the bucket starts full
   */
  constructor (rate: number, burst: number, now: number) {
    this.rate = rate
    this.burst = burst
    this.#tokens = burst
    this.#at = now
  }

  /** Takes one token at `now`; false when the bucket is empty. */
  take (now: number): boolean {
    this.#refill(now)
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /** Tokens available at `now`. */
  available (now: number): number {
    this.#refill(now)
    return this.#tokens
  }

  /** True when the bucket is full at `now`: it holds no state worth keeping. */
  isFull (now: number): boolean {
    return this.available(now) >= this.burst
  }

  /** Milliseconds until a token is available at `now` (0 if one is). */
  waitTime (now: number): number {
    this.#refill(now)
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.rate) * 1000)
  }

  #refill (now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate)
    }
    this.#at = Math.max(this.#at, now)
  }
}
