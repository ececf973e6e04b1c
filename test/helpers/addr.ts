/** Reading test addresses: the one way the tests parse a listening port. */
import type { Multiaddr } from '@multiformats/multiaddr'

/** The TCP port of an `/ip4|ip6/<host>/tcp/<port>/...` address. */
export function portOf (addr: Multiaddr): number {
  return Number(addr.getComponents()[1]?.value)
}
