/**
 * Peer metadata storage (`connections/README.md`, "State Management" / "Peer Metadata
 * Storage"): the peer id and last known valid addresses of each peer, plus what
 * identify and signed peer records (`rfc/0002-signed-envelopes.md`,
 * `rfc/0003-routing-records.md`) told us, tags, metadata and dial outcomes.
 *
 * One interface, two backends (memory; LevelDB written behind). Reads are
 * synchronous from memory: nothing on the dial or stream path awaits storage.
 * Writes apply to memory at once; a persistent backend writes them behind, in
 * batches. Every collection is bounded (see the backend options).
 */
import type { EventEmitter } from 'node:events'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PublicKey } from './keys.js'

/**
 * Where an address came from, which sets how long it is kept
 * (after go-libp2p's `peerstore` TTL classes):
 * - `connected`: the address of an open connection; kept while connected, then
 *   becomes `recently-connected`.
 * - `recently-connected`: ~15 min after the last connection on it closed.
 * - `temporary`: ~2 min (addresses heard of but never verified).
 * - `default`: ~1 h (identify listen addresses, addresses given without a class).
 * - `permanent`: never expires (configured by the user: `lp2p peers add`, bootstrap).
 */
export type AddressClass = 'connected' | 'recently-connected' | 'temporary' | 'default' | 'permanent'

/** The last dial of one address. */
export interface DialOutcome {
  /** Milliseconds since the epoch, when the attempt ended. */
  at: number
  ok: boolean
  /** The lp2p error code when it failed (`ERR_TIMEOUT`, `ERR_UNEXPECTED_PEER`, ...). */
  code?: string
  /** How long the attempt took, ms. */
  durationMs?: number
}

export interface AddressRecord {
  /** Without a trailing `/p2p/<id>`. */
  multiaddr: Multiaddr
  class: AddressClass
  /** Milliseconds since the epoch; `Infinity` for `permanent`, and while `connected`. */
  expires: number
  /** True when the address came in a signed peer record of the peer (RFC 0003). */
  certified: boolean
  lastDial?: DialOutcome
}

export interface Tag {
  value: number
  /** Milliseconds since the epoch; the tag is gone after it. */
  expires?: number
}

/** What the store knows about one peer. Values are snapshots: mutate through the store. */
export interface Peer {
  id: PeerId
  addresses: AddressRecord[]
  /** Protocols the peer said it supports (identify). */
  protocols: string[]
  publicKey?: PublicKey
  agentVersion?: string
  protocolVersion?: string
  metadata: ReadonlyMap<string, Uint8Array>
  tags: ReadonlyMap<string, Tag>
  /** The peer's signed peer record envelope with the highest `seq` seen (RFC 0003). */
  peerRecordEnvelope?: Uint8Array
  peerRecordSeq?: bigint
  /** Milliseconds since the epoch: last connection open or close with the peer. */
  lastSeen?: number
  /** Milliseconds since the epoch of the last change. */
  updated: number
}

export interface AddAddressOptions {
  /** Default `default`. */
  class?: AddressClass
  /** Overrides the class's lifetime, ms (a `permanent` address never expires). */
  ttl?: number
}

/** Fields of a peer that `patch` sets; absent fields are left alone. */
export interface PeerPatch {
  protocols?: string[]
  publicKey?: PublicKey
  agentVersion?: string
  protocolVersion?: string
}

/** What {@link PeerStore.consumePeerRecord} did with a valid record. */
export interface ConsumedPeerRecord {
  /** The peer the record certifies (its id carries the record's key). */
  peer: PeerId
  /** False when the store already held a record with this `seq` or a higher one. */
  accepted: boolean
  seq: bigint
  /** The record's addresses, without `/p2p/<id>`. */
  addresses: Multiaddr[]
}

/** Emitted after a record changed (and is committed in memory). */
export interface PeerUpdateEvent {
  peer: Peer
  previous?: Peer
}

export interface PeerStoreEvents {
  'peer:update': [event: PeerUpdateEvent]
}

export interface PeerStore extends EventEmitter<PeerStoreEvents> {
  /** Number of peers held. */
  readonly size: number
  /** A snapshot of the peer, without expired addresses or tags. */
  get (peer: PeerId): Peer | undefined
  has (peer: PeerId): boolean
  /** Every peer (snapshots). */
  all (): Peer[]
  /**
   * Adds or refreshes addresses. An address already held keeps the longer of the two
   * lifetimes and the stronger class; `/p2p/<id>` suffixes are stripped.
   */
  addAddresses (peer: PeerId, addrs: readonly Multiaddr[], options?: AddAddressOptions): void
  /**
   * Replaces the peer's addresses of `class` (identify's listen addresses replace the
   * previous identify addresses, never the address of a connection).
   */
  setAddresses (peer: PeerId, addrs: readonly Multiaddr[], options?: AddAddressOptions): void
  /**
   * Verifies a signed peer record envelope (RFC 0003; domain `libp2p-peer-record`
   * with payload type `03 01` as go-libp2p and js-libp2p sign it, or the RFC's
   * `libp2p-routing-state` / `/libp2p/routing-state-record` as rust-libp2p 0.57 does)
   * and stores its addresses as certified when its `seq` is higher than the one held.
   * Returns the peer it certifies, whether it was accepted (false: older or equal
   * `seq`) and the record's seq and addresses. Throws a typed error on a bad envelope
   * or signature, or when `expected` is given and the record is of another peer
   * (`ERR_UNEXPECTED_PEER`).
   */
  consumePeerRecord (envelope: Uint8Array, expected?: PeerId): ConsumedPeerRecord
  patch (peer: PeerId, patch: PeerPatch): void
  setMetadata (peer: PeerId, key: string, value: Uint8Array | undefined): void
  /** Sets a tag (value, optional lifetime in ms); `undefined` removes it. */
  tag (peer: PeerId, name: string, value: number | undefined, options?: { ttl?: number }): void
  /** Records the outcome of a dial of one of the peer's addresses. */
  recordDial (peer: PeerId, addr: Multiaddr, outcome: DialOutcome): void
  /**
   * A connection to the peer opened on `addr` (its address becomes `connected`). The
   * peer is then never evicted until `disconnected`. `addr` may be left out: an
   * inbound connection's remote address is usually an ephemeral port, not one to dial.
   */
  connected (peer: PeerId, addr?: Multiaddr): void
  /** The last connection to the peer closed: `connected` addresses become recently connected. */
  disconnected (peer: PeerId): void
  delete (peer: PeerId): void
  /**
   * Collects every expired address and tag now (reads collect them lazily), and
   * removes the peers left with no address, tag or metadata and no connection.
   * Returns how many peers were removed.
   */
  gc (): number
  /** Writes everything pending (persistent backends); resolves when LevelDB has it. */
  flush (): Promise<void>
  /** Flushes and releases the backend. Reads still work on what is in memory. */
  close (): Promise<void>
}

/** The last dial of one address. */
export interface DialOutcome {
  /** Milliseconds since the epoch, when the attempt ended. */
  at: number
  ok: boolean
  /** The lp2p error code when it failed (`ERR_TIMEOUT`, `ERR_UNEXPECTED_PEER`, ...). */
  code?: string
  /** How long the attempt took, ms. */
  durationMs?: number
}
