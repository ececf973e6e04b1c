/**
 * Peer metadata storage (`connections/README.md`, "Peer Metadata Storage"): at least
 * the peer id and last known addresses of each peer, plus what identify told us.
 * One interface, in-memory and persistent backends.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PublicKey } from './keys.js'

export interface PeerInfo {
  id: PeerId
  /** Last known addresses (without the trailing /p2p). */
  addresses: Multiaddr[]
  /** Protocols the peer said it supports (identify). */
  protocols: string[]
  publicKey?: PublicKey
  agentVersion?: string
  protocolVersion?: string
  /** Milliseconds since the epoch of the last update. */
  updated: number
}

export interface PeerUpdate {
  /** Replaces the known addresses when given. */
  addresses?: Multiaddr[]
  /** Adds to the known addresses. */
  addAddresses?: Multiaddr[]
  protocols?: string[]
  publicKey?: PublicKey
  agentVersion?: string
  protocolVersion?: string
}

export interface PeerStore {
  get (peer: PeerId): Promise<PeerInfo | undefined>
  /** Creates or merges. */
  patch (peer: PeerId, update: PeerUpdate): Promise<PeerInfo>
  delete (peer: PeerId): Promise<void>
  all (): Promise<PeerInfo[]>
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
