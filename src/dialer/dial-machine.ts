/**
 * One dial of one peer, as a state machine (pure; time passed in, like the yamux
 * session): it carries out a schedule (`schedule.ts`), starting each address when
 * its delay has passed, or at once when nothing else is in flight, and at most
 * `maxParallel` at a time; it bounds each attempt (`attemptTimeout`) and the whole
 * dial (`dialTimeout`); the first attempt to succeed wins and every other one is
 * cancelled. The shape follows go-libp2p's `swarm/dial_worker.go`; the driver
 * (`dialer.ts`) runs the attempts and the timer.
 *
 * Inputs: `poll(now, budget)` (what to start or cancel now), `attemptEnded(id, ...)`,
 * `handleTimeout(now)`, `cancel(reason)`, `satisfy()`. Outputs: actions from `poll`,
 * `nextTimeout()`, `state`, `failures`.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { TimeoutError } from '../errors.js'
import type { ScheduledAddress } from './schedule.js'
import { failureReason, type DialFailure } from './failure.js'

export interface DialMachineConfig {
  /** Attempts of this dial in flight at once. */
  maxParallel: number
  /** One address: connect + upgrade, ms. */
  attemptTimeout: number
  /** The whole dial, ms. */
  dialTimeout: number
}

export type DialState = 'running' | 'succeeded' | 'failed' | 'cancelled'

/** Why an attempt is to be aborted. */
export type CancelWhy = 'attempt-timeout' | 'dial-timeout' | 'won-elsewhere' | 'cancelled'

export type DialAction =
  | { type: 'start', id: number, address: ScheduledAddress }
  | { type: 'cancel', id: number, why: CancelWhy }

interface Attempt {
  id: number
  address: ScheduledAddress
  started: number
  deadline: number
  /** Cancel already requested (timeout or end of dial). */
  cancelling: boolean
}

export class DialMachine {
  readonly #schedule: readonly ScheduledAddress[]
  readonly #config: DialMachineConfig
  readonly #start: number
  readonly #deadline: number
  readonly #inFlight = new Map<number, Attempt>()
  readonly #failures: DialFailure[]
  readonly #actions: DialAction[] = []
  #next = 0
  /** How far the schedule was pulled forward because nothing was in flight, ms. */
  #shift = 0
  #nextId = 0
  #state: DialState = 'running'
  #end: Error | undefined

  /**
   * @param failures addresses already ruled out before the dial (backed off,
   *   black-holed, no transport): they appear in the aggregate error.
   */
  constructor (schedule: readonly ScheduledAddress[], config: DialMachineConfig, now: number, failures: DialFailure[] = []) {
    this.#schedule = schedule
    this.#config = config
    this.#start = now
    this.#deadline = now + config.dialTimeout
    this.#failures = [...failures]
    if (schedule.length === 0) this.#state = 'failed'
  }

  get state (): DialState {
    return this.#state
  }

  /** Every address that failed, in the order they failed (pre-filtered ones first). */
  get failures (): readonly DialFailure[] {
    return this.#failures
  }

  /** Set when the dial failed or was cancelled: the whole-dial timeout or the cancel reason. */
  get endError (): Error | undefined {
    return this.#end
  }

  get inFlight (): number {
    return this.#inFlight.size
  }

  /** Addresses not started yet. */
  get remaining (): number {
    return this.#schedule.length - this.#next
  }

