/**
 * The dialer's driver: it turns `dial(peer | address)` into one {@link DialMachine}
 * per peer, runs the attempts the machine asks for (transport dial + upgrade), keeps
 * one timer per dial for the machine's deadlines, and applies the pure policies
 * around it: the schedule (`schedule.ts`), backoff (`backoff.ts`) and black-hole
 * detection (`black-hole.ts`). `connections/README.md`, "State Management".
 *
 * - One dial per peer at a time: concurrent calls join it. Each caller's signal
 *   detaches that caller only; when the last one leaves, the dial is cancelled, its
 *   attempts aborted, and nothing is registered (a connection that completes anyway
 *   is closed).
 * - An inbound connection from the peer arriving meanwhile satisfies the dial
 *   (`connectionOpened`).
 * - At most `maxConcurrentDials` dials run; up to `maxQueuedDials` wait behind them
 *   in order; past that a dial fails at once with `ERR_DIAL_QUEUE_FULL`.
 * - A dial that fails everywhere rejects with one error listing every address and
 *   why (`failure.ts`).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../interfaces/connection.js'
import type { PeerId } from '../interfaces/keys.js'
import type { DialOutcome } from '../interfaces/peer-store.js'
import type { Transport } from '../interfaces/transport.js'
import type { Upgraded, Upgrader } from '../upgrader/upgrader.js'
import { AbortError, codes, Lp2pError, TimeoutError } from '../errors.js'
import { signalError } from '../util/deadline.js'
import { DialBackoff } from './backoff.js'
import { classifyAddress } from './address-class.js'
import { BlackHoleDetector, type BlackHoleClass } from './black-hole.js'
import { dialerConfig, type DialerConfig, type DialerOptions } from './config.js'
import { DialMachine, type CancelWhy, type DialAction } from './dial-machine.js'
import { dialFailedError, failureReason, type DialFailure, type FailureReason } from './failure.js'
import { scheduleDials, type DialCandidate, type ScheduledAddress } from './schedule.js'
import { peerIdOf, withoutPeerId } from './target.js'

/** Where the dialer reads a peer's addresses and writes dial outcomes (the peer store). */
export interface DialerAddressBook {
  candidates: (peer: PeerId) => DialCandidate[]
  recordDial: (peer: PeerId, addr: Multiaddr, outcome: DialOutcome) => void
}

export interface DialerInit {
  transports: readonly Transport[]
  upgrader: Upgrader
  localPeer: PeerId
  addressBook: DialerAddressBook
  /** An open connection to the peer, to reuse. */
  findConnection: (peer: PeerId) => Connection | undefined
  /** Turns an upgraded channel into a registered, open connection. */
  createConnection: (upgraded: Upgraded, opened: number) => Connection
  options?: DialerOptions
  /** The clock, ms. Default `Date.now`. */
  now?: () => number
}

/** Steps of a dial, reported to `onProgress` (the CLI's `lp2p dial` prints them). Times are ms since the dial started. */
export type DialProgress =
  | { type: 'joined' }
  | { type: 'scheduled', addresses: ReadonlyArray<{ addr: Multiaddr, delay: number }>, skipped: readonly DialFailure[] }
  | { type: 'attempt', addr: Multiaddr, at: number }
  | { type: 'attempt-failed', addr: Multiaddr, at: number, reason: FailureReason, error: Error }
  | { type: 'attempt-cancelled', addr: Multiaddr, at: number, why: CancelWhy }
  | { type: 'connected', addr: Multiaddr, at: number, connection: Connection }
  | { type: 'satisfied', at: number, connection: Connection }

export interface DialOptions {
  signal?: AbortSignal
  /** Dial addresses in backoff or black-holed too. */
  force?: boolean
  /** Called with each step of the dial; a throwing callback is ignored. */
  onProgress?: (event: DialProgress) => void
}

interface Waiter {
  resolve: (c: Connection) => void
  reject: (e: Error) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  onProgress: ((event: DialProgress) => void) | undefined
}

interface Attempt {
  address: ScheduledAddress
  controller: AbortController
  step: 'connect' | 'upgrade'
  started: number
}

