/**
 * IP addresses as numbers (pure): the source-address key of the limits model (an IPv4
 * address, or an IPv6 /64), and allow/deny lists of addresses and CIDR prefixes
 * (RFC 4632 for IPv4, RFC 4291 section 2.3 for IPv6 prefixes).
 */

interface Parsed {
  v6: boolean
  value: bigint
}

/** Parses an IPv4 or IPv6 address (IPv4-mapped IPv6 becomes IPv4); undefined if invalid. */
export function parseIp (ip: string): Parsed | undefined {
  if (isV4(ip)) return { v6: false, value: v4ToBigInt(ip) }
  if (!ip.includes(':') || ip.indexOf('::') !== ip.lastIndexOf('::')) return undefined
  const zone = ip.indexOf('%')
  const s = zone === -1 ? ip : ip.slice(0, zone)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s)
  if (mapped !== null) return { v6: false, value: v4ToBigInt(mapped[1] as string) }
  let head = s
  let tail = ''
  const dbl = s.indexOf('::')
  if (dbl !== -1) {
    head = s.slice(0, dbl)
    tail = s.slice(dbl + 2)
  }
  const parts = (x: string): string[] => (x === '' ? [] : x.split(':'))
  let groups = [...parts(head)]
  let tailGroups = parts(tail)
  // A trailing dotted IPv4 counts as two groups.
  const expand = (gs: string[]): string[] => gs.flatMap((g) => {
    if (!g.includes('.')) return [g]
    if (!isV4(g)) return ['x']
    const n = v4ToBigInt(g)
    return [(n >> 16n).toString(16), (n & 0xffffn).toString(16)]
  })
  groups = expand(groups)
  tailGroups = expand(tailGroups)
  const missing = 8 - groups.length - tailGroups.length
  const all = dbl === -1 ? groups : [...groups, ...Array<string>(missing).fill('0'), ...tailGroups]
  if (all.length !== 8 || (dbl !== -1 && missing < 1) || !all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined
  let value = 0n
  for (const g of all) value = (value << 16n) | BigInt(parseInt(g, 16))
  if (value >> 96n === 0n && (value >> 32n) === 0xffffn) return { v6: false, value: value & 0xffffffffn }
  return { v6: true, value }
}

function isV4 (ip: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip)
  return m !== null && m.slice(1).every((o) => Number(o) <= 255 && (o === '0' || !o.startsWith('0')))
}

function v4ToBigInt (ip: string): bigint {
  return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n)
}

/**
 * The key an address is counted under: the IPv4 address itself, or the IPv6 /64
 * (hosts commonly get a whole /64 and can pick any address in it). Unparsable input
 * is its own key.
 */
export function sourceKey (ip: string): string {
  const p = parseIp(ip)
  if (p === undefined) return ip
  if (!p.v6) return `ip4/${p.value.toString(16)}`
  return `ip6/${(p.value >> 64n).toString(16)}/64`
}

interface Prefix {
  v6: boolean
  value: bigint
  bits: number
}

/** A set of addresses and prefixes (`10.0.0.0/8`, `::1`, `2001:db8::/32`). */
export class IpSet {
  readonly #prefixes: Prefix[]

  /** Throws a RangeError naming the first entry that is neither an address nor a prefix. */
  constructor (entries: readonly string[]) {
    this.#prefixes = entries.map((e) => {
      const [addr, len] = e.split('/')
      const p = parseIp(addr ?? '')
      const max = p?.v6 === true ? 128 : 32
      // An IPv4 prefix written as mapped IPv6 (::ffff:10.0.0.0/104) keeps its IPv4 length.
      const bits = len === undefined ? max : Number(len) - (p !== undefined && !p.v6 && addr?.includes(':') === true ? 96 : 0)
      if (p === undefined || !Number.isInteger(bits) || bits < 0 || bits > max) {
        throw new RangeError(`not an IP address or CIDR prefix: ${JSON.stringify(e)}`)
      }
      return { v6: p.v6, bits, value: p.value >> BigInt(max - bits) }
    })
  }

  get size (): number {
    return this.#prefixes.length
  }

  has (ip: string): boolean {
    if (this.#prefixes.length === 0) return false
    const p = parseIp(ip)
    if (p === undefined) return false
    const max = p.v6 ? 128 : 32
    return this.#prefixes.some((x) => x.v6 === p.v6 && (p.value >> BigInt(max - x.bits)) === x.value)
  }
}
