/**
 * QUIC multiaddrs (pure): `/ip4|ip6/<address>/udp/<port>/quic-v1`, optionally followed
 * by `/p2p/<id>` (`specs/quic.md`: `/quic-v1` is RFC 9000 QUIC; the legacy `/quic`,
 * draft-29, is not spoken here). Only IP literals: the engine dials socket addresses.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { codes, Lp2pError } from '../../errors.js'
import { multiaddrCache } from '../../util/multiaddr-cache.js'
import { tcpPort } from '../tcp-addr.js'

export interface QuicTarget {
  family: 4 | 6
  host: string
  port: number
}

/** The UDP socket address of a `/quic-v1` multiaddr, or undefined when it is not one. */
export function toQuicTarget (addr: Multiaddr): QuicTarget | undefined {
  const parts = addr.getComponents()
  let n = parts.length
  if (n > 0 && parts[n - 1]?.name === 'p2p') n--
  if (n !== 3) return undefined
  const [ip, udp, quic] = parts as [typeof parts[0], typeof parts[0], typeof parts[0]]
  if ((ip.name !== 'ip4' && ip.name !== 'ip6') || udp.name !== 'udp' || quic.name !== 'quic-v1') return undefined
  // UDP ports have the range of TCP ports.
  const port = tcpPort(udp.value)
  if (ip.value === undefined || port === undefined) return undefined
  return { family: ip.name === 'ip4' ? 4 : 6, host: ip.value, port }
}

/** Like {@link toQuicTarget} but throws ERR_INVALID_MULTIADDR. */
export function requireQuicTarget (addr: Multiaddr): QuicTarget {
  const t = toQuicTarget(addr)
  if (t === undefined) throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `not a /quic-v1 multiaddr: ${addr.toString()}`)
  return t
}

/** `/ip4|ip6/<host>/udp/<port>/quic-v1`, one shared object per address. */
export function quicAddr (family: 4 | 6, host: string, port: number): Multiaddr {
  return multiaddrCache.fromString(`/ip${family}/${host}/udp/${port}/quic-v1`)
}

/**
 * Splits the engine's remote address, `/ip4|ip6/<host>/udp/<port>/quic-v1/p2p/<id>`,
 * into the address (shared object) and the peer id text its certificate proved.
 * @throws ERR_HANDSHAKE_FAILED when the engine reports no peer id.
 */
export function splitRemoteAddr (text: string): { addr: Multiaddr, peer: string } {
  const i = text.lastIndexOf('/p2p/')
  if (i <= 0) throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `the QUIC engine reported no authenticated peer for ${text}`)
  return { addr: multiaddrCache.fromString(text.slice(0, i)), peer: text.slice(i + 5) }
}
