/**
 * The in-memory {@link PeerStore} (`connections/README.md`, "Peer Metadata Storage"),
 * and the base of the persistent one (`persistent-peer-store.ts`), which adds a sink
 * that writes changed peers behind.
 *
 * - Reads are synchronous snapshots (`peer-entry.ts`); expired addresses and tags are
 *   collected lazily on access, and every peer left with nothing by {@link gc}.
 * - Writes apply at once. A write that changes nothing changes nothing: no event, no
 *   disk write.
 * - Bounded: see {@link PeerStoreOptions}. Peers are kept in a Map ordered from least
 *   to most recently seen (a connection opened or closed; a peer never seen counts
 *   from when it was added), which gives the eviction order; eviction skips connected
 *   peers and prefers untagged ones, O(connected + tagged) per eviction.
 * - `peer:update` is emitted after the change is committed, to each listener in turn,
 *   synchronously. A listener that throws cannot undo or break the write, nor keep
 *   the other listeners from the event: its exception is caught and reported as a
 *   process warning (`reportListenerError`), never thrown into the writer.
 */
import { EventEmitter } from 'node:events'
import { isMultiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '../interfaces/keys.js'
import type {
  AddAddressOptions, AddressClass, ConsumedPeerRecord, DialOutcome, Peer, PeerPatch, PeerStore, PeerStoreEvents, PeerUpdateEvent
} from '../interfaces/peer-store.js'
import { codes, invalidArgType, invalidArgValue, Lp2pError } from '../errors.js'
import { isPeerId, peerIdFromPublicKey } from '../identity/index.js'
import { openSignedPeerRecord } from '../record/peer-record.js'
import { bytesEqual, requireBytes } from '../identity/util.js'
import { copyBytes } from '../wire/bytes.js'
import type { AddrFact } from './address-book.js'
import { duration, resolvePeerStoreOptions, type PeerStoreLimits, type PeerStoreOptions } from './options.js'
import { PeerEntry, peerKey } from './peer-entry.js'

/** What a persistent backend hears of every committed change (internal). */
export interface ChangeSink {
  changed: (entry: PeerEntry) => void
  removed: (entry: PeerEntry) => void
}

const CLASSES: ReadonlySet<string> = new Set(['connected', 'recently-connected', 'temporary', 'default', 'permanent'])

export class MemoryPeerStore extends EventEmitter<PeerStoreEvents> implements PeerStore {
  readonly #limits: PeerStoreLimits
  /** Least recently seen first (see the module comment). */
  readonly #peers = new Map<string, PeerEntry>()
  readonly #sink: ChangeSink | undefined

  /**
   * @param internal for the persistent backend only: its change sink and the entries
   *   it loaded (restored without events or writes, then bounded).
   */
  constructor (options: PeerStoreOptions = {}, internal: { sink?: ChangeSink, entries?: Iterable<PeerEntry> } = {}) {
    super()
    this.#limits = resolvePeerStoreOptions(options)
    this.#sink = internal.sink
    if (internal.entries !== undefined) this.#restore(internal.entries)
  }

  get size (): number {
    return this.#peers.size
  }

  get (peer: PeerId): Peer | undefined {
    return this.#peers.get(keyOf(peer))?.snapshot(this.#limits.now())
  }

  has (peer: PeerId): boolean {
    return this.#peers.has(keyOf(peer))
  }

  all (): Peer[] {
    const now = this.#limits.now()
    return [...this.#peers.values()].map((e) => e.snapshot(now))
  }

  addAddresses (peer: PeerId, addrs: readonly Multiaddr[], options: AddAddressOptions = {}): void {
    const list = cleanAddrs(peer, addrs)
    this.#write(peer, (e, now) => e.addAddrs(list, this.#fact(options, now), this.#limits.maxAddressesPerPeer))
  }

  setAddresses (peer: PeerId, addrs: readonly Multiaddr[], options: AddAddressOptions = {}): void {
    const list = cleanAddrs(peer, addrs)
    const fact = this.#fact(options, 0)
    if (fact.class === 'connected') throw invalidArgValue('options.class', 'cannot be "connected" for setAddresses (use connected())')
    this.#write(peer, (e, now) => e.setAddrs(list, fact.class as Exclude<AddressClass, 'connected'>, this.#fact(options, now), this.#limits.maxAddressesPerPeer))
  }

  consumePeerRecord (envelope: Uint8Array, expected?: PeerId): ConsumedPeerRecord {
    requireBytes(envelope, 'envelope')
    if (expected !== undefined) {
      // The record we hold, sent again (every identify on every new connection to the
      // peer): verified when we took it, so no second signature check per connection.
      const held = this.#peers.get(keyOf(expected))
      if (held?.envelope !== undefined && held.seq !== undefined && bytesEqual(held.envelope, envelope)) {
        const addresses = held.addrs.filter((a) => a.certified).map((a) => a.multiaddr)
        return { peer: held.id, accepted: false, seq: held.seq, addresses }
      }
    }
    const signed = openSignedPeerRecord(envelope, {
      maxAddresses: this.#limits.maxAddressesPerPeer,
      ...(expected !== undefined ? { expectedPeer: expected } : {})
    })
    const { record } = signed
    record.addresses = cleanAddrs(record.peerId, record.addresses)
    const accepted = this.#write(record.peerId, (e, now) => {
      const fact = { class: 'default' as const, expires: now + this.#limits.defaultTtl, certified: true }
      if (!e.acceptRecord(record, signed.bytes, fact, this.#limits.maxAddressesPerPeer)) return false
      e.publicKey ??= signed.envelope.publicKey
      return true
    })
    return { peer: record.peerId, accepted, seq: record.seq, addresses: record.addresses }
  }

  patch (peer: PeerId, patch: PeerPatch): void {
    if (patch === null || typeof patch !== 'object') throw invalidArgType('patch', 'an object', patch)
    const { protocols, publicKey, agentVersion, protocolVersion } = patch
    if (protocols !== undefined && (!Array.isArray(protocols) || protocols.some((p) => typeof p !== 'string'))) {
      throw invalidArgType('patch.protocols', 'an array of strings', protocols)
    }
    if (agentVersion !== undefined && typeof agentVersion !== 'string') throw invalidArgType('patch.agentVersion', 'a string', agentVersion)
    if (protocolVersion !== undefined && typeof protocolVersion !== 'string') throw invalidArgType('patch.protocolVersion', 'a string', protocolVersion)
    // Checked before anything changes (a key is known once: later patches compare).
    const held = this.#peers.get(keyOf(peer))?.publicKey
    const newKey = publicKey !== undefined && (held === undefined || !held.equals(publicKey))
    if (newKey && !peerIdFromPublicKey(publicKey).equals(peer)) {
      throw new Lp2pError(codes.ERR_INVALID_KEY, `the public key given for ${peer.toString()} is another peer's`)
    }
    this.#write(peer, (e) => {
      let changed = protocols !== undefined && e.setProtocols(protocols, this.#limits.maxProtocolsPerPeer)
      if (newKey && (e.publicKey === undefined || !e.publicKey.equals(publicKey))) {
        e.publicKey = publicKey
        changed = true
      }
      if (agentVersion !== undefined && agentVersion !== e.agentVersion) { e.agentVersion = agentVersion; changed = true }
      if (protocolVersion !== undefined && protocolVersion !== e.protocolVersion) { e.protocolVersion = protocolVersion; changed = true }
      return changed
    })
  }

  setMetadata (peer: PeerId, key: string, value: Uint8Array | undefined): void {
    this.#name(key, 'key')
    if (value !== undefined) {
      requireBytes(value, 'value')
      if (value.byteLength > this.#limits.maxMetadataValueBytes) {
        throw invalidArgValue('value', `must be at most ${this.#limits.maxMetadataValueBytes} bytes (maxMetadataValueBytes), got ${value.byteLength}`)
      }
    }
    const copy = value === undefined ? undefined : copyBytes(value)
    this.#write(peer, (e) => {
      if (copy !== undefined && e.metadata?.has(key) !== true && (e.metadata?.size ?? 0) >= this.#limits.maxMetadataKeys) {
        throw new Lp2pError(codes.ERR_TOO_MANY_ENTRIES, `peer ${peer.toString()} already has ${this.#limits.maxMetadataKeys} metadata keys (maxMetadataKeys)`)
      }
      return e.setMetadata(key, copy)
    }, copy !== undefined)
  }

  tag (peer: PeerId, name: string, value: number | undefined, options: { ttl?: number } = {}): void {
    this.#name(name, 'name')
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) throw invalidArgType('value', 'a finite number', value)
    const ttl = duration(options.ttl, Infinity, 'options.ttl')
    this.#write(peer, (e, now) => {
      e.prune(now)
      if (value !== undefined && e.tags?.has(name) !== true && (e.tags?.size ?? 0) >= this.#limits.maxTagsPerPeer) {
        throw new Lp2pError(codes.ERR_TOO_MANY_ENTRIES, `peer ${peer.toString()} already has ${this.#limits.maxTagsPerPeer} tags (maxTagsPerPeer)`)
      }
      return e.setTag(name, value === undefined ? undefined : ttl === Infinity ? { value } : { value, expires: now + ttl })
    }, value !== undefined)
  }

  recordDial (peer: PeerId, addr: Multiaddr, outcome: DialOutcome): void {
    const [clean] = cleanAddrs(peer, [addr])
    if (outcome === null || typeof outcome !== 'object') throw invalidArgType('outcome', 'an object', outcome)
    if (typeof outcome.at !== 'number' || typeof outcome.ok !== 'boolean') throw invalidArgType('outcome', '{ at: number, ok: boolean }', outcome)
    if (clean === undefined) return
    const copy: DialOutcome = { at: outcome.at, ok: outcome.ok }
    if (typeof outcome.code === 'string') copy.code = outcome.code
    if (typeof outcome.durationMs === 'number') copy.durationMs = outcome.durationMs
    this.#write(peer, (e, now) => e.recordDial(clean, copy, this.#fact({ class: 'temporary' }, now), this.#limits.maxAddressesPerPeer))
  }

  /** `addr` may be left out (an inbound connection's remote port is not an address to dial). */
  connected (peer: PeerId, addr?: Multiaddr): void {
    const clean = addr === undefined ? undefined : cleanAddrs(peer, [addr])[0]
    this.#write(peer, (e, now) => {
      e.connect(clean, now, this.#limits.maxAddressesPerPeer)
      this.#seen(e)
      return true
    })
  }

  disconnected (peer: PeerId): void {
    this.#write(peer, (e, now) => {
      e.disconnect(now, now + this.#limits.recentlyConnectedTtl, this.#limits.maxAddressesPerPeer)
      this.#seen(e)
      return true
    }, false)
  }

  delete (peer: PeerId): void {
    const key = keyOf(peer)
    const entry = this.#peers.get(key)
    if (entry === undefined) return
    this.#peers.delete(key)
    this.#sink?.removed(entry)
  }

  /**
   * Collects every expired address and tag, and removes the peers left with no
   * address, tag or metadata and no connection (their protocols, key and versions
   * come back with the next identify). Returns how many peers were removed.
   */
  gc (): number {
    const now = this.#limits.now()
    let removed = 0
    for (const e of [...this.#peers.values()]) {
      if (!e.isEmpty(now)) continue
      this.#peers.delete(e.key)
      this.#sink?.removed(e)
      removed++
    }
    return removed
  }

  async flush (): Promise<void> {}

  async close (): Promise<void> {}

  /**
   * Applies `change` to the peer's entry (created when `create` and absent) and, if
   * it reports a change, commits it: timestamps, bounds, the sink, then the event.
   * Returns whether the change was committed.
   */
  #write (peer: PeerId, change: (e: PeerEntry, now: number) => boolean, create = true): boolean {
    const key = keyOf(peer)
    const now = this.#limits.now()
    let entry = this.#peers.get(key)
    const fresh = entry === undefined
    if (entry === undefined) {
      if (!create) return false
      entry = new PeerEntry(peer, key)
    }
    const previous = !fresh && this.listenerCount('peer:update') > 0 ? entry.snapshot(now) : undefined
    if (!change(entry, now)) return false
    if (fresh && !this.#admit(entry, now)) return false
    entry.touch(now)
    this.#sink?.changed(entry)
    this.#emit(entry, previous, now)
    return true
  }

  /** Makes room for a new peer; false when none can be evicted and the peer is not connected. */
  #admit (entry: PeerEntry, now: number): boolean {
    if (this.#peers.size >= this.#limits.maxPeers) {
      const victim = this.#victim(now)
      if (victim !== undefined) {
        this.#peers.delete(victim.key)
        this.#sink?.removed(victim)
      } else if (!entry.connected) {
        return false
      }
    }
    this.#peers.set(entry.key, entry)
    return true
  }

  /** The least recently seen disconnected peer, untagged ones first. */
  #victim (now: number): PeerEntry | undefined {
    let tagged: PeerEntry | undefined
    for (const e of this.#peers.values()) {
      if (e.connected) continue
      e.prune(now)
      if ((e.tags?.size ?? 0) === 0) return e
      tagged ??= e
    }
    return tagged
  }

  /** Moves a peer to the most recently seen end. */
  #seen (e: PeerEntry): void {
    if (this.#peers.get(e.key) !== e) return
    this.#peers.delete(e.key)
    this.#peers.set(e.key, e)
  }

  #emit (entry: PeerEntry, previous: Peer | undefined, now: number): void {
    if (this.listenerCount('peer:update') === 0) return
    const event: PeerUpdateEvent = previous !== undefined ? { peer: entry.snapshot(now), previous } : { peer: entry.snapshot(now) }
    // rawListeners: `once` listeners come wrapped and remove themselves when called.
    for (const listener of this.rawListeners('peer:update') as Array<(e: PeerUpdateEvent) => void>) {
      try {
        listener.call(this, event)
      } catch (err) {
        reportListenerError(err)
      }
    }
  }

  #fact (options: AddAddressOptions, now: number): AddrFact {
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options)
    const cls = options.class ?? 'default'
    if (!CLASSES.has(cls)) throw invalidArgValue('options.class', `must be one of ${[...CLASSES].join(', ')}, got ${String(cls)}`)
    const l = this.#limits
    const lifetime = cls === 'temporary' ? l.temporaryTtl : cls === 'recently-connected' ? l.recentlyConnectedTtl : cls === 'default' ? l.defaultTtl : Infinity
    // A permanent address never expires; the ttl option only shortens the other classes.
    const ttl = cls === 'permanent' ? Infinity : duration(options.ttl, lifetime, 'options.ttl')
    return { class: cls, expires: now + ttl, certified: false }
  }

  #name (name: string, what: string): void {
    if (typeof name !== 'string') throw invalidArgType(what, 'a string', name)
    if (name.length === 0 || name.length > this.#limits.maxKeyLength) {
      throw invalidArgValue(what, `must have 1 to ${this.#limits.maxKeyLength} characters (maxKeyLength), got ${name.length}`)
    }
  }

  #restore (entries: Iterable<PeerEntry>): void {
    const sorted = [...entries].sort((a, b) => (a.lastSeen ?? 0) - (b.lastSeen ?? 0))
    for (const e of sorted) this.#peers.set(e.key, e)
    const now = this.#limits.now()
    while (this.#peers.size > this.#limits.maxPeers) {
      const victim = this.#victim(now)
      if (victim === undefined) break
      this.#peers.delete(victim.key)
      this.#sink?.removed(victim)
    }
  }
}