interface PendingDial {
  key: string
  target: string
  peer: PeerId | undefined
  machine: DialMachine
  started: number
  waiters: Set<Waiter>
  /** Waiters with an onProgress callback: progress events are built only when some exist. */
  watchers: number
  attempts: Map<number, Attempt>
  timer: NodeJS.Timeout | undefined
  timerAt: number
  running: boolean
  done: boolean
}

export class Dialer {
  readonly #init: DialerInit
  readonly #config: DialerConfig
  readonly #now: () => number
  readonly #pending = new Map<string, PendingDial>()
  readonly #queue: PendingDial[] = []
  readonly #backoff: DialBackoff
  readonly #blackHole: BlackHoleDetector
  #running = 0

  constructor (init: DialerInit) {
    this.#init = init
    this.#config = dialerConfig(init.options)
    this.#now = init.now ?? Date.now
    this.#backoff = new DialBackoff(this.#config.backoff)
    this.#blackHole = new BlackHoleDetector(this.#config.blackHole)
  }

  get config (): Readonly<DialerConfig> {
    return this.#config
  }

  /** Dials in flight or queued. */
  get pending (): number {
    return this.#pending.size
  }

  /** Dials a peer (by its known addresses) or an address (which may name the peer). */
  async dial (target: { peer?: PeerId, addr?: Multiaddr }, options: DialOptions = {}): Promise<Connection> {
    const peer = target.peer ?? (target.addr !== undefined ? peerIdOf(target.addr) : undefined)
    if (peer !== undefined) {
      if (peer.equals(this.#init.localPeer)) throw new Lp2pError(codes.ERR_DIALED_SELF, 'cannot dial ourselves')
      const open = this.#init.findConnection(peer)
      if (open !== undefined) return open
    }
    if (options.signal?.aborted === true) throw signalError(options.signal)
    const key = peer?.toString() ?? (target.addr as Multiaddr).toString()
    let pd = this.#pending.get(key)
    const joined = pd !== undefined
    if (pd === undefined) {
      if (this.#pending.size >= this.#config.maxConcurrentDials + this.#config.maxQueuedDials) {
        throw new Lp2pError(codes.ERR_DIAL_QUEUE_FULL,
          `the dial queue is full (${this.#config.maxConcurrentDials} dials running, ${this.#config.maxQueuedDials} queued)`)
      }
      pd = this.#create(key, peer, target.addr, options)
    }
    const p = this.#wait(pd, options)
    if (joined) emit(options.onProgress, { type: 'joined' })
    else this.#admit(pd)
    return await p
  }

  /** A connection to `conn.remotePeer` opened (either direction): it satisfies a dial of that peer. */
  connectionOpened (conn: Connection): void {
    const pd = this.#pending.get(conn.remotePeer.toString())
    // Not running: the dial's own attempt just won and is registering this very connection.
    if (pd === undefined || pd.done || pd.machine.state !== 'running') return
    pd.machine.satisfy()
    if (pd.watchers > 0) this.#notify(pd, { type: 'satisfied', at: this.#now() - pd.started, connection: conn })
    this.#pump(pd)
    this.#finish(pd, conn)
  }

  /** Aborts every dial, running or queued (node stop); later dials work again. */
  abortAll (): void {
    const cause = new Lp2pError(codes.ERR_NOT_STARTED, 'the node is stopping')
    for (const pd of [...this.#pending.values()]) {
      const err = new AbortError('dial aborted', { cause })
      pd.machine.cancel(err)
      this.#pump(pd)
      this.#finish(pd, err)
    }
  }

  // --- a dial's life -------------------------------------------------------------

  #create (key: string, peer: PeerId | undefined, addr: Multiaddr | undefined, options: DialOptions): PendingDial {
    const now = this.#now()
    const candidates: DialCandidate[] = addr !== undefined
      ? [{ addr: withoutPeerId(addr) }]
      : (peer !== undefined ? this.#init.addressBook.candidates(peer) : [])
    const skipped: DialFailure[] = []
    const usable: DialCandidate[] = []
    const blackHoleDecisions = new Map<BlackHoleClass, string>()
    for (const c of candidates) {
      if (this.#transportFor(c.addr) === undefined) {
        skipped.push({ addr: c.addr, reason: 'no-transport', error: new Lp2pError(codes.ERR_NO_TRANSPORT, `no transport can dial ${c.addr.toString()}`) })
        continue
      }
      if (options.force !== true) {
        // Backoff guards the addresses we pick ourselves (a dial by peer id, redials);
        // an address the caller names is the caller's explicit request and is tried.
        const b = peer === undefined || addr !== undefined ? undefined : this.#backoff.check(peer.toString(), c.addr.toString(), now)
        if (b !== undefined) {
          skipped.push({
            addr: c.addr,
            reason: 'backed-off',
            error: new Lp2pError(codes.ERR_DIAL_BACKOFF, `${c.addr.toString()} is backed off for ${Math.ceil((b.until - now) / 1000)} s more after ${b.tries} failed dial${b.tries > 1 ? 's' : ''}${b.lastCode !== undefined ? ` (last: ${b.lastCode})` : ''}; use force to dial anyway`)
          })
          continue
        }
        const blocked = blackHoleClasses(c.addr).find((cls) => {
          let d = blackHoleDecisions.get(cls)
          if (d === undefined) {
            d = this.#blackHole.request(cls, now)
            blackHoleDecisions.set(cls, d)
          }
          return d === 'block'
        })
        if (blocked !== undefined) {
          skipped.push({ addr: c.addr, reason: 'black-holed', error: new Lp2pError(codes.ERR_DIAL_BLACK_HOLE, `${c.addr.toString()}: recent dials of public ${blocked === 'ip6' ? 'IPv6' : 'UDP'} addresses all failed; use force to dial anyway`) })
          continue
        }
      }
      usable.push(c)
    }
    const schedule = scheduleDials(usable, this.#config.schedule)
    const c = this.#config
    const machine = new DialMachine(schedule, { maxParallel: c.maxParallelPerPeer, attemptTimeout: c.attemptTimeout, dialTimeout: c.dialTimeout }, now, skipped)
    const pd: PendingDial = {
      key,
      target: peer?.toString() ?? (addr as Multiaddr).toString(),
      peer,
      machine,
      started: now,
      waiters: new Set(),
      watchers: 0,
      attempts: new Map(),
      timer: undefined,
      timerAt: Infinity,
      running: false,
      done: false
    }
    this.#pending.set(key, pd)
    if (options.onProgress !== undefined) emit(options.onProgress, { type: 'scheduled', addresses: schedule.map((s) => ({ addr: s.addr, delay: s.delay })), skipped })
    return pd
  }

  #wait (pd: PendingDial, options: DialOptions): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal: options.signal, onAbort: undefined, onProgress: options.onProgress }
      if (options.signal !== undefined) {
        const signal = options.signal
        w.onAbort = () => { this.#leave(pd, w, signalError(signal)) }
        signal.addEventListener('abort', w.onAbort, { once: true })
      }
      pd.waiters.add(w)
      if (w.onProgress !== undefined) pd.watchers++
    })
  }

  /** A caller stopped waiting; the last one to leave cancels the dial. */
  #leave (pd: PendingDial, w: Waiter, err: Error): void {
    if (!pd.waiters.delete(w)) return
    if (w.onProgress !== undefined) pd.watchers--
    w.reject(err)
    if (pd.waiters.size > 0 || pd.done) return
    pd.machine.cancel(new AbortError('every caller of the dial aborted', { cause: err }))
    this.#pump(pd)
    this.#finish(pd, err)
  }

  /** Runs the dial now, or queues it behind the running ones. */
  #admit (pd: PendingDial): void {
    if (pd.machine.state !== 'running') {
      this.#finishFromMachine(pd)
      return
    }
    this.#arm(pd)
    if (this.#running < this.#config.maxConcurrentDials) this.#run(pd)
    else this.#queue.push(pd)
  }

  #run (pd: PendingDial): void {
    pd.running = true
    this.#running++
    this.#pump(pd)
  }

