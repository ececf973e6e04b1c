/**
 * The peer store's options: lifetimes of the address classes and every bound, each
 * with the reason for its default (GUIDE rule 3). Both backends take these.
 */
import { invalidArgType, invalidArgValue } from '../errors.js'

export interface PeerStoreOptions {
  /** The clock, ms since the epoch (default `Date.now`); tests pass a simulated one. */
  now?: () => number
  /**
   * Peers held. Default 10 000: ~30x the node's default connection limit (300), so
   * the peers of past sessions are remembered as well as the current ones, at about
   * 1-1.6 KiB of heap each with 4 addresses (`bench/peer-store.ts`: 970 bytes, 1586
   * once read), ~16 MiB at most. A DHT server that wants more raises it. When full, a new peer
   * evicts a disconnected, untagged peer (least recently seen first), then a
   * disconnected tagged one; a connected peer is never evicted.
   */
  maxPeers?: number
  /**
   * Addresses per peer, not counting those of open connections. Default 64, as
   * go-libp2p (`pstoremem.defaultMaxAddrsPerPeer`: "well above observed real-world
   * maxima (~26 for well-connected multi-transport nodes)"). When full, the weakest
   * address goes: uncertified before certified, then the shortest-lived class, then
   * the soonest to expire; a new address weaker than all held is dropped.
   */
  maxAddressesPerPeer?: number
  /**
   * Protocols per peer. Default 128, as identify keeps (`MAX_IDENTIFY_PROTOCOLS`):
   * real nodes list 10-30. Further protocols are dropped.
   */
  maxProtocolsPerPeer?: number
  /**
   * Metadata keys per peer. Default 32: metadata is the application's (js-libp2p
   * keeps 2-4 keys per peer); with {@link maxMetadataValueBytes} it bounds a peer's
   * metadata to 32 KiB.
   */
  maxMetadataKeys?: number
  /** Characters in a metadata key or a tag name. Default 128: names, not data. */
  maxKeyLength?: number
  /** Bytes in one metadata value. Default 1 KiB: versions, flags, small scores. */
  maxMetadataValueBytes?: number
  /**
   * Tags per peer. Default 32: a connection manager sets one tag per reason to keep
   * a peer (a protocol, a bootstrap list, a DHT bucket), a handful in practice.
   */
  maxTagsPerPeer?: number
  /** Lifetime of a `temporary` address, ms. Default 2 min (go-libp2p `TempAddrTTL`). */
  temporaryTtl?: number
  /** Lifetime of a `default` address, ms. Default 1 h (go-libp2p `AddressTTL`). */
  defaultTtl?: number
  /**
   * Lifetime of a `recently-connected` address after its connection closed, ms.
   * Default 15 min (go-libp2p `RecentlyConnectedAddrTTL`): long enough to redial a
   * peer after a network blip, short enough that a stale address fades.
   */
  recentlyConnectedTtl?: number
}

export const DEFAULT_MAX_PEERS = 10_000
export const DEFAULT_MAX_ADDRESSES_PER_PEER = 64
export const DEFAULT_MAX_PROTOCOLS_PER_PEER = 128
export const DEFAULT_MAX_METADATA_KEYS = 32
export const DEFAULT_MAX_KEY_LENGTH = 128
export const DEFAULT_MAX_METADATA_VALUE_BYTES = 1024
export const DEFAULT_MAX_TAGS_PER_PEER = 32
export const DEFAULT_TEMPORARY_TTL = 2 * 60_000
export const DEFAULT_DEFAULT_TTL = 60 * 60_000
export const DEFAULT_RECENTLY_CONNECTED_TTL = 15 * 60_000

/** The options with every default filled in and checked. */
export interface PeerStoreLimits {
  now: () => number
  maxPeers: number
  maxAddressesPerPeer: number
  maxProtocolsPerPeer: number
  maxMetadataKeys: number
  maxKeyLength: number
  maxMetadataValueBytes: number
  maxTagsPerPeer: number
  temporaryTtl: number
  defaultTtl: number
  recentlyConnectedTtl: number
}

export function resolvePeerStoreOptions (options: PeerStoreOptions = {}): PeerStoreLimits {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options)
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw invalidArgType('options.now', 'a function', now)
  return {
    now,
    maxPeers: count(options.maxPeers, DEFAULT_MAX_PEERS, 'maxPeers'),
    maxAddressesPerPeer: count(options.maxAddressesPerPeer, DEFAULT_MAX_ADDRESSES_PER_PEER, 'maxAddressesPerPeer'),
    maxProtocolsPerPeer: count(options.maxProtocolsPerPeer, DEFAULT_MAX_PROTOCOLS_PER_PEER, 'maxProtocolsPerPeer'),
    maxMetadataKeys: count(options.maxMetadataKeys, DEFAULT_MAX_METADATA_KEYS, 'maxMetadataKeys'),
    maxKeyLength: count(options.maxKeyLength, DEFAULT_MAX_KEY_LENGTH, 'maxKeyLength'),
    maxMetadataValueBytes: count(options.maxMetadataValueBytes, DEFAULT_MAX_METADATA_VALUE_BYTES, 'maxMetadataValueBytes'),
    maxTagsPerPeer: count(options.maxTagsPerPeer, DEFAULT_MAX_TAGS_PER_PEER, 'maxTagsPerPeer'),
    temporaryTtl: duration(options.temporaryTtl, DEFAULT_TEMPORARY_TTL, 'temporaryTtl'),
    defaultTtl: duration(options.defaultTtl, DEFAULT_DEFAULT_TTL, 'defaultTtl'),
    recentlyConnectedTtl: duration(options.recentlyConnectedTtl, DEFAULT_RECENTLY_CONNECTED_TTL, 'recentlyConnectedTtl')
  }
}

function count (value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw invalidArgValue(`options.${name}`, `must be a positive integer, got ${String(value)}`)
  return value
}

/** A lifetime in ms: a non-negative number, Infinity allowed. */
export function duration (value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw invalidArgValue(name, `must be a non-negative number of ms, got ${String(value)}`)
  }
  return value
}
