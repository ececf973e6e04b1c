/**
 * What the user asked to dial: a multiaddr (string or value), or a peer id (string or
 * value). The `/p2p/<id>` component at the end of an address names the peer
 * (`specs/addressing.md`, "The p2p multiaddr").
 */
import { isMultiaddr, multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '../interfaces/keys.js'
import { codes, invalidArgType, Lp2pError } from '../errors.js'
import { isPeerId, peerIdFromString } from '../identity/index.js'

export type DialTarget = Multiaddr | PeerId | string

/** The peer id at the end of `addr` (`/p2p/<id>`), or undefined. */
export function peerIdOf (addr: Multiaddr): PeerId | undefined {
  const parts = addr.getComponents()
  const last = parts[parts.length - 1]
  if (last?.name !== 'p2p' || last.value === undefined) return undefined
  return peerIdFromString(last.value)
}

/** `addr` without a trailing `/p2p/<id>`. */
export function withoutPeerId (addr: Multiaddr): Multiaddr {
  const parts = addr.getComponents()
  if (parts[parts.length - 1]?.name !== 'p2p') return addr
  return addr.decapsulateCode(parts[parts.length - 1]?.code as number)
}

/** Parses user input into a peer and/or address. */
export function parseTarget (target: DialTarget): { peer?: PeerId, addr?: Multiaddr } {
  if (isPeerId(target)) return { peer: target }
  if (isMultiaddr(target)) {
    const peer = peerIdOf(target)
    return peer === undefined ? { addr: target } : { addr: target, peer }
  }
  if (typeof target !== 'string') throw invalidArgType('target', 'a multiaddr, a peer id or a string', target)
  if (target.startsWith('/')) {
    let addr: Multiaddr
    try {
      addr = multiaddr(target)
    } catch (err) {
      throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `invalid multiaddr ${JSON.stringify(target)}: ${(err as Error).message}`, { cause: err })
    }
    return parseTarget(addr)
  }
  try {
    return { peer: peerIdFromString(target) }
  } catch (err) {
    throw new Lp2pError(codes.ERR_INVALID_PEER_ID,
      `${JSON.stringify(target)} is neither a peer id nor a multiaddr (a multiaddr starts with "/", e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...)`, { cause: err })
  }
}
