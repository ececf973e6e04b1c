/**
 * Tracks open connections by peer and enforces the connection limits
 * (`connections/README.md`, "Connection Limits"). It decides; the node acts.
 *
 * Limits:
 * - `maxConnections`: open connections in total; an inbound connection past it is
 *   refused before its upgrade (cheapest point: no handshake work for it).
 * - `maxPendingInbound`: inbound connections still upgrading; bounds the handshake
 *   work (CPU, memory) strangers can cause at once.
 */
import type { Connection } from '../interfaces/connection.js'
import type { PeerId } from '../interfaces/keys.js'

export interface ConnectionManagerOptions {
  /** Default 300: comfortably above what one application node keeps, far below fd limits. */
  maxConnections?: number
  /**
   * Default 64: inbound upgrades in progress at once. Each costs a Noise handshake
   * (~0.3 ms of CPU here) and a few KiB; 64 keeps a SYN-and-stall flood harmless.
   */
  maxPendingInbound?: number
}

export interface ConnectionEvents {
  onPeerConnect: (peer: PeerId) => void
  onPeerDisconnect: (peer: PeerId) => void
}

export class ConnectionManager {
  readonly maxConnections: number
  readonly maxPendingInbound: number
  readonly #byPeer = new Map<string, Connection[]>()
  readonly #events: ConnectionEvents
  #count = 0
  #pendingInbound = 0

  constructor (options: ConnectionManagerOptions, events: ConnectionEvents) {
    this.maxConnections = options.maxConnections ?? 300
    this.maxPendingInbound = options.maxPendingInbound ?? 64
    this.#events = events
  }

  get size (): number {
    return this.#count
  }

  /** May we start upgrading one more inbound connection? Reserves a slot if so. */
  acceptInbound (): boolean {
    if (this.#count + this.#pendingInbound >= this.maxConnections) return false
    if (this.#pendingInbound >= this.maxPendingInbound) return false
    this.#pendingInbound++
    return true
  }

  /** An inbound upgrade finished (either way): frees its pending slot. */
  inboundDone (): void {
    this.#pendingInbound--
  }

  add (conn: Connection): void {
    const key = conn.remotePeer.toString()
    const list = this.#byPeer.get(key)
    this.#count++
    if (list === undefined) {
      this.#byPeer.set(key, [conn])
      this.#events.onPeerConnect(conn.remotePeer)
    } else {
      list.push(conn)
    }
  }

  remove (conn: Connection): void {
    const key = conn.remotePeer.toString()
    const list = this.#byPeer.get(key)
    if (list === undefined) return
    const i = list.indexOf(conn)
    if (i === -1) return
    list.splice(i, 1)
    this.#count--
    if (list.length === 0) {
      this.#byPeer.delete(key)
      this.#events.onPeerDisconnect(conn.remotePeer)
    }
  }

  /** Open connections, all or to one peer. */
  get (peer?: PeerId): Connection[] {
    if (peer !== undefined) return [...(this.#byPeer.get(peer.toString()) ?? [])]
    const out: Connection[] = []
    for (const list of this.#byPeer.values()) out.push(...list)
    return out
  }

  /** An open connection to the peer, preferring the oldest (identify has run on it). */
  find (peer: PeerId): Connection | undefined {
    return this.#byPeer.get(peer.toString())?.find((c) => c.status === 'open')
  }
}
