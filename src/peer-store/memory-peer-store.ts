/**
 * The in-memory {@link PeerStore}. Bounded: at most `maxPeers` peers (least recently
 * updated evicted first) and `maxAddressesPerPeer` addresses per peer (oldest
 * dropped), because identify lets any connected peer write here.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '../interfaces/keys.js'
import type { PeerInfo, PeerStore, PeerUpdate } from '../interfaces/peer-store.js'

export interface MemoryPeerStoreOptions {
  /** Default 10 000 peers: a few MiB at most. */
  maxPeers?: number
  /**
   * Default 64: identify's listenAddrs of real nodes carry a handful to a few dozen
   * addresses (every interface x transport); more is noise or abuse.
   */
  maxAddressesPerPeer?: number
  /** Default 128 protocol ids per peer, for the same reason. */
  maxProtocolsPerPeer?: number
}

export class MemoryPeerStore implements PeerStore {
  readonly #peers = new Map<string, PeerInfo>()
  readonly #maxPeers: number
  readonly #maxAddrs: number
  readonly #maxProtocols: number

  constructor (options: MemoryPeerStoreOptions = {}) {
    this.#maxPeers = options.maxPeers ?? 10_000
    this.#maxAddrs = options.maxAddressesPerPeer ?? 64
    this.#maxProtocols = options.maxProtocolsPerPeer ?? 128
  }

  /** The peer's addresses, synchronously (the dialer's read; interim until the store's reads are all synchronous). */
  addressesOf (peer: PeerId): Multiaddr[] {
    return [...(this.#peers.get(peer.toString())?.addresses ?? [])]
  }

  async get (peer: PeerId): Promise<PeerInfo | undefined> {
    const info = this.#peers.get(peer.toString())
    return info === undefined ? undefined : { ...info, addresses: [...info.addresses], protocols: [...info.protocols] }
  }

  async patch (peer: PeerId, update: PeerUpdate): Promise<PeerInfo> {
    const key = peer.toString()
    const old = this.#peers.get(key)
    let addresses = update.addresses ?? old?.addresses ?? []
    if (update.addAddresses !== undefined) addresses = mergeAddrs(addresses, update.addAddresses)
    const info: PeerInfo = {
      id: old?.id ?? peer,
      addresses: dedupe(addresses).slice(-this.#maxAddrs),
      protocols: (update.protocols ?? old?.protocols ?? []).slice(0, this.#maxProtocols),
      updated: Date.now()
    }
    const publicKey = update.publicKey ?? old?.publicKey ?? peer.publicKey
    if (publicKey !== undefined) info.publicKey = publicKey
    const agentVersion = update.agentVersion ?? old?.agentVersion
    if (agentVersion !== undefined) info.agentVersion = agentVersion
    const protocolVersion = update.protocolVersion ?? old?.protocolVersion
    if (protocolVersion !== undefined) info.protocolVersion = protocolVersion
    // Re-insert so Map order is least-recently-updated first.
    this.#peers.delete(key)
    this.#peers.set(key, info)
    while (this.#peers.size > this.#maxPeers) {
      const oldest = this.#peers.keys().next().value as string
      this.#peers.delete(oldest)
    }
    return { ...info, addresses: [...info.addresses], protocols: [...info.protocols] }
  }

  async delete (peer: PeerId): Promise<void> {
    this.#peers.delete(peer.toString())
  }

  async all (): Promise<PeerInfo[]> {
    return [...this.#peers.values()].map((i) => ({ ...i, addresses: [...i.addresses], protocols: [...i.protocols] }))
  }

  async close (): Promise<void> {}
}

function mergeAddrs (a: Multiaddr[], b: Multiaddr[]): Multiaddr[] {
  return [...a, ...b]
}

function dedupe (addrs: Multiaddr[]): Multiaddr[] {
  const seen = new Map<string, Multiaddr>()
  // Later entries win their position (most recent last).
  for (const a of addrs) {
    const k = a.toString()
    seen.delete(k)
    seen.set(k, a)
  }
  return [...seen.values()]
}