/**
 * Where a listener's exception goes: never back into the write that emitted the
 * event. A process warning, so it is seen without crashing the node.
 * (Lead: the `lp2p:peer-store` debug log goes here too.)
 */
function reportListenerError (err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err))
  process.emitWarning(`a peer:update listener threw: ${error.message}`, { code: 'LP2P_PEER_STORE_LISTENER', detail: error.stack ?? '' })
}

function keyOf (peer: PeerId): string {
  if (!isPeerId(peer)) throw invalidArgType('peer', 'a PeerId', peer)
  return peerKey(peer)
}

/**
 * The addresses to store: each without a trailing `/p2p/<peer>`; an address naming
 * another peer, or nothing but the peer id, is skipped (as go-libp2p's `AddAddrs`).
 */
function cleanAddrs (peer: PeerId, addrs: readonly Multiaddr[]): Multiaddr[] {
  if (!Array.isArray(addrs)) throw invalidArgType('addrs', 'an array of multiaddrs', addrs)
  const out: Multiaddr[] = []
  for (const a of addrs) {
    if (!isMultiaddr(a)) throw invalidArgType('addrs', 'an array of multiaddrs', a)
    // Fast path: the text form is cached by the multiaddr; most addresses name no peer.
    if (!a.toString().includes('/p2p/')) {
      if (a.bytes.length > 0) out.push(a)
      continue
    }
    const parts = a.getComponents()
    const last = parts[parts.length - 1]
    if (last?.name !== 'p2p') {
      if (parts.length > 0) out.push(a)
      continue
    }
    if (last.value === undefined || !peer.equals(last.value) || parts.length === 1) continue
    out.push(a.decapsulateCode(last.code))
  }
  return out
}
