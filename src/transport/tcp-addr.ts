/**
 * Multiaddr <-> TCP socket address conversion (pure). Accepts
 * `/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>` optionally followed by `/p2p/<id>`
 * (`specs/addressing.md`: the `/p2p` component names the peer, not the route).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { codes, Lp2pError } from '../errors.js'
import { multiaddrCache } from '../util/multiaddr-cache.js'

/** What the host protocol of an address says (TCP and WebSocket addresses alike). */
export interface HostKind {
  /** 4 or 6 to force an address family (ip4/dns4, ip6/dns6), 0 for either (dns). */
  family: 0 | 4 | 6
  /** True for dns/dns4/dns6 (a name to resolve). */
  isDns: boolean
}

export interface TcpTarget extends HostKind {
  host: string
  port: number
}

/** The host protocols an address may start with, by name. */
export const HOST_PROTOCOLS: Readonly<Record<string, HostKind>> = {
  ip4: { family: 4, isDns: false },
  ip6: { family: 6, isDns: false },
  dns: { family: 0, isDns: true },
  dns4: { family: 4, isDns: true },
  dns6: { family: 6, isDns: true }
}

/** The TCP target of `addr`, or undefined when it is not a TCP address. */
export function toTcpTarget (addr: Multiaddr): TcpTarget | undefined {
  const parts = addr.getComponents()
  let n = parts.length
  if (n > 0 && parts[n - 1]?.name === 'p2p') n--
  if (n !== 2) return undefined
  const [host, tcp] = parts as [typeof parts[0], typeof parts[0]]
  const kind = HOST_PROTOCOLS[host.name]
  if (kind === undefined || tcp.name !== 'tcp' || host.value === undefined || tcp.value === undefined) return undefined
  const port = tcpPort(tcp.value)
  if (port === undefined) return undefined
  return { host: host.value, port, ...kind }
}

/** The port of a `/tcp` component's value, or undefined when it is not one (0 to 65535). */
export function tcpPort (value: string | undefined): number | undefined {
  const port = Number(value)
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined
}

/** Like {@link toTcpTarget} but throws ERR_INVALID_MULTIADDR. */
export function requireTcpTarget (addr: Multiaddr): TcpTarget {
  const t = toTcpTarget(addr)
  if (t === undefined) {
    throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `not a TCP multiaddr: ${addr.toString()}`)
  }
  return t
}

/**
 * The multiaddr of a socket address as Node reports it; one shared object per address
 * (see MultiaddrCache: every inbound connection of a listener has the same local one).
 */
export function fromSocketAddress (address: string, port: number, family: string | number): Multiaddr {
  return multiaddrCache.fromString(socketAddressText(address, port, family))
}

/** `/ip4|ip6/<address>/tcp/<port>` of a socket address as Node reports it. */
export function socketAddressText (address: string, port: number, family: string | number): string {
  const v6 = family === 'IPv6' || family === 6
  // An IPv4 client seen by a dual-stack listener: ::ffff:1.2.3.4
  if (v6 && address.startsWith('::ffff:') && address.includes('.')) return `/ip4/${address.slice(7)}/tcp/${port}`
  return `/${v6 ? 'ip6' : 'ip4'}/${address}/tcp/${port}`
}
