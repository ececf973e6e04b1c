/**
 * Black-hole detection per address class (pure; time passed in), after go-libp2p's
 * `swarm/black_hole_detector.go`: a host without working IPv6 (or with UDP blocked)
 * sees every dial of a public IPv6 (or QUIC) address hang until its timeout. Keeping a
 * window of recent outcomes per class, the detector stops dialing a class that keeps
 * failing, and still lets a probe through now and then so it notices when the path
 * comes back.
 *
 * States, per class:
 * - `probing`: fewer than `window` outcomes seen; every dial goes ahead.
 * - `allowed`: at least `minSuccesses` successes in the last `window` outcomes.
 * - `blocked`: fewer; dials of the class are refused, except one probe every
 *   `probeEvery` requests or every `probeInterval` ms. A success while blocked clears
 *   the window (the path works again) and the class is probed afresh.
 *
 * What counts: only public addresses (a local path says nothing about the internet),
 * and only outcomes that say something about the path. A refused connection or a
 * failed handshake proves the path works (the remote answered); a timeout or "network
 * unreachable" is a failure; an attempt cancelled because another address won counts
 * for nothing.
 */

export type BlackHoleClass = 'ip6' | 'udp'
export type BlackHoleState = 'probing' | 'allowed' | 'blocked'
export type BlackHoleDecision = 'allow' | 'probe' | 'block'

export interface BlackHoleConfig {
  /**
   * Outcomes remembered per class. Default 100 (go-libp2p's N): enough that a few
   * unlucky timeouts on a working path cannot block it.
   */
  window: number
  /**
   * Successes in the window needed to stay allowed. Default 5 (go-libp2p's
   * MinSuccesses): 5% of dials working proves the path exists; peers that list
   * IPv6 addresses they cannot be reached on are common.
   */
  minSuccesses: number
  /** While blocked, one request in this many is let through as a probe. Default 100. */
  probeEvery: number
  /** While blocked, a probe at least this often, ms. Default 300 000 (5 min). */
  probeInterval: number
}

export const DEFAULT_BLACK_HOLE_CONFIG: Readonly<BlackHoleConfig> = Object.freeze({
  window: 100,
  minSuccesses: 5,
  probeEvery: 100,
  probeInterval: 300_000
})

interface ClassState {
  /** Ring of outcomes, true = success. */
  outcomes: boolean[]
  next: number
  successes: number
  requestsSinceProbe: number
  lastProbe: number
}

export class BlackHoleDetector {
  readonly #config: BlackHoleConfig
  readonly #classes = new Map<BlackHoleClass, ClassState>()

  constructor (config: Partial<BlackHoleConfig> = {}) {
    this.#config = { ...DEFAULT_BLACK_HOLE_CONFIG, ...config }
  }

  state (cls: BlackHoleClass): BlackHoleState {
    const s = this.#classes.get(cls)
    if (s === undefined || s.outcomes.length < this.#config.window) return 'probing'
    return s.successes >= this.#config.minSuccesses ? 'allowed' : 'blocked'
  }

  /** Called once per dial that has addresses of `cls`: may they be dialed? */
  request (cls: BlackHoleClass, now: number): BlackHoleDecision {
    if (this.state(cls) !== 'blocked') return 'allow'
    const s = this.#classes.get(cls) as ClassState
    s.requestsSinceProbe++
    if (s.requestsSinceProbe >= this.#config.probeEvery || now - s.lastProbe >= this.#config.probeInterval) {
      s.requestsSinceProbe = 0
      s.lastProbe = now
      return 'probe'
    }
    return 'block'
  }

  /** The outcome of a dial of a public address of `cls` that says something about the path. */
  record (cls: BlackHoleClass, success: boolean, now: number): void {
    let s = this.#classes.get(cls)
    if (s === undefined) {
      s = { outcomes: [], next: 0, successes: 0, requestsSinceProbe: 0, lastProbe: now }
      this.#classes.set(cls, s)
    }
    const before = this.state(cls)
    if (success && before === 'blocked') {
      s.outcomes = []
      s.next = 0
      s.successes = 0
    }
    const window = this.#config.window
    if (s.outcomes.length < window) {
      s.outcomes.push(success)
    } else {
      if (s.outcomes[s.next] === true) s.successes--
      s.outcomes[s.next] = success
      s.next = (s.next + 1) % window
    }
    if (success) s.successes++
    if (before !== 'blocked' && this.state(cls) === 'blocked') {
      // Just blocked: the first probe comes one interval (or `probeEvery` requests) later.
      s.requestsSinceProbe = 0
      s.lastProbe = now
    }
  }
}