  /** True while the machine wants to start an attempt now but had no budget. */
  wantsToStart (now: number): boolean {
    if (this.#state !== 'running' || this.#next >= this.#schedule.length) return false
    if (this.#inFlight.size >= this.#config.maxParallel) return false
    return this.#inFlight.size === 0 || this.#dueAt(this.#next) <= now
  }

  /**
   * Actions to carry out now: attempts to start (at most `budget`, the node-wide
   * attempts still free) and attempts to cancel.
   */
  poll (now: number, budget = Infinity): DialAction[] {
    if (this.#state === 'running') {
      while (budget > 0 && this.#next < this.#schedule.length && this.#inFlight.size < this.#config.maxParallel) {
        const due = this.#dueAt(this.#next)
        if (due > now) {
          if (this.#inFlight.size > 0) break
          // Nothing in flight: waiting helps no one. Pull the rest of the schedule
          // forward, keeping the gaps between later entries.
          this.#shift += due - now
        }
        const address = this.#schedule[this.#next++] as ScheduledAddress
        const id = ++this.#nextId
        this.#inFlight.set(id, { id, address, started: now, deadline: now + this.#config.attemptTimeout, cancelling: false })
        this.#actions.push({ type: 'start', id, address })
        budget--
      }
    }
    return this.#actions.splice(0)
  }

  /**
   * An attempt ended. Returns true when its connection is the dial's result (the
   * driver registers it); false when the driver must close what it got.
   */
  attemptEnded (id: number, result: { ok: true } | { ok: false, error: Error }): boolean {
    const a = this.#inFlight.get(id)
    if (a === undefined) return false
    this.#inFlight.delete(id)
    if (result.ok) {
      if (this.#state !== 'running') return false
      this.#state = 'succeeded'
      this.#cancelAll('won-elsewhere')
      return true
    }
    this.#failures.push({ addr: a.address.addr, reason: failureReason(result.error), error: result.error })
    this.#checkExhausted()
    return false
  }

  /**
   * Applies the deadlines that have passed at `now`. When the whole dial times out,
   * `describe(id)` may give the error for an attempt still in flight (the driver
   * knows which step it was in); the dial's timeout error stands in otherwise.
   */
  handleTimeout (now: number, describe?: (id: number) => Error | undefined): void {
    if (this.#state !== 'running') return
    if (now >= this.#deadline) {
      this.#end = new TimeoutError(`dial timed out after ${this.#config.dialTimeout} ms`)
      for (let i = this.#next; i < this.#schedule.length; i++) {
        const s = this.#schedule[i] as ScheduledAddress
        this.#failures.push({ addr: s.addr, reason: 'not-tried', error: this.#end })
      }
      this.#next = this.#schedule.length
      this.#state = 'failed'
      for (const a of this.#inFlight.values()) {
        this.#failures.push({ addr: a.address.addr, reason: 'timeout', error: describe?.(a.id) ?? this.#end })
      }
      this.#cancelAll('dial-timeout')
      return
    }
    for (const a of this.#inFlight.values()) {
      if (!a.cancelling && now >= a.deadline) {
        a.cancelling = true
        this.#actions.push({ type: 'cancel', id: a.id, why: 'attempt-timeout' })
      }
    }
  }

  /** The next time `handleTimeout` has something to do, or undefined when nothing is pending. */
  nextTimeout (): number | undefined {
    if (this.#state !== 'running') return undefined
    let t = this.#deadline
    for (const a of this.#inFlight.values()) if (!a.cancelling && a.deadline < t) t = a.deadline
    if (this.#next < this.#schedule.length && this.#inFlight.size > 0 && this.#inFlight.size < this.#config.maxParallel) {
      t = Math.min(t, this.#dueAt(this.#next))
    }
    return t
  }

  /** Every caller left (or the node stops): cancel everything; nothing will be registered. */
  cancel (reason: Error): void {
    if (this.#state !== 'running') return
    this.#state = 'cancelled'
    this.#end = reason
    this.#cancelAll('cancelled')
  }

  /** Another connection to the peer (an inbound one) satisfies the dial. */
  satisfy (): void {
    if (this.#state !== 'running') return
    this.#state = 'succeeded'
    this.#cancelAll('won-elsewhere')
  }

  #dueAt (i: number): number {
    return this.#start + (this.#schedule[i] as ScheduledAddress).delay - this.#shift
  }

  /**
   * Ends every attempt in flight: the driver aborts them, and whatever they still
   * report is ignored (a connection that completes anyway is closed by the driver).
   */
  #cancelAll (why: CancelWhy): void {
    for (const a of this.#inFlight.values()) this.#actions.push({ type: 'cancel', id: a.id, why })
    this.#inFlight.clear()
  }

  #checkExhausted (): void {
    if (this.#state === 'running' && this.#inFlight.size === 0 && this.#next >= this.#schedule.length) {
      this.#state = 'failed'
    }
  }
}
