/**
 * The dialer's numbers, each an option of `createNode({ dialer: { ... } })`, with why
 * it is what it is. The policies they feed are pure (`schedule.ts`, `backoff.ts`,
 * `black-hole.ts`, `dial-machine.ts`).
 */
import { invalidArgValue } from '../errors.js'
import { DEFAULT_BACKOFF_CONFIG, type BackoffConfig } from './backoff.js'
import { DEFAULT_BLACK_HOLE_CONFIG, type BlackHoleConfig } from './black-hole.js'
import { DEFAULT_SCHEDULE_CONFIG, type ScheduleConfig } from './schedule.js'

export interface DialerConfig {
  /**
   * The whole dial of one peer, from the call to the upgraded connection, over every
   * address tried, ms. Default 30 000: plenty on any working path (go-libp2p allows
   * 60 s, js-libp2p 5 s per address), and it bounds a dial into a black hole.
   */
  dialTimeout: number
  /**
   * One address: TCP connect plus the upgrade (security handshake, muxer), ms.
   * Default 10 000: three round trips of even a 1 s-RTT satellite path, with margin
   * for a loaded remote; a listener that accepts and stalls costs no more than this
   * and, thanks to the schedule, delays the other addresses by one step only.
   */
  attemptTimeout: number
  /**
   * Attempts of one dial in flight at once. Default 8 (go-libp2p's per-peer dial
   * limit): enough to race every transport and family, bounded against a peer that
   * lists many addresses.
   */
  maxParallelPerPeer: number
  /**
   * Peer dials running at once on the node. Default 100 (js-libp2p's
   * maxParallelDials): with 8 attempts each, at most 800 sockets connecting, well
   * under a default shell's 1024 file descriptors.
   */
  maxConcurrentDials: number
  /**
   * Dials waiting for one of those slots. Default 500: a burst of requests is
   * absorbed; past it a dial fails at once with `ERR_DIAL_QUEUE_FULL` rather than
   * queueing without bound.
   */
  maxQueuedDials: number
  schedule: ScheduleConfig
  backoff: BackoffConfig
  blackHole: BlackHoleConfig
}

export interface DialerOptions extends Partial<Omit<DialerConfig, 'schedule' | 'backoff' | 'blackHole'>> {
  schedule?: Partial<ScheduleConfig>
  backoff?: Partial<BackoffConfig>
  blackHole?: Partial<BlackHoleConfig>
}

export const DEFAULT_DIAL_TIMEOUT = 30_000
export const DEFAULT_ATTEMPT_TIMEOUT = 10_000

export function dialerConfig (options: DialerOptions = {}): DialerConfig {
  const c: DialerConfig = {
    dialTimeout: options.dialTimeout ?? DEFAULT_DIAL_TIMEOUT,
    attemptTimeout: options.attemptTimeout ?? DEFAULT_ATTEMPT_TIMEOUT,
    maxParallelPerPeer: options.maxParallelPerPeer ?? 8,
    maxConcurrentDials: options.maxConcurrentDials ?? 100,
    maxQueuedDials: options.maxQueuedDials ?? 500,
    schedule: { ...DEFAULT_SCHEDULE_CONFIG, ...options.schedule },
    backoff: { ...DEFAULT_BACKOFF_CONFIG, ...options.backoff },
    blackHole: { ...DEFAULT_BLACK_HOLE_CONFIG, ...options.blackHole }
  }
  for (const k of ['dialTimeout', 'attemptTimeout'] as const) {
    if (!(c[k] > 0)) throw invalidArgValue(`dialer.${k}`, `must be a positive number of ms, got ${String(c[k])}`)
  }
  for (const k of ['maxParallelPerPeer', 'maxConcurrentDials'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw invalidArgValue(`dialer.${k}`, `must be an integer >= 1, got ${String(c[k])}`)
  }
  if (!Number.isInteger(c.maxQueuedDials) || c.maxQueuedDials < 0) {
    throw invalidArgValue('dialer.maxQueuedDials', `must be an integer >= 0, got ${String(c.maxQueuedDials)}`)
  }
  return c
}
