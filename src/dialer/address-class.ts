/**
 * What the dialer needs to know about an address before dialing it (pure): which
 * transport tier it belongs to, its IP family, whether it is local or public, whether
 * it goes through a relay. The schedule and the black-hole detector decide from this.
 *
 * `specs/addressing.md` ("Transport multiaddrs", "The p2p-circuit multiaddr"); the
 * private ranges are RFC 1918 / RFC 6598 (shared address space) / RFC 3927
 * (link-local) for IPv4 and RFC 4193 (unique local) / RFC 4291 (link-local, loopback)
 * for IPv6.
 */
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Transport preference, best first: QUIC (one round trip less to set up, no
 * head-of-line blocking), then TCP, then WebSocket (TCP plus an HTTP upgrade), then
 * anything else a transport may know.
 */
export type TransportTier = 'quic' | 'tcp' | 'ws' | 'other'
export const TIER_ORDER: readonly TransportTier[] = ['quic', 'tcp', 'ws', 'other']

export type IpFamily = 'ip4' | 'ip6' | 'dns' | 'other'

export interface AddressInfo {
  tier: TransportTier
  family: IpFamily
  /** Loopback, private, link-local, `localhost`, or in-memory: reached without the internet. */
  local: boolean
  /** Goes through a relay (`/p2p-circuit`). */
  relay: boolean
}

/** Classifications of the Multiaddr objects seen (the schedule and the black-hole check both ask). */
const classified = new WeakMap<Multiaddr, AddressInfo>()

export function classifyAddress (addr: Multiaddr): AddressInfo {
  let info = classified.get(addr)
  if (info === undefined) {
    info = classify(addr)
    classified.set(addr, info)
  }
  return info
}

function classify (addr: Multiaddr): AddressInfo {
  const parts = addr.getComponents()
  const first = parts[0]
  let family: IpFamily = 'other'
  let local = false
  let relay = false
  let tier: TransportTier = 'other'
  let sawTcp = false
  if (first !== undefined) {
    const v = first.value ?? ''
    switch (first.name) {
      case 'ip4': family = 'ip4'; local = isLocal4(v); break
      case 'ip6': family = 'ip6'; local = isLocal6(v); break
      case 'dns': case 'dns4': case 'dns6': case 'dnsaddr':
        family = 'dns'; local = v === 'localhost' || v.endsWith('.localhost'); break
      case 'memory': local = true; break
    }
  }
  for (const c of parts) {
    switch (c.name) {
      case 'p2p-circuit': relay = true; break
      case 'quic-v1': case 'quic': tier = 'quic'; break
      case 'tcp': sawTcp = true; break
      case 'ws': case 'wss': case 'tls': if (sawTcp) tier = 'ws'; break
    }
  }
  if (tier === 'other' && sawTcp) tier = 'tcp'
  if (tier === 'other' && first?.name === 'memory') tier = 'tcp'
  return { tier, family, local, relay }
}

/** IPv4 loopback, RFC 1918, RFC 6598 (CGNAT), link-local, and 0.0.0.0/8. */
export function isLocal4 (v: string): boolean {
  const o = v.split('.').map(Number)
  const [a, b] = [o[0] ?? -1, o[1] ?? -1]
  return a === 127 || a === 10 || a === 0 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
}

/** IPv6 loopback, unspecified, unique local fc00::/7, link-local fe80::/10, and mapped local IPv4. */
export function isLocal6 (v: string): boolean {
  const s = v.toLowerCase()
  if (s === '::1' || s === '::') return true
  if (/^f[cd][0-9a-f]{0,2}:/.test(s)) return true
  if (/^fe[89ab][0-9a-f]?:/.test(s)) return true
  // IPv4-mapped (RFC 4291 2.5.5.2), dotted or as two hextets (`::ffff:a00:1` is 10.0.0.1).
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (dotted !== null) return isLocal4(dotted[1] as string)
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(s)
  if (hex === null) return false
  const hi = parseInt(hex[1] as string, 16)
  const lo = parseInt(hex[2] as string, 16)
  return isLocal4(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`)
}
