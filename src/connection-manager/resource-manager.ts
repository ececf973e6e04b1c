/**
 * Accounting for the limits model (`limits.ts`), pure (time passed in): every
 * connection and stream is reserved in its scopes before it is used, and released
 * when it ends. A reservation that would pass a limit is refused with a typed
 * {@link Denial} naming the scope and the limit; nothing is counted then.
 *
 * Scopes of a connection: the node, its source address (inbound), its peer (once the
 * security handshake names it), itself. Of a stream: its connection's scopes, and its
 * protocol's once negotiated. Memory (muxer receive windows and buffers) is reserved
 * against the connection, the peer and the node.
 */
import { IpSet, sourceKey } from './ip.js'
import type { Limits, ScopeLimits } from './limits.js'
import { TokenBucket } from './token-bucket.js'

export type ScopeName = 'node' | 'peer' | 'protocol' | 'connection' | 'address'
export type LimitName = keyof ScopeLimits | 'rate' | 'deny'

/** Why a reservation was refused. */
export interface Denial {
  scope: ScopeName
  limit: LimitName
  /** The limit's value (0 for a deny list). */
  max: number
  /** The peer, protocol or address the scope is of. */
  key?: string
}

type Counter = Required<{ [K in keyof ScopeLimits]: number }>

const zero = (): Counter => ({
  connections: 0, inboundConnections: 0, outboundConnections: 0, pendingInbound: 0,
  streams: 0, inboundStreams: 0, outboundStreams: 0, memory: 0
})

interface Scope {
  name: ScopeName
  key?: string
  limits: ScopeLimits
  used: Counter
}

type Direction = 'inbound' | 'outbound'

/**
 * Address scopes kept at most: an address scope with nothing open is dropped once
 * its token bucket is full again, and beyond this many the oldest idle ones go, so
 * a scan from many addresses cannot grow the table without bound.
 */
const MAX_IDLE_ADDRESSES = 10_000

interface AddressScope extends Scope {
  bucket: TokenBucket
}

export class ResourceManager {
  readonly limits: Limits
  readonly #node: Scope
  readonly #peers = new Map<string, Scope>()
  readonly #protocols = new Map<string, Scope>()
  readonly #addresses = new Map<string, AddressScope>()
  readonly #allow: IpSet
  readonly #deny: IpSet

  constructor (limits: Limits) {
    this.limits = limits
    this.#node = { name: 'node', limits: limits.node, used: zero() }
    this.#allow = new IpSet(limits.address.allow)
    this.#deny = new IpSet(limits.address.deny)
  }

  /** What the node holds now. */
  get used (): Readonly<Counter> {
    return this.#node.used
  }

  /** What one peer holds now (zeros for a peer with nothing open). */
  peerUsage (peer: string): Readonly<Counter> {
    return this.#peers.get(peer)?.used ?? zero()
  }

  /** Address scopes held (open connections, or a token bucket still refilling). */
  get addressScopes (): number {
    return this.#addresses.size
  }

