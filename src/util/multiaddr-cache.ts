/**
 * A bounded cache of Multiaddr objects by their text or bytes, so that the addresses
 * many connections share are one object each: the listen address that every inbound
 * connection reports as its local address, the address every outbound connection to a
 * server reports as remote, the observed and listen addresses that identify brings on
 * each connection. A parsed multiaddr costs ~0.5 KiB (the object, its components, their
 * strings and bytes); Multiaddr objects are immutable, so sharing one is safe.
 *
 * Bounded (GUIDE: nothing grows without bound): at most `capacity` entries, least
 * recently used dropped first, so addresses that are looked up all the time stay while
 * one-off ones (ephemeral ports) pass through.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { codes, Lp2pError } from '../errors.js'

/** Entries per cache: a few KiB of keys, enough for the addresses in common use. */
export const MULTIADDR_CACHE_CAPACITY = 256

export class MultiaddrCache {
  readonly #capacity: number
  readonly #entries = new Map<string, Multiaddr>()

  constructor (capacity = MULTIADDR_CACHE_CAPACITY) {
    this.#capacity = capacity
  }

  get size (): number {
    return this.#entries.size
  }

  /** The multiaddr of `text` (as `multiaddr(text)` parses it, and throws). */
  fromString (text: string): Multiaddr {
    const key = textKey(text)
    const hit = this.#get(key)
    if (hit !== undefined) return hit
    const addr = unpooled(text)
    return this.#put(key, bytesKey(addr.bytes), addr)
  }

  /**
   * The multiaddr of `bytes`; a new one is parsed from a copy, so it never keeps the
   * caller's buffer (a received message, a read buffer) alive. Bytes come from the
   * network here: whatever the multiaddr library throws for them (a RangeError for a
   * bad varint, its own error classes) becomes `ERR_INVALID_MULTIADDR` with that
   * error as the cause (found by `npm run fuzz`, target `multiaddr`).
   */
  fromBytes (bytes: Uint8Array): Multiaddr {
    const key = bytesKey(bytes)
    const hit = this.#get(key)
    if (hit !== undefined) return hit
    let addr: Multiaddr
    let text: string
    try {
      addr = unpooled(new Uint8Array(bytes))
      text = addr.toString()
    } catch (err) {
      throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `invalid multiaddr bytes (${bytes.byteLength} bytes)`, { cause: err })
    }
    return this.#put(key, textKey(text), addr)
  }

  #get (key: string): Multiaddr | undefined {
    const hit = this.#entries.get(key)
    if (hit !== undefined) {
      // Most recently used last: Map iteration order is insertion order.
      this.#entries.delete(key)
      this.#entries.set(key, hit)
    }
    return hit
  }

  /**
   * Enters a new `addr` under `key` (the form it was looked up by) and `other` (its
   * other form), unless it is known by its other form already: then that object is
   * entered under `key` too and returned (so `/ip4/1.2.3.4/tcp/5` from a socket and
   * the same address in an identify message are one object).
   */
  #put (key: string, other: string, addr: Multiaddr): Multiaddr {
    if (this.#capacity <= 0) return addr
    const known = this.#get(other)
    if (known === undefined) this.#set(other, addr)
    this.#set(key, known ?? addr)
    return known ?? addr
  }

  #set (key: string, addr: Multiaddr): void {
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
    this.#entries.set(key, addr)
  }
}

function textKey (text: string): string {
  return `s${text}`
}

/** latin1: one char per byte, a string the Map can hash; addresses are short. */
function bytesKey (bytes: Uint8Array): string {
  return `b${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')}`
}

/**
 * `multiaddr(input)` with Node's Buffer pool off. The library builds a multiaddr's bytes
 * with `Buffer.allocUnsafe`, which hands out slices of a shared 8 KiB slab; a multiaddr
 * that lives as long as its connection would keep the whole slab alive (measured: ~1
 * slab per 4 connections, 2-3 KiB of RSS per connection). `Buffer.poolSize` is a
 * documented, writable setting; with 0 every allocation gets its own small buffer. The
 * construction is synchronous, so no other code runs while the pool is off. (Only
 * multiaddrs made here are unpooled; those users pass in are theirs.)
 */
function unpooled (input: string | Uint8Array): Multiaddr {
  const poolSize = Buffer.poolSize
  Buffer.poolSize = 0
  try {
    const addr = multiaddr(input)
    // Its bytes are made on first use: make them now, while the pool is off.
    void addr.bytes
    return addr
  } finally {
    Buffer.poolSize = poolSize
  }
}

/** The process's cache: Multiaddr objects are immutable, so every node can share them. */
export const multiaddrCache = new MultiaddrCache()
