/**
 * Address ranking for dials (pure policy, in the spirit of go-libp2p's dial ranker):
 * which of a peer's addresses to try first. Lower rank first; ties keep their order.
 *
 * Loopback, then private (RFC 1918, RFC 4193 unique-local, link-local), then public
 * IP addresses, then DNS names (they cost a lookup first). IPv4 before IPv6 within a
 * class: IPv6 paths fail more often in practice and fail slowly. Within a class, QUIC
 * before TCP before WebSocket: QUIC reaches the first response byte in two round
 * trips, TCP + Noise in three (go-libp2p and rust-libp2p dial QUIC first too).
 */
import type { Multiaddr } from '@multiformats/multiaddr'

export function rankAddress (addr: Multiaddr): number {
  const first = addr.getComponents()[0]
  if (first === undefined) return 100
  const v = first.value ?? ''
  switch (first.name) {
    case 'ip4':
      if (v.startsWith('127.')) return 0
      if (isPrivate4(v)) return 10
      return 20
    case 'ip6':
      if (v === '::1') return 1
      if (/^f[cd]/i.test(v) || /^fe[89ab]/i.test(v)) return 11
      return 21
    case 'dns':
    case 'dns4':
    case 'dns6':
      return v === 'localhost' ? 2 : 30
    case 'memory':
      return 0
    default:
      return 50
  }
}

function isPrivate4 (v: string): boolean {
  if (v.startsWith('10.') || v.startsWith('192.168.') || v.startsWith('169.254.')) return true
  const m = /^172\.(\d+)\./.exec(v)
  return m !== null && Number(m[1]) >= 16 && Number(m[1]) <= 31
}

/** Transport preference within an address class: lower first. */
export function rankTransport (addr: Multiaddr): number {
  const names = addr.getComponents().map((c) => c.name)
  if (names.includes('quic-v1')) return 0
  if (names.includes('ws') || names.includes('wss') || names.includes('tls')) return 2
  if (names.includes('tcp')) return 1
  return 3
}

/** Sorts a copy of `addrs` by rank (stable), dropping duplicates. */
export function rankAddresses (addrs: readonly Multiaddr[]): Multiaddr[] {
  const seen = new Set<string>()
  const unique = addrs.filter((a) => {
    const k = a.toString()
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
  return unique
    .map((a, i) => ({ a, i, r: rankAddress(a), t: rankTransport(a) }))
    .sort((x, y) => x.r - y.r || x.t - y.t || x.i - y.i)
    .map((x) => x.a)
}
