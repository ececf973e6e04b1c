/** Shared helpers of the peer store tests: a simulated clock, peers, addresses. */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, peerIdFromPrivateKey, type PeerId, type PrivateKey } from '../../src/identity/index.js'
import type { Peer } from '../../src/interfaces/peer-store.js'
import { MemoryPeerStore } from '../../src/peer-store/memory-peer-store.js'
import type { PeerStoreOptions } from '../../src/peer-store/options.js'

export const MIN = 60_000
export const HOUR = 60 * MIN

/** A clock the test moves by hand. */
export class Clock {
  t = 1_700_000_000_000
  readonly now = (): number => this.t
  advance (ms: number): void { this.t += ms }
}

export function newPeer (): { key: PrivateKey, id: PeerId } {
  const key = generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key) }
}

export function addr (n: number, port = 4001): Multiaddr {
  return multiaddr(`/ip4/10.0.${Math.floor(n / 256)}.${n % 256}/tcp/${port}`)
}

/** The stored addresses as `text class certified` lines, in the store's order. */
export function describeAddrs (peer: Peer | undefined): string[] {
  return (peer?.addresses ?? []).map((a) => `${a.multiaddr.toString()} ${a.class}${a.certified ? ' certified' : ''}`)
}

/** A memory store on a fresh simulated clock. */
export function setup (options: PeerStoreOptions = {}): { clock: Clock, store: MemoryPeerStore } {
  const clock = new Clock()
  return { clock, store: new MemoryPeerStore({ now: clock.now, ...options }) }
}
