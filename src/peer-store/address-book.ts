/**
 * One peer's addresses (pure): classes, lifetimes, merging, the per-peer bound and
 * lazy expiry (`connections/README.md`, "Peer Metadata Storage": "the last known
 * valid addresses"). Time is passed in; nothing here owns a clock or a timer.
 *
 * An address is kept once per peer (keyed by its text form, without `/p2p/<id>`)
 * with the class it was learned in, an expiry, a certified flag (it came in the
 * peer's signed record, RFC 0003) and a `connected` flag (an open connection uses it).
 * A connected address shows as class `connected` and never expires; when the peer's
 * last connection closes it falls back to the stronger of its stored class and
 * `recently-connected`. Adding a known address keeps the stronger class and the later
 * expiry (go-libp2p's `AddAddrs` "never reduces the TTL" likewise).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AddressClass, AddressRecord, DialOutcome } from '../interfaces/peer-store.js'
import { multiaddrCache } from '../util/multiaddr-cache.js'

/** The class an address keeps when no connection holds it. */
export type StoredClass = Exclude<AddressClass, 'connected'>

/**
 * One held address. Keyed by its bytes (the canonical form); the Multiaddr object is
 * made on first use when the address came as bytes (a store loaded from disk parses
 * no address until a peer is read: parsing is most of the cost of a load).
 */
export class AddrEntry {
  /** The address bytes as a latin1 string (one char per byte): the lookup key. */
  readonly key: string
  readonly bytes: Uint8Array
  class: StoredClass
  /** When the stored class lapses, ms since the epoch; 0 when only a connection holds it. */
  expires: number
  certified: boolean
  connected: boolean
  lastDial?: DialOutcome
  #multiaddr: Multiaddr | undefined

  constructor (source: Multiaddr | Uint8Array, key: string, fact: AddrFact) {
    const connected = fact.class === 'connected'
    this.#multiaddr = source instanceof Uint8Array ? undefined : source
    this.bytes = source instanceof Uint8Array ? source : source.bytes
    this.key = key
    this.class = connected ? 'temporary' : fact.class as StoredClass
    this.expires = connected ? 0 : fact.expires
    this.certified = fact.certified
    this.connected = connected
  }

  get multiaddr (): Multiaddr {
    this.#multiaddr ??= multiaddrCache.fromBytes(this.bytes)
    return this.#multiaddr
  }
}

/** The lookup key of an address: its bytes, one latin1 char per byte (cheap to make and to hash). */
export function addrKey (source: Multiaddr | Uint8Array): string {
  const b = source instanceof Uint8Array ? source : source.bytes
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
}

/** Strength of the stored classes: a stronger class is never replaced by a weaker one. */
export const CLASS_RANK: Readonly<Record<StoredClass, number>> = {
  temporary: 0,
  default: 1,
  'recently-connected': 2,
  permanent: 3
}

/** What is learned about one address. */
export interface AddrFact {
  class: AddressClass
  /** Expiry for a stored class (ignored for `connected`). */
  expires: number
  certified: boolean
}

export function isLive (e: AddrEntry, now: number): boolean {
  return e.connected || e.expires > now
}

/** Applies `fact` to a held address; true when something changed. */
export function mergeAddr (e: AddrEntry, fact: AddrFact): boolean {
  let changed = false
  if (fact.class === 'connected') {
    if (!e.connected) { e.connected = true; changed = true }
  } else {
    if (CLASS_RANK[fact.class] > CLASS_RANK[e.class]) { e.class = fact.class; changed = true }
    if (fact.expires > e.expires) { e.expires = fact.expires; changed = true }
  }
  if (fact.certified && !e.certified) { e.certified = true; changed = true }
  return changed
}

/**
 * True when `a` should go before `b` when the bound is reached: uncertified before
 * certified, weaker class first, then sooner expiry. Connected addresses are never
 * candidates (callers skip them).
 */
export function evictsBefore (a: AddrEntry, b: AddrEntry): boolean {
  if (a.certified !== b.certified) return !a.certified
  const ra = CLASS_RANK[a.class]; const rb = CLASS_RANK[b.class]
  if (ra !== rb) return ra < rb
  return a.expires < b.expires
}

