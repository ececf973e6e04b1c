/**
 * What the store holds for one peer, and the changes that can be made to it (pure:
 * the time is an argument). The store (`memory-peer-store.ts`) checks arguments,
 * applies the bounds across peers and emits events; the codec (`peer-codec.ts`)
 * turns an entry into the one protobuf per peer that the persistent backend writes.
 *
 * Reads hand out a frozen snapshot, built on first read after a change and reused
 * until the next change or the next expiry of an address or tag, so a read on the
 * dial path costs a map lookup.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PublicKey } from '../interfaces/keys.js'
import type { DialOutcome, Peer, Tag } from '../interfaces/peer-store.js'
import type { PeerRecord } from '../record/peer-record.js'
import { peerIdFromBytes } from '../identity/index.js'
import {
  addAddr, addrKey, addrRecords, dropAddrs, findAddr, nextAddrExpiry, pruneAddrs, releaseConnected,
  type AddrEntry, type AddrFact, type StoredClass
} from './address-book.js'

const EMPTY_PROTOCOLS: readonly string[] = Object.freeze([])
const EMPTY_METADATA: ReadonlyMap<string, Uint8Array> = new Map()
const EMPTY_TAGS: ReadonlyMap<string, Tag> = new Map()

export class PeerEntry {
  /** The peer id's multihash bytes. */
  readonly idBytes: Uint8Array
  /** {@link peerKey} of the id: the key of the store's map. */
  readonly key: string
  addrs: AddrEntry[] = []
  /** Frozen; replaced, never mutated, so snapshots can share it. */
  protocols: readonly string[] = EMPTY_PROTOCOLS
  publicKey?: PublicKey
  agentVersion?: string
  protocolVersion?: string
  metadata?: Map<string, Uint8Array>
  tags?: Map<string, Tag>
  /** The signed peer record envelope with the highest seq seen, as received. */
  envelope?: Uint8Array
  seq?: bigint
  lastSeen?: number
  updated = 0
  /** Between `connected()` and `disconnected()`: never evicted. */
  connected = false
  #snapshot: Peer | undefined
  #validUntil = 0
  #id: PeerId | undefined

  /** From a PeerId, or from its bytes (a loaded store makes the PeerId on first read). */
  constructor (id: PeerId | Uint8Array, key = peerKey(id)) {
    this.#id = id instanceof Uint8Array ? undefined : id
    this.idBytes = id instanceof Uint8Array ? id : id.bytes
    this.key = key
  }

  get id (): PeerId {
    this.#id ??= peerIdFromBytes(this.idBytes)
    return this.#id
  }

  /** Marks the entry changed at `now`: the next read builds a new snapshot. */
  touch (now: number): void {
    this.updated = now
    this.#snapshot = undefined
  }

  /** The public view at `now`, expired addresses and tags collected first. */
  snapshot (now: number): Peer {
    if (this.#snapshot !== undefined && now < this.#validUntil) return this.#snapshot
    this.prune(now)
    const peer: Peer = {
      id: this.id,
      addresses: Object.freeze(addrRecords(this.addrs)) as Peer['addresses'],
      protocols: this.protocols as string[],
      metadata: this.metadata !== undefined && this.metadata.size > 0 ? new Map(this.metadata) : EMPTY_METADATA,
      tags: this.tags !== undefined && this.tags.size > 0 ? new Map(this.tags) : EMPTY_TAGS,
      updated: this.updated
    }
    // An Ed25519 or secp256k1 peer id inlines its key: no need to hold it twice.
    const publicKey = this.publicKey ?? this.id.publicKey
    if (publicKey !== undefined) peer.publicKey = publicKey
    if (this.agentVersion !== undefined) peer.agentVersion = this.agentVersion
    if (this.protocolVersion !== undefined) peer.protocolVersion = this.protocolVersion
    if (this.envelope !== undefined) peer.peerRecordEnvelope = this.envelope
    if (this.seq !== undefined) peer.peerRecordSeq = this.seq
    if (this.lastSeen !== undefined) peer.lastSeen = this.lastSeen
    this.#snapshot = Object.freeze(peer)
    this.#validUntil = Math.min(nextAddrExpiry(this.addrs), this.#nextTagExpiry())
    return this.#snapshot
  }

  /** Collects expired addresses and tags (not a change: no event, nothing to write). */
  prune (now: number): void {
    let changed = pruneAddrs(this.addrs, now)
    if (this.tags !== undefined) {
      for (const [name, tag] of this.tags) {
        if (tag.expires !== undefined && tag.expires <= now) { this.tags.delete(name); changed = true }
      }
    }
    if (changed) this.#snapshot = undefined
  }

  /** Nothing worth keeping once expired entries are gone: no address, tag, metadata or connection. */
  isEmpty (now: number): boolean {
    this.prune(now)
    return !this.connected && this.addrs.length === 0 && (this.tags?.size ?? 0) === 0 && (this.metadata?.size ?? 0) === 0
  }

  addAddrs (addrs: readonly Multiaddr[], fact: AddrFact, max: number): boolean {
    let changed = false
    for (const a of addrs) if (addAddr(this.addrs, a, fact, max)) changed = true
    return changed
  }

  /**
   * Replaces the uncertified addresses of `cls` with `addrs`. A connected address
   * is kept (it only loses that class); certified ones are the records' business.
   */
  setAddrs (addrs: readonly Multiaddr[], cls: StoredClass, fact: AddrFact, max: number): boolean {
    const keep = new Set(addrs.map(addrKey))
    const dropped = dropAddrs(this.addrs, (e) => e.class === cls && !e.certified && !keep.has(e.key), 'class')
    return this.addAddrs(addrs, fact, max) || dropped
  }

  /**
   * Takes a verified record when its seq is higher than the one held (RFC 0003: "reject
   * incoming RoutingState messages unless they contain a greater seq"). Addresses of
   * the previous record that the new one lacks are dropped, unless a connection or a
   * permanent entry holds them (then they only lose certification), as go-libp2p does.
   */
  acceptRecord (record: PeerRecord, envelope: Uint8Array, fact: AddrFact, max: number): boolean {
    if (this.seq !== undefined && record.seq <= this.seq) return false
    const fresh = new Set(record.addresses.map(addrKey))
    dropAddrs(this.addrs, (e) => e.certified && !fresh.has(e.key), 'certified')
    this.seq = record.seq
    this.envelope = envelope
    this.addAddrs(record.addresses, fact, max)
    return true
  }

  setProtocols (protocols: readonly string[], max: number): boolean {
    const list = [...new Set(protocols)].slice(0, max)
    if (sameStrings(list, this.protocols)) return false
    this.protocols = Object.freeze(list)
    return true
  }

  setMetadata (key: string, value: Uint8Array | undefined): boolean {
    if (value === undefined) return this.metadata?.delete(key) === true
    this.metadata ??= new Map()
    this.metadata.set(key, value)
    return true
  }

  setTag (name: string, tag: Tag | undefined): boolean {
    if (tag === undefined) return this.tags?.delete(name) === true
    this.tags ??= new Map()
    this.tags.set(name, tag)
    return true
  }

  /** Records a dial outcome; an address not held is added with `fact` (temporary). */
  recordDial (addr: Multiaddr, outcome: DialOutcome, fact: AddrFact, max: number): boolean {
    const key = addrKey(addr)
    let e = findAddr(this.addrs, key)
    if (e === undefined) {
      if (!addAddr(this.addrs, addr, fact, max)) return false
      e = findAddr(this.addrs, key) as AddrEntry
    }
    e.lastDial = outcome
    return true
  }

  connect (addr: Multiaddr | undefined, now: number, max: number): void {
    this.connected = true
    this.lastSeen = now
    if (addr !== undefined) addAddr(this.addrs, addr, { class: 'connected', expires: 0, certified: false }, max)
  }

  disconnect (now: number, recentlyConnectedExpires: number, max: number): void {
    this.connected = false
    this.lastSeen = now
    releaseConnected(this.addrs, recentlyConnectedExpires, max)
  }

  #nextTagExpiry (): number {
    let next = Infinity
    if (this.tags !== undefined) for (const t of this.tags.values()) if (t.expires !== undefined && t.expires < next) next = t.expires
    return next
  }
}

function sameStrings (a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * The key of each PeerId object seen: the dial path asks for the same peer (the
 * connection's `remotePeer`) again and again; a weak map forgets ids no one holds.
 */
const keys = new WeakMap<PeerId, string>()

/** The store's key of a peer: its id bytes, one latin1 char per byte (no base58 to compute). */
export function peerKey (id: PeerId | Uint8Array): string {
  if (id instanceof Uint8Array) return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1')
  let key = keys.get(id)
  if (key === undefined) {
    key = Buffer.from(id.bytes.buffer, id.bytes.byteOffset, id.bytes.byteLength).toString('latin1')
    keys.set(id, key)
  }
  return key
}
