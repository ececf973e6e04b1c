/**
 * Pings and liveness for one yamux session (yamux.md, "Type Field": Ping is "used to
 * measure RTT. It can also be used to heart-beat and do keep-alives"). Pure: the
 * session tells it what was sent and received, with the time; it answers with the RTT,
 * the next deadline, and what is due.
 *
 * Liveness is judged on what is actually received, not on one ping's round trip:
 *
 * - Every frame from the remote proves it alive (`received`), except an answer to a
 *   ping we did not send, which is ignored as before.
 * - A ping is sent when nothing has arrived for `interval` (an idle connection), so a
 *   live remote always has something to answer; on a busy connection one ping per
 *   `RTT_REFRESH_INTERVALS` intervals keeps the RTT estimate fresh.
 * - The connection is dead when nothing at all has arrived for `timeout` (the silence
 *   bound) while a ping of ours is outstanding. The timer does not start when a ping
 *   is queued: a ping that waits behind megabytes of unsent data, or a path that is
 *   down for a while and heals, costs nothing as long as the remote's frames resume
 *   within the bound. `config.ts` derives the documented bounds from these numbers.
 *
 * One ping of ours is outstanding at a time.
 */
import { MAX_UINT32 } from './frame.js'
import { KEEP_ALIVE_JITTER, MAX_PENDING_PONGS, RTT_REFRESH_INTERVALS } from './config.js'

export class KeepAlive {
  /** 0 disables keep-alive pings and the timeout (RTT probes still work). */
  readonly #interval: number
  readonly #timeout: number
  #ping: { readonly id: number, readonly sentAt: number } | undefined
  #nextId = 1
  #lastPingAt: number
  #lastReceiveAt: number
  #rtt: number | undefined
  #pendingPongs = 0

  /**
   * @param jitter uniform in [0, 1), drawn by the driver: the interval shrinks by up to
   *   KEEP_ALIVE_JITTER (config.ts) so that connections do not all ping at once.
   */
  constructor (interval: number, timeout: number, now: number, jitter = 0) {
    this.#interval = Math.round(interval * (1 - KEEP_ALIVE_JITTER * Math.min(Math.max(jitter, 0), 1)))
    this.#timeout = timeout
    this.#lastPingAt = now
    this.#lastReceiveAt = now
  }

  /** Latest measured round-trip time. */
  get rtt (): number | undefined {
    return this.#rtt
  }

  get lastReceiveAt (): number {
    return this.#lastReceiveAt
  }

  /** Whether one of our pings is waiting for its answer. */
  get pinging (): boolean {
    return this.#ping !== undefined
  }

  /** Whether an RTT probe should ride along with output now: none measured, none in flight. */
  get wantsProbe (): boolean {
    return this.#rtt === undefined && this.#ping === undefined
  }

  /** How long nothing has arrived from the remote. */
  silentFor (now: number): number {
    return Math.max(0, now - this.#lastReceiveAt)
  }

  /** A frame arrived from the remote. */
  received (now: number): void {
    if (now > this.#lastReceiveAt) this.#lastReceiveAt = now
  }

  /** Starts a ping; returns its opaque value for the frame. */
  ping (now: number): number {
    const id = this.#nextId
    this.#nextId = id >= MAX_UINT32 ? 1 : id + 1
    this.#ping = { id, sentAt: now }
    this.#lastPingAt = now
    return id
  }

  /**
   * A Ping ACK arrived. Answers we did not ask for are ignored and do not count as a
   * sign of life (js-libp2p-yamux treats them as an error; nothing is at stake here).
   * Returns whether it answered our ping.
   */
  answered (opaque: number, now: number): boolean {
    const ping = this.#ping
    if (ping === undefined || ping.id !== opaque) return false
    this.#ping = undefined
    this.#rtt = now - ping.sentAt
    return true
  }

  /** Whether one more remote ping may be answered in this flush (MAX_PENDING_PONGS). */
  takePong (): boolean {
    if (this.#pendingPongs >= MAX_PENDING_PONGS) return false
    this.#pendingPongs++
    return true
  }

  /** The output was flushed: answers may be queued again. */
  flushed (): void {
    this.#pendingPongs = 0
  }

  /** When something is next due, or undefined when keep-alive is off. */
  nextTimeout (): number | undefined {
    if (this.#interval === 0) return undefined
    if (this.#ping !== undefined) return this.#lastReceiveAt + this.#timeout
    return Math.min(this.#lastReceiveAt + this.#interval, this.#lastPingAt + RTT_REFRESH_INTERVALS * this.#interval)
  }

  /** What is due at `now`: a keep-alive ping, the timeout, or nothing. */
  due (now: number): 'ping' | 'timeout' | undefined {
    const at = this.nextTimeout()
    if (at === undefined || now < at) return undefined
    return this.#ping !== undefined ? 'timeout' : 'ping'
  }
}