export function findAddr (list: readonly AddrEntry[], key: string): AddrEntry | undefined {
  for (const e of list) if (e.key === key) return e
  return undefined
}

/**
 * Adds or merges one address into `list`, holding at most `max` addresses that no
 * connection uses (go-libp2p does not count connected ones either). Returns true
 * when the list changed.
 */
export function addAddr (list: AddrEntry[], source: Multiaddr | Uint8Array, fact: AddrFact, max: number): boolean {
  const key = addrKey(source)
  const held = findAddr(list, key)
  if (held !== undefined) return mergeAddr(held, fact)
  const entry = new AddrEntry(source, key, fact)
  if (!entry.connected && unconnectedCount(list) >= max) {
    let victim: AddrEntry | undefined
    for (const e of list) if (!e.connected && (victim === undefined || evictsBefore(e, victim))) victim = e
    if (victim === undefined || !evictsBefore(victim, entry)) return false
    list.splice(list.indexOf(victim), 1)
  }
  list.push(entry)
  return true
}

function unconnectedCount (list: readonly AddrEntry[]): number {
  let n = 0
  for (const e of list) if (!e.connected) n++
  return n
}

/** Drops expired addresses; true when any was dropped. */
export function pruneAddrs (list: AddrEntry[], now: number): boolean {
  let w = 0
  for (let r = 0; r < list.length; r++) {
    const e = list[r] as AddrEntry
    if (isLive(e, now)) list[w++] = e
  }
  const changed = w !== list.length
  list.length = w
  return changed
}

/** The soonest expiry among addresses no connection holds (Infinity when none). */
export function nextAddrExpiry (list: readonly AddrEntry[]): number {
  let next = Infinity
  for (const e of list) if (!e.connected && e.expires < next) next = e.expires
  return next
}

/**
 * The peer's last connection closed: connected addresses become recently connected,
 * and now count towards the bound: the weakest addresses go until it holds again.
 */
export function releaseConnected (list: AddrEntry[], expires: number, max: number): boolean {
  let changed = false
  for (const e of list) {
    if (!e.connected) continue
    e.connected = false
    mergeAddr(e, { class: 'recently-connected', expires, certified: false })
    changed = true
  }
  while (unconnectedCount(list) > max) {
    let victim: AddrEntry | undefined
    for (const e of list) if (!e.connected && (victim === undefined || evictsBefore(e, victim))) victim = e
    list.splice(list.indexOf(victim as AddrEntry), 1)
  }
  return changed
}

/**
 * Drops the addresses that `keep` rejects, except those an open connection or a
 * permanent entry holds: those only lose what `strip` names (their class falls back
 * to nothing, or their certification).
 */
export function dropAddrs (list: AddrEntry[], drop: (e: AddrEntry) => boolean, strip: 'class' | 'certified'): boolean {
  let changed = false
  for (let i = list.length - 1; i >= 0; i--) {
    const e = list[i] as AddrEntry
    if (!drop(e)) continue
    changed = true
    if (strip === 'certified' && (e.connected || e.class === 'permanent')) {
      e.certified = false
    } else if (strip === 'class' && e.connected) {
      e.class = 'temporary'
      e.expires = 0
    } else {
      list.splice(i, 1)
    }
  }
  return changed
}

/** The public view of one address. */
export function addrRecord (e: AddrEntry): AddressRecord {
  const r: AddressRecord = {
    multiaddr: e.multiaddr,
    class: e.connected ? 'connected' : e.class,
    expires: e.connected || e.class === 'permanent' ? Infinity : e.expires,
    certified: e.certified
  }
  if (e.lastDial !== undefined) r.lastDial = e.lastDial
  return r
}

/** Certified addresses first (RFC 0003: "prioritize self-certified addresses"), then in the order learned. */
export function addrRecords (list: readonly AddrEntry[]): AddressRecord[] {
  const out: AddressRecord[] = []
  for (const e of list) if (e.certified) out.push(addrRecord(e))
  for (const e of list) if (!e.certified) out.push(addrRecord(e))
  return out
}
