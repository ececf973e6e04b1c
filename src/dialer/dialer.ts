/**
 * Outbound connections: from a multiaddr or a peer id to an upgraded connection.
 *
 * - An open connection to the peer is reused.
 * - Concurrent dials to the same peer (or the same address, when the peer is not
 *   known yet) share one attempt; each caller's own signal only ends its own wait.
 * - A peer's addresses are tried one at a time in rank order ({@link rankAddresses});
 *   when all fail the dial fails with one {@link DialError} holding every attempt's
 *   error (a single address fails with that address's error itself, so a wrong peer
 *   stays `ERR_UNEXPECTED_PEER`).
 * - The whole dial (all attempts, each connect + upgrade) is bounded by `dialTimeout`.
 * - `abortAll()` (node stop) aborts every dial in flight. The dialer keeps their
 *   deadlines in a set rather than adding a listener per dial to one
 *   long-lived signal: that costs an add and a remove per dial, and more than ten
 *   dials in flight made Node warn about a listener leak (MaxListenersExceededWarning).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../interfaces/connection.js'
import type { PeerId } from '../interfaces/keys.js'
import type { PeerStore } from '../interfaces/peer-store.js'
import type { Transport } from '../interfaces/transport.js'
import type { Upgraded, Upgrader } from '../upgrader/upgrader.js'
import type { ConnectionManager } from '../connection-manager/connection-manager.js'
import { AbortError, codes, DialError, Lp2pError } from '../errors.js'
import { deadline, signalError, type Deadline } from '../util/deadline.js'
import { rankAddresses } from './rank.js'
import { peerIdOf, withoutPeerId } from './target.js'

export interface DialerInit {
  transports: readonly Transport[]
  upgrader: Upgrader
  localPeer: PeerId
  peerStore: PeerStore
  connections: ConnectionManager
  /** Turns an upgraded channel into a registered, open connection. */
  createConnection: (upgraded: Upgraded, opened: number) => Connection
  /**
   * Most time one dial may take, in ms, from the first connect to the muxer over all
   * addresses tried. Default 30 s (go-libp2p's default dial timeout is 60 s for all
   * addresses; 30 s is plenty on any working path and bounds a dead one).
   */
  dialTimeout?: number
}

export const DEFAULT_DIAL_TIMEOUT = 30_000

export class Dialer {
  readonly #init: DialerInit
  readonly #pending = new Map<string, Promise<Connection>>()
  /** The deadline of each dial attempt in flight; `abortAll()` aborts them. */
  readonly #inFlight = new Set<Deadline>()

  constructor (init: DialerInit) {
    this.#init = init
  }

  /** Dials a peer (by its known addresses) or an address (which may name the peer). */
  async dial (target: { peer?: PeerId, addr?: Multiaddr }, options: { signal?: AbortSignal } = {}): Promise<Connection> {
    const peer = target.peer ?? (target.addr !== undefined ? peerIdOf(target.addr) : undefined)
    if (peer !== undefined) {
      if (peer.equals(this.#init.localPeer)) {
        throw new Lp2pError(codes.ERR_DIALED_SELF, 'cannot dial ourselves')
      }
      const open = this.#init.connections.find(peer)
      if (open !== undefined) return open
    }
    const key = peer?.toString() ?? (target.addr as Multiaddr).toString()
    let attempt = this.#pending.get(key)
    if (attempt === undefined) {
      attempt = this.#attempt(peer, target.addr).finally(() => { this.#pending.delete(key) })
      this.#pending.set(key, attempt)
    }
    return await waitFor(attempt, options.signal)
  }

  async #attempt (peer: PeerId | undefined, addr: Multiaddr | undefined): Promise<Connection> {
    let addrs: Multiaddr[]
    if (addr !== undefined) {
      addrs = [withoutPeerId(addr)]
    } else {
      const info = peer === undefined ? undefined : this.#init.peerStore.get(peer)
      addrs = info?.addresses.map((a) => a.multiaddr) ?? []
    }
    addrs = rankAddresses(addrs).filter((a) => this.#transportFor(a) !== undefined)
    if (addrs.length === 0) {
      throw new Lp2pError(codes.ERR_NO_ADDRESSES, addr !== undefined
        ? `no transport can dial ${addr.toString()}`
        : `no dialable address known for ${peer?.toString() ?? 'the peer'}`)
    }
    const dl = deadline(this.#init.dialTimeout ?? DEFAULT_DIAL_TIMEOUT, undefined, 'dial')
    const signal = dl.signal
    this.#inFlight.add(dl)
    const errors: Error[] = []
    try {
      for (const a of addrs) {
        if (signal.aborted) {
          errors.push(signalError(signal))
          break
        }
        try {
          return await this.#dialAddr(a, peer, signal)
        } catch (err) {
          errors.push(err instanceof Error ? err : new Error(String(err)))
        }
      }
    } finally {
      dl.clear()
      this.#inFlight.delete(dl)
    }
    if (errors.length === 1) throw errors[0]
    throw new DialError(`all ${errors.length} addresses of ${peer?.toString() ?? 'the peer'} failed`, errors)
  }

  async #dialAddr (addr: Multiaddr, peer: PeerId | undefined, signal: AbortSignal): Promise<Connection> {
    const transport = this.#transportFor(addr) as Transport
    const opened = Date.now()
    const raw = await transport.dial(addr, { signal })
    const upgraded = await this.#init.upgrader.upgradeOutbound(raw, {
      signal,
      ...(peer !== undefined ? { remotePeer: peer } : {})
    })
    return this.#init.createConnection(upgraded, opened)
  }

  /** Aborts every dial in flight (node stop); later dials work again. */
  abortAll (): void {
    const cause = new Lp2pError(codes.ERR_NOT_STARTED, 'the node is stopping')
    const dials = [...this.#inFlight]
    this.#inFlight.clear()
    for (const d of dials) d.abort(new AbortError('dial aborted', { cause }))
  }

  /** Dials in flight. */
  get pending (): number {
    return this.#pending.size
  }

  #transportFor (addr: Multiaddr): Transport | undefined {
    return this.#init.transports.find((t) => t.canDial(addr))
  }
}

/** Waits for a shared attempt, or for this caller's signal, whichever is first. */
async function waitFor<T> (p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return await p
  if (signal.aborted) throw signalError(signal)
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signalError(signal)) }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}
