/**
 * The one limits model of a node: what each scope may hold (`connections/README.md`,
 * "Connection Limits"; scopes after go-libp2p's resource manager, without its
 * configuration burden). Pure: machine facts (memory, file descriptors) are passed in
 * by the driver (`machine-limits.ts`).
 *
 * Scopes: the node; each peer; each protocol; each connection; each source address
 * (an IPv4 address, or an IPv6 /64: one host usually holds a whole /64).
 */

/** What one scope may hold. An absent field is no limit at that scope. */
export interface ScopeLimits {
  /** Open connections, both directions, still-upgrading ones included. */
  connections?: number
  inboundConnections?: number
  outboundConnections?: number
  /** Inbound connections still upgrading (handshake work strangers cause). */
  pendingInbound?: number
  /** Open streams, both directions. */
  streams?: number
  inboundStreams?: number
  outboundStreams?: number
  /** Bytes of muxer receive windows and buffers reserved. */
  memory?: number
}

/** Limits per source address of inbound connections. */
export interface AddressLimits {
  /** Inbound connections still upgrading from one address. */
  pendingInbound: number
  /** Inbound connections open (upgraded or not) from one address. */
  connections: number
  /** New inbound connections per second from one address (token bucket refill). */
  rate: number
  /** New inbound connections one address may open at once (token bucket size). */
  burst: number
  /**
   * An inbound connection that has sent nothing after this many ms is closed. A
   * silent socket holds a pending slot and a file descriptor; a real dialer writes
   * its first bytes within one round trip of connecting.
   */
  silentTimeout: number
  /**
   * Addresses or CIDR prefixes exempt from the per-address limits (not from the
   * node's). Default: loopback (`127.0.0.0/8`, `::1/128`), as go-libp2p exempts it:
   * local tools and benchmarks open many connections from one address.
   */
  allow: string[]
  /** Addresses or CIDR prefixes refused outright, before any handshake. */
  deny: string[]
}

export interface Limits {
  node: ScopeLimits
  peer: ScopeLimits
  /** Per protocol id, for streams; `default` applies to protocols not listed. */
  protocol: { default: ScopeLimits, [protocol: string]: ScopeLimits }
  connection: ScopeLimits
  address: AddressLimits
}

export type LimitsOptions = {
  [K in Exclude<keyof Limits, 'protocol' | 'address'>]?: ScopeLimits
} & {
  protocol?: { [protocol: string]: ScopeLimits }
  address?: Partial<AddressLimits>
}

/** What the defaults are derived from. */
export interface MachineFacts {
  /** Total memory, bytes. */
  totalMemory: number
  /** The process's soft limit on open file descriptors (RLIMIT_NOFILE). */
  fileDescriptors: number
}

/**
 * The defaults, from the machine:
 * - connections: half the file descriptors (the other half for everything else the
 *   process opens), at least 64, at most 100 000;
 * - memory for muxer windows and buffers: an eighth of total memory, at most 4 GiB;
 *   per connection 32 MiB (two streams at yamux's 16 MiB maximum window), per peer
 *   twice that;
 * - pending inbound upgrades: 64 for the node (each costs a Noise handshake, ~0.3 ms
 *   of CPU here), 8 per address;
 * - per address: 8 connections (go-libp2p caps a /32 at 8), a burst of 16 new
 *   connections, then one every 5 s (0.2/s: go-libp2p's defaults), 5 s of silence;
 * - streams: 1024 per connection (yamux's own default cap is 1024 too), 4096 per
 *   peer, and a quarter million for the node.
 */
export function defaultLimits (machine: MachineFacts): Limits {
  const connections = clamp(Math.floor(machine.fileDescriptors / 2), 64, 100_000)
  const memory = Math.min(Math.floor(machine.totalMemory / 8), 4 * 2 ** 30)
  return {
    node: { connections, pendingInbound: 64, streams: 262_144, memory },
    peer: { connections: 8, streams: 4096, memory: 64 * 2 ** 20 },
    protocol: { default: {} },
    connection: { streams: 1024, memory: 32 * 2 ** 20 },
    address: {
      pendingInbound: 8,
      connections: 8,
      rate: 0.2,
      burst: 16,
      silentTimeout: 5_000,
      allow: ['127.0.0.0/8', '::1/128'],
      deny: []
    }
  }
}

/** `defaultLimits` with the user's options laid over it, field by field. */
export function resolveLimits (machine: MachineFacts, options: LimitsOptions = {}): Limits {
  const d = defaultLimits(machine)
  const protocol: Limits['protocol'] = { default: { ...d.protocol.default } }
  for (const [p, l] of Object.entries(options.protocol ?? {})) protocol[p] = { ...(protocol[p] ?? {}), ...l }
  return {
    node: { ...d.node, ...options.node },
    peer: { ...d.peer, ...options.peer },
    protocol,
    connection: { ...d.connection, ...options.connection },
    address: { ...d.address, ...options.address }
  }
}

function clamp (n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, n))
}
