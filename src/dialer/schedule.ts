/**
 * The dial schedule (pure policy): which of a peer's addresses to dial, and how long
 * after the start of the dial each one may begin. A schedule, not a list: the working
 * address of a peer with dead ones starts within one step, wherever it stands, and a
 * dead address costs at most one step of delay, never its whole timeout.
 *
 * The shape is go-libp2p's `swarm/dial_ranker.go` ("happy eyeballs" across
 * transports, RFC 8305 across IP families); the code is ours:
 *
 * - Addresses are split into local (loopback, private), public, and relayed; local
 *   and public ones start at the same time, each with its own step (a local path
 *   answers in well under a millisecond, a public one in about one internet RTT).
 * - Within each, transports go in tiers, best first (`TIER_ORDER`: QUIC, TCP,
 *   WebSocket, other). In a tier the leader starts first (an address that worked
 *   last time, else IPv6 as RFC 8305 prefers), the first address of the other IP
 *   family one step later, the rest of the tier one step after that; the next tier
 *   begins one step after the last start of the previous one.
 * - Relayed addresses wait `relayDelay` when a direct address exists.
 * - Addresses backed off or filtered never reach the schedule (see `dialer.ts`).
 *
 * The dial machine starts the next entry at once when nothing is in flight, so the
 * delays only ever matter while an earlier attempt is still pending.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { DialOutcome } from '../interfaces/peer-store.js'
import { classifyAddress, TIER_ORDER, type AddressInfo } from './address-class.js'

export interface ScheduleConfig {
  /**
   * Between steps among local addresses, ms. Default 30 (go-libp2p's
   * PrivateTCPDelay/PrivateQUICDelay): a LAN or loopback handshake's first reply
   * takes well under that, so a live address is rarely raced needlessly.
   */
  localStepDelay: number
  /**
   * Between steps among public addresses, ms. Default 250: RFC 8305's
   * recommended "Connection Attempt Delay", about one internet round trip.
   */
  publicStepDelay: number
  /** Extra wait before relayed addresses when a direct one exists, ms. Default 500 (go-libp2p's RelayDelay). */
  relayDelay: number
  /**
   * Most addresses one dial tries. Default 25 (js-libp2p's maxPeerAddrsToDial): a
   * peer listing hundreds of addresses must not turn one dial into hundreds of
   * sockets.
   */
  maxAddresses: number
}

export const DEFAULT_SCHEDULE_CONFIG: Readonly<ScheduleConfig> = Object.freeze({
  localStepDelay: 30,
  publicStepDelay: 250,
  relayDelay: 500,
  maxAddresses: 25
})

/** An address to rank, with what we know of it. */
export interface DialCandidate {
  addr: Multiaddr
  /** Came in the peer's signed peer record (RFC 0003): preferred. */
  certified?: boolean
  lastDial?: DialOutcome
}

export interface ScheduledAddress {
  addr: Multiaddr
  /** Milliseconds after the dial starts at which this address may be dialed. */
  delay: number
  info: AddressInfo
}

interface Ranked extends DialCandidate {
  info: AddressInfo
  index: number
}

/** Ranks `candidates` into a schedule, sorted by delay (ties keep their rank order). */
export function scheduleDials (candidates: readonly DialCandidate[], config: ScheduleConfig = DEFAULT_SCHEDULE_CONFIG): ScheduledAddress[] {
  // One address (a dial of an address, the common case): nothing to rank.
  const only = candidates[0]
  if (candidates.length === 1 && only !== undefined) {
    return config.maxAddresses >= 1 ? [{ addr: only.addr, delay: 0, info: classifyAddress(only.addr) }] : []
  }
  const seen = new Set<string>()
  const local: Ranked[] = []
  const publicAddrs: Ranked[] = []
  const relayed: Ranked[] = []
  candidates.forEach((c, index) => {
    const key = c.addr.toString()
    if (seen.has(key)) return
    seen.add(key)
    const r: Ranked = { ...c, info: classifyAddress(c.addr), index }
    if (r.info.relay) relayed.push(r)
    else if (r.info.local) local.push(r)
    else publicAddrs.push(r)
  })
  const out: ScheduledAddress[] = [
    ...schedulePartition(local, 0, config.localStepDelay),
    ...schedulePartition(publicAddrs, 0, config.publicStepDelay),
    ...schedulePartition(relayed, local.length + publicAddrs.length > 0 ? config.relayDelay : 0, config.publicStepDelay)
  ]
  // Stable: Array#sort keeps the partition order for equal delays.
  out.sort((a, b) => a.delay - b.delay)
  return out.slice(0, Math.max(0, config.maxAddresses))
}

/** Schedules one partition, tier after tier, starting at `start` with `step` between steps. */
function schedulePartition (addrs: Ranked[], start: number, step: number): ScheduledAddress[] {
  const out: ScheduledAddress[] = []
  let t = start
  for (const tier of TIER_ORDER) {
    const inTier = addrs.filter((a) => a.info.tier === tier).sort(preference)
    if (inTier.length === 0) continue
    const last = scheduleTier(inTier, t, step, out)
    t = last + step
  }
  return out
}

/** Appends the tier's addresses to `out`; returns the delay of its last step. */
function scheduleTier (sorted: Ranked[], t: number, step: number, out: ScheduledAddress[]): number {
  const best = sorted[0] as Ranked
  const leader = best.lastDial?.ok === true ? best : (sorted.find((a) => a.info.family === 'ip6') ?? best)
  const otherFamily = leader.info.family === 'ip6' ? 'ip4' : leader.info.family === 'ip4' ? 'ip6' : undefined
  const second = otherFamily === undefined ? undefined : sorted.find((a) => a !== leader && a.info.family === otherFamily)
  push(out, leader, t)
  let last = t
  if (second !== undefined) {
    last = t + step
    push(out, second, last)
  }
  const rest = sorted.filter((a) => a !== leader && a !== second)
  if (rest.length > 0) {
    last += step
    for (const a of rest) push(out, a, last)
  }
  return last
}

function push (out: ScheduledAddress[], a: Ranked, delay: number): void {
  out.push({ addr: a.addr, delay, info: a.info })
}

/**
 * Order inside a tier: an address that worked last time first (most recent success
 * first), then those never tried, then those whose last dial failed (oldest failure
 * first); certified before uncertified; then the order we were given.
 */
function preference (a: Ranked, b: Ranked): number {
  return historyRank(a) - historyRank(b) ||
    (a.lastDial?.ok === true && b.lastDial?.ok === true ? b.lastDial.at - a.lastDial.at : 0) ||
    (a.lastDial?.ok === false && b.lastDial?.ok === false ? a.lastDial.at - b.lastDial.at : 0) ||
    Number(b.certified === true) - Number(a.certified === true) ||
    a.index - b.index
}

function historyRank (a: Ranked): number {
  if (a.lastDial === undefined) return 1
  return a.lastDial.ok ? 0 : 2
}
