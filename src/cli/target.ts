/**
 * What `lp2p ping` and `lp2p dial` accept as their target: a multiaddr (with or
 * without `/p2p/<id>`), `host:port` or `[ipv6]:port` (a TCP address; the peer's
 * identity is then whatever the handshake proves), or a peer id whose addresses the
 * peer store knows.
 */
import { codes, Lp2pError } from '../errors.js'
import { parseTarget, type DialTarget } from '../dialer/target.js'
import { parseServerAddress } from './perf.js'

export function parseCliTarget (value: string): DialTarget {
  if (value.startsWith('/')) return parseTarget(value).addr ?? value
  if (/^(?:\[[0-9a-fA-F:.]+\]|[^:[\]/]+):\d{1,5}$/.test(value)) {
    try {
      return parseServerAddress(value)
    } catch (err) {
      throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `invalid address ${JSON.stringify(value)}: ${(err as Error).message}`, { cause: err })
    }
  }
  try {
    return parseTarget(value).peer ?? value
  } catch {
    // The user's mistake is the form of the argument, not base58 details: no cause chain.
    throw new Lp2pError(codes.ERR_INVALID_PEER_ID,
      `${JSON.stringify(value)} is not a peer address: give a multiaddr (/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...), host:port, or a peer id the peer store knows`)
  }
}