  /**
   * A raw inbound connection from `ip` arrived: may we start its upgrade? Checks the
   * deny list, the address's rate, pending and connection limits (unless the address
   * is allow-listed), then the node's.
   */
  openInbound (ip: string, now: number): ConnectionScope | Denial {
    if (this.#deny.has(ip)) return { scope: 'address', limit: 'deny', max: 0, key: ip }
    let address: AddressScope | undefined
    if (!this.#allow.has(ip)) {
      const key = sourceKey(ip)
      address = this.#addresses.get(key)
      if (address === undefined) {
        const a = this.limits.address
        address = { name: 'address', key, limits: { pendingInbound: a.pendingInbound, connections: a.connections }, used: zero(), bucket: new TokenBucket(a.rate, a.burst, now) }
        this.#addresses.set(key, address)
        this.#sweepAddresses(now)
      }
      const d = check(address, 'pendingInbound', 1) ?? check(address, 'connections', 1)
      if (d !== undefined) return d
      if (!address.bucket.take(now)) return { scope: 'address', limit: 'rate', max: this.limits.address.burst, key: address.key }
    }
    const d = check(this.#node, 'pendingInbound', 1) ?? check(this.#node, 'connections', 1) ?? check(this.#node, 'inboundConnections', 1)
    if (d !== undefined) return d
    const scopes = address !== undefined ? [this.#node, address] : [this.#node]
    for (const s of scopes) add(s, { pendingInbound: 1, connections: 1, inboundConnections: 1 })
    return new ConnectionScope(this, 'inbound', scopes)
  }

  /** An outbound dial wants to start: counted from the first connect. */
  openOutbound (): ConnectionScope | Denial {
    const d = check(this.#node, 'connections', 1) ?? check(this.#node, 'outboundConnections', 1)
    if (d !== undefined) return d
    add(this.#node, { connections: 1, outboundConnections: 1 })
    return new ConnectionScope(this, 'outbound', [this.#node])
  }

  /** @internal the peer's scope, created on first use. */
  peerScope (peer: string): Scope {
    let s = this.#peers.get(peer)
    if (s === undefined) {
      s = { name: 'peer', key: peer, limits: this.limits.peer, used: zero() }
      this.#peers.set(peer, s)
    }
    return s
  }

  /** @internal the protocol's scope, created on first use. */
  protocolScope (protocol: string): Scope {
    let s = this.#protocols.get(protocol)
    if (s === undefined) {
      s = { name: 'protocol', key: protocol, limits: this.limits.protocol[protocol] ?? this.limits.protocol.default, used: zero() }
      this.#protocols.set(protocol, s)
    }
    return s
  }

  /** @internal drops scopes that hold nothing (a peer, protocol or address scope). */
  release (s: Scope, now?: number): void {
    if (!isEmpty(s.used)) return
    if (s.name === 'peer' && s.key !== undefined) this.#peers.delete(s.key)
    else if (s.name === 'protocol' && s.key !== undefined) this.#protocols.delete(s.key)
    else if (s.name === 'address' && s.key !== undefined && now !== undefined && (s as AddressScope).bucket.isFull(now)) this.#addresses.delete(s.key)
  }

  /** Drops address scopes with nothing open whose token bucket has refilled. */
  sweep (now: number): void {
    for (const [k, a] of this.#addresses) {
      if (isEmpty(a.used) && a.bucket.isFull(now)) this.#addresses.delete(k)
    }
  }

  /** Past the bound: drops idle address scopes whose bucket is full, then the oldest idle ones. */
  #sweepAddresses (now: number): void {
    if (this.#addresses.size <= MAX_IDLE_ADDRESSES) return
    for (const [k, a] of this.#addresses) {
      if (isEmpty(a.used) && a.bucket.isFull(now)) this.#addresses.delete(k)
    }
    for (const [k, a] of this.#addresses) {
      if (this.#addresses.size <= MAX_IDLE_ADDRESSES) break
      if (isEmpty(a.used)) this.#addresses.delete(k)
    }
  }
}

/** One connection's reservation, from the first byte to its close. */
export class ConnectionScope {
  readonly direction: Direction
  readonly #rm: ResourceManager
  /** node, address (inbound), peer (once known): what the connection counts in. */
  readonly #scopes: Scope[]
  readonly #self: Scope
  #peer: Scope | undefined
  #pending: boolean
  #closed = false

  constructor (rm: ResourceManager, direction: Direction, scopes: Scope[]) {
    this.#rm = rm
    this.direction = direction
    this.#scopes = scopes
    this.#self = { name: 'connection', limits: rm.limits.connection, used: zero() }
    this.#pending = direction === 'inbound'
  }

  get closed (): boolean {
    return this.#closed
  }

  /** Streams and memory this connection holds. */
  get used (): Readonly<Counter> {
    return this.#self.used
  }

  /** The security handshake named the peer: count the connection in the peer's scope. */
  setPeer (peer: string): Denial | undefined {
    if (this.#closed || this.#peer !== undefined) return undefined
    const s = this.#rm.peerScope(peer)
    const dirLimit = this.direction === 'inbound' ? 'inboundConnections' : 'outboundConnections'
    const d = check(s, 'connections', 1) ?? check(s, dirLimit, 1)
    if (d !== undefined) {
      this.#rm.release(s)
      return d
    }
    add(s, { connections: 1, [dirLimit]: 1 })
    this.#peer = s
    this.#scopes.push(s)
    return undefined
  }

  /** The upgrade finished: no longer pending. */
  upgraded (): void {
    if (this.#closed || !this.#pending) return
    this.#pending = false
    for (const s of this.#scopes) if (s.name !== 'peer') add(s, { pendingInbound: -1 })
  }

  /** Reserves a stream (before its protocol is known). */
  openStream (direction: Direction): StreamScope | Denial {
    if (this.#closed) return { scope: 'connection', limit: 'streams', max: 0 }
    const dirLimit = direction === 'inbound' ? 'inboundStreams' : 'outboundStreams'
    const scopes = [this.#self, ...this.#scopes.filter((s) => s.name !== 'address')]
    for (const s of scopes) {
      const d = check(s, 'streams', 1) ?? check(s, dirLimit, 1)
      if (d !== undefined) return d
    }
    for (const s of scopes) add(s, { streams: 1, [dirLimit]: 1 })
    return new StreamScope(this.#rm, direction, scopes)
  }

  /** Reserves `bytes` of receive window or buffer against the connection, its peer and the node. */
  reserveMemory (bytes: number): Denial | undefined {
    if (this.#closed) return { scope: 'connection', limit: 'memory', max: 0 }
    const scopes = [this.#self, ...this.#scopes.filter((s) => s.name !== 'address')]
    for (const s of scopes) {
      const d = check(s, 'memory', bytes)
      if (d !== undefined) return d
    }
    for (const s of scopes) add(s, { memory: bytes })
    return undefined
  }

  releaseMemory (bytes: number): void {
    if (this.#closed) return
    const n = Math.min(bytes, this.#self.used.memory)
    for (const s of [this.#self, ...this.#scopes.filter((x) => x.name !== 'address')]) add(s, { memory: -n })
  }

  /** The connection ended: releases it, and whatever memory it still held. Idempotent. */
  close (now: number): void {
    if (this.#closed) return
    this.#closed = true
    const mem = this.#self.used.memory
    const dirLimit = this.direction === 'inbound' ? 'inboundConnections' : 'outboundConnections'
    for (const s of this.#scopes) {
      add(s, {
        connections: -1,
        [dirLimit]: -1,
        ...(this.#pending && s.name !== 'peer' ? { pendingInbound: -1 } : {}),
        ...(s.name !== 'address' ? { memory: -mem } : {})
      })
      this.#rm.release(s, now)
    }
    this.#self.used.memory = 0
  }
}

/** One stream's reservation. */
export class StreamScope {
  readonly direction: Direction
  readonly #rm: ResourceManager
  readonly #scopes: Scope[]
  #protocol: Scope | undefined
  #closed = false

  constructor (rm: ResourceManager, direction: Direction, scopes: Scope[]) {
    this.#rm = rm
    this.direction = direction
    this.#scopes = scopes
  }

  /** The stream's protocol was agreed: count it in the protocol's scope. */
  setProtocol (protocol: string): Denial | undefined {
    if (this.#closed || this.#protocol !== undefined) return undefined
    const s = this.#rm.protocolScope(protocol)
    const dirLimit = this.direction === 'inbound' ? 'inboundStreams' : 'outboundStreams'
    const d = check(s, 'streams', 1) ?? check(s, dirLimit, 1)
    if (d !== undefined) {
      this.#rm.release(s)
      return d
    }
    add(s, { streams: 1, [dirLimit]: 1 })
    this.#protocol = s
    return undefined
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    const dirLimit = this.direction === 'inbound' ? 'inboundStreams' : 'outboundStreams'
    const all = this.#protocol !== undefined ? [...this.#scopes, this.#protocol] : this.#scopes
    for (const s of all) {
      add(s, { streams: -1, [dirLimit]: -1 })
      this.#rm.release(s)
    }
  }
}

export function isDenial (x: unknown): x is Denial {
  return typeof x === 'object' && x !== null && 'limit' in x && 'scope' in x && !(x instanceof ConnectionScope) && !(x instanceof StreamScope)
}

/** A human line for a denial: `peer 12D3Koo... limit: 8 connections`. */
export function describeDenial (d: Denial): string {
  if (d.limit === 'deny') return `address ${d.key ?? ''} is on the deny list`
  if (d.limit === 'rate') return `address ${d.key ?? ''} opened more than ${d.max} connections in a burst (rate limit)`
  const what: Record<string, string> = {
    connections: 'connections', inboundConnections: 'inbound connections', outboundConnections: 'outbound connections',
    pendingInbound: 'inbound connections still upgrading', streams: 'streams', inboundStreams: 'inbound streams',
    outboundStreams: 'outbound streams', memory: 'bytes of memory'
  }
  return `${d.scope}${d.key !== undefined ? ` ${d.key}` : ''} limit reached: ${d.max} ${what[d.limit] ?? d.limit}`
}

function check (s: Scope, limit: keyof ScopeLimits, amount: number): Denial | undefined {
  const max = s.limits[limit]
  if (max === undefined || s.used[limit] + amount <= max) return undefined
  return { scope: s.name, limit, max, ...(s.key !== undefined ? { key: s.key } : {}) }
}

function add (s: Scope, delta: Partial<Counter>): void {
  for (const [k, v] of Object.entries(delta) as Array<[keyof Counter, number]>) s.used[k] += v
}

function isEmpty (c: Counter): boolean {
  return c.connections === 0 && c.streams === 0 && c.memory === 0 && c.pendingInbound === 0
}
