/**
 * Pings and keep-alive for one yamux session (yamux.md, "Type Field": Ping is "used to
 * measure RTT. It can also be used to heart-beat and do keep-alives"). Pure: the
 * session tells it what was sent and received, with the time; it answers with the RTT,
 * the next deadline, and what is due.
 *
 * One ping of ours is outstanding at a time. A ping unanswered for `timeout`, with no
 * other frame received meanwhile, means the connection is dead: any frame proves the
 * remote alive, and a ping answer may legitimately wait behind a window of data.
 */
import { MAX_UINT32 } from './frame.js'
import { MAX_PENDING_PONGS } from './config.js'

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

  constructor (interval: number, timeout: number, now: number) {
    this.#interval = interval
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

  /** Whether an RTT probe should ride along with output now: none measured, none in flight. */
  get wantsProbe (): boolean {
    return this.#rtt === undefined && this.#ping === undefined
  }

  /** Anything arrived from the remote. */
  received (now: number): void {
    this.#lastReceiveAt = now
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
   * A Ping ACK arrived. Answers we did not ask for are ignored (js-libp2p-yamux treats
   * them as an error; nothing is at stake here).
   */
  answered (opaque: number, now: number): void {
    const ping = this.#ping
    if (ping === undefined || ping.id !== opaque) return
    this.#ping = undefined
    this.#rtt = now - ping.sentAt
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
    if (this.#ping !== undefined) return Math.max(this.#ping.sentAt, this.#lastReceiveAt) + this.#timeout
    return this.#lastPingAt + this.#interval
  }

  /** What is due at `now`: a keep-alive ping, the timeout, or nothing. */
  due (now: number): 'ping' | 'timeout' | undefined {
    const at = this.nextTimeout()
    if (at === undefined || now < at) return undefined
    return this.#ping !== undefined ? 'timeout' : 'ping'
  }
}