  /** Carries out what the machine wants now, then settles or re-arms the timer. */
  #pump (pd: PendingDial): void {
    const actions = pd.machine.poll(this.#now(), pd.running ? Infinity : 0)
    for (const action of actions) this.#act(pd, action)
    if (pd.done) return
    if (pd.machine.state !== 'running') this.#finishFromMachine(pd)
    else this.#arm(pd)
  }

  #act (pd: PendingDial, action: DialAction): void {
    if (action.type === 'start') {
      this.#startAttempt(pd, action.id, action.address)
      return
    }
    const a = pd.attempts.get(action.id)
    if (a === undefined) return
    if (action.why !== 'attempt-timeout') pd.attempts.delete(action.id)
    if (pd.watchers > 0) this.#notify(pd, { type: 'attempt-cancelled', addr: a.address.addr, at: this.#now() - pd.started, why: action.why })
    a.controller.abort(action.why === 'attempt-timeout'
      ? new TimeoutError(`${stepName(a)} ${a.address.addr.toString()} timed out after ${this.#config.attemptTimeout} ms`)
      : new AbortError(action.why === 'won-elsewhere' ? 'another address connected first' : 'the dial ended'))
  }

  #startAttempt (pd: PendingDial, id: number, address: ScheduledAddress): void {
    const a: Attempt = { address, controller: new AbortController(), step: 'connect', started: this.#now() }
    pd.attempts.set(id, a)
    if (pd.watchers > 0) this.#notify(pd, { type: 'attempt', addr: address.addr, at: a.started - pd.started })
    this.#attempt(pd, a).then((upgraded) => {
      this.#attemptSucceeded(pd, id, a, upgraded)
    }, (err: unknown) => {
      this.#attemptFailed(pd, id, a, err instanceof Error ? err : new Error(String(err)))
    })
  }

  async #attempt (pd: PendingDial, a: Attempt): Promise<Upgraded> {
    const transport = this.#transportFor(a.address.addr) as Transport
    const signal = a.controller.signal
    const raw = await transport.dial(a.address.addr, { signal })
    a.step = 'upgrade'
    return await this.#init.upgrader.upgradeOutbound(raw, { signal, ...(pd.peer !== undefined ? { remotePeer: pd.peer } : {}) })
  }

  #attemptSucceeded (pd: PendingDial, id: number, a: Attempt, upgraded: Upgraded): void {
    pd.attempts.delete(id)
    const now = this.#now()
    this.#backoff.clearPeer(upgraded.remotePeer.toString())
    this.#recordPath(a, true, now)
    this.#init.addressBook.recordDial(upgraded.remotePeer, a.address.addr, { at: now, ok: true, durationMs: now - a.started })
    if (!pd.machine.attemptEnded(id, { ok: true })) {
      // The dial already ended (another address won, an inbound connection came, or
      // every caller left): this connection is not wanted.
      upgraded.destroy(new AbortError('the dial ended before this connection was ready'))
      return
    }
    let conn: Connection
    try {
      conn = this.#init.createConnection(upgraded, a.started)
    } catch (err) {
      upgraded.destroy(err instanceof Error ? err : new Error(String(err)))
      this.#pump(pd)
      this.#finish(pd, err instanceof Error ? err : new Error(String(err)))
      return
    }
    if (pd.watchers > 0) this.#notify(pd, { type: 'connected', addr: a.address.addr, at: now - pd.started, connection: conn })
    this.#pump(pd)
    this.#finish(pd, conn)
  }

  #attemptFailed (pd: PendingDial, id: number, a: Attempt, err: Error): void {
    // Not ours any more: we cancelled it (another address won, the dial ended), and
    // its failure says nothing about the address.
    const ours = pd.attempts.delete(id)
    const now = this.#now()
    const reason = failureReason(err)
    if (ours) {
      const code = (err as { code?: unknown }).code
      // Backoff is per (peer, address): a dial of a bare address has no peer to back off.
      if (pd.peer !== undefined) this.#backoff.fail(pd.peer.toString(), a.address.addr.toString(), now, typeof code === 'string' ? code : undefined)
      // Once the raw connection is up the path works, whatever failed after it.
      this.#recordPath(a, a.step === 'upgrade' || reason === 'refused' || reason === 'wrong-peer', now, reason)
      if (pd.peer !== undefined) {
        this.#init.addressBook.recordDial(pd.peer, a.address.addr, {
          at: now, ok: false, durationMs: now - a.started, ...(typeof code === 'string' ? { code } : {})
        })
      }
      if (pd.watchers > 0) this.#notify(pd, { type: 'attempt-failed', addr: a.address.addr, at: now - pd.started, reason, error: err })
    }
    pd.machine.attemptEnded(id, { ok: false, error: err })
    if (!pd.done) this.#pump(pd)
  }

  /** Feeds the black-hole detector with what an attempt says about its path. */
  #recordPath (a: Attempt, reached: boolean, now: number, reason?: FailureReason): void {
    if (a.address.info.local || a.address.info.relay) return
    if (!reached && reason !== 'timeout' && reason !== 'unreachable') return
    if (a.address.info.family === 'ip6') this.#blackHole.record('ip6', reached, now)
    if (a.address.info.tier === 'quic') this.#blackHole.record('udp', reached, now)
  }

  #finishFromMachine (pd: PendingDial): void {
    const m = pd.machine
    if (m.state === 'failed') {
      if (m.failures.length === 0) {
        this.#finish(pd, new Lp2pError(codes.ERR_NO_ADDRESSES, `no dialable address known for ${pd.target}`))
      } else {
        this.#finish(pd, dialFailedError(pd.target, m.failures, m.endError))
      }
    } else if (m.state === 'cancelled') {
      this.#finish(pd, m.endError ?? new AbortError('dial cancelled'))
    }
  }

  /** Ends the dial: every waiter gets `result`, the timer goes, the next queued dial runs. */
  #finish (pd: PendingDial, result: Connection | Error): void {
    if (pd.done) return
    pd.done = true
    if (pd.timer !== undefined) clearTimeout(pd.timer)
    pd.timer = undefined
    for (const a of pd.attempts.values()) a.controller.abort(new AbortError('the dial ended'))
    pd.attempts.clear()
    if (this.#pending.get(pd.key) === pd) this.#pending.delete(pd.key)
    const qi = this.#queue.indexOf(pd)
    if (qi !== -1) this.#queue.splice(qi, 1)
    if (pd.running) {
      pd.running = false
      this.#running--
    }
    for (const w of pd.waiters) {
      if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort)
      if (result instanceof Error) w.reject(result)
      else w.resolve(result)
    }
    pd.waiters.clear()
    pd.watchers = 0
    while (this.#running < this.#config.maxConcurrentDials && this.#queue.length > 0) {
      this.#run(this.#queue.shift() as PendingDial)
    }
  }

  /** One timer per dial, at the machine's next deadline. */
  #arm (pd: PendingDial): void {
    const at = pd.machine.nextTimeout()
    if (at === pd.timerAt && pd.timer !== undefined) return
    if (pd.timer !== undefined) clearTimeout(pd.timer)
    pd.timer = undefined
    pd.timerAt = at ?? Infinity
    if (at === undefined) return
    pd.timer = setTimeout(() => {
      pd.timer = undefined
      pd.timerAt = Infinity
      pd.machine.handleTimeout(this.#now(), (id) => {
        const a = pd.attempts.get(id)
        return a === undefined ? undefined : new TimeoutError(`${stepName(a)} ${a.address.addr.toString()} was still running when the dial timed out after ${this.#config.dialTimeout} ms`)
      })
      this.#pump(pd)
    }, Math.max(0, at - this.#now()))
    pd.timer.unref()
  }

  #notify (pd: PendingDial, event: DialProgress): void {
    for (const w of pd.waiters) emit(w.onProgress, event)
  }

  #transportFor (addr: Multiaddr): Transport | undefined {
    return this.#init.transports.find((t) => t.canDial(addr))
  }
}

function stepName (a: Attempt): string {
  return a.step === 'connect' ? 'connecting to' : 'upgrading the connection to'
}

function emit (cb: ((e: DialProgress) => void) | undefined, event: DialProgress): void {
  if (cb === undefined) return
  try {
    cb(event)
  } catch {
    // A progress callback cannot fail or stall a dial.
  }
}

/** The black-hole classes of an address: public IPv6, public UDP (QUIC). */
function blackHoleClasses (addr: Multiaddr): BlackHoleClass[] {
  const info = classifyAddress(addr)
  if (info.local || info.relay) return []
  const out: BlackHoleClass[] = []
  if (info.family === 'ip6') out.push('ip6')
  if (info.tier === 'quic') out.push('udp')
  return out
}
