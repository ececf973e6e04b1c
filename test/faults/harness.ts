/**
 * The fault suite's setup: a faulty link between two network namespaces
 * (`bench/netem/`), one peer process in each (`peer.ts`), and the figures each
 * scenario prints.
 *
 * The link is the reference path: 10 ms one way (20 ms RTT), 200 Mbit/s, a
 * 1 MiB queue (2 x the bandwidth-delay product). Namespaces and devices are named
 * with `LP2P_NETNS_PREFIX` (default `rob-`, at most 6 characters) and the pid, and are
 * removed at the end, on failure and on SIGINT/SIGTERM.
 *
 * Without root, `ip` or a C compiler the suite is skipped, and the reason is printed.
 */
import { execFileSync } from 'node:child_process'
import { after, before } from 'node:test'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { createFaultLink, LISTENER_IP, unavailable, type FaultLink, type Faults } from '../../bench/netem/link.js'
import { PeerProcess } from '../../bench/lib/peer-process.js'
import type { CloseEvent, EchoResult, NodeConfig } from './peer.js'

export { LISTENER_IP }
export type { CloseEvent, EchoResult, NodeConfig }

export const MiB = 1024 * 1024
const PEER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peer.ts')
const PREFIX = process.env.LP2P_NETNS_PREFIX ?? 'rob-'

/** The reference path of the issue: 20 ms RTT, 200 Mbit/s. */
export const REFERENCE_LINK: Faults = { delayMs: 10, rateMbit: 200, queueBytes: MiB, loss: 0, reorder: 0, duplicate: 0 }

/** Why the suite cannot run here (printed), or undefined. */
export const SKIP: string | undefined = unavailable()
if (SKIP !== undefined) console.log(`# faults: skipped: ${SKIP}`)

export function figures (scenario: string, values: Record<string, unknown>): void {
  const parts = Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toFixed(2)) : String(v)}`)
  console.log(`# faults: ${scenario}: ${parts.join(' ')}`)
}

export interface Pair {
  listener: PeerProcess
  dialer: PeerProcess
  /** The listener's lp2p address (with /p2p) and its plain TCP echo port. */
  addr: string
  tcpPort: number
  peerId: string
}

/** The link of one describe block: created before its tests, torn down after. */
export function useLink (faults: Faults = REFERENCE_LINK): { readonly link: FaultLink } {
  const holder: { link: FaultLink | undefined } = { link: undefined }
  before(async () => { holder.link = await createFaultLink(faults, PREFIX) })
  after(() => { holder.link?.teardown() })
  return {
    get link () {
      if (holder.link === undefined) throw new Error('the link is not up')
      return holder.link
    }
  }
}

export async function startListener (link: FaultLink, config: NodeConfig = {}): Promise<{ peer: PeerProcess, addr: string, tcpPort: number, peerId: string }> {
  const peer = await PeerProcess.start({ impl: 'lp2p', label: 'faults-listener', netns: link.listenerNs, script: PEER })
  const l = await peer.call<{ addrs: string[], tcpPort: number, peerId: string }>('listen', { listen: `/ip4/${LISTENER_IP}/tcp/0`, ...config })
  const addr = l.addrs.find((a) => a.includes(LISTENER_IP))
  if (addr === undefined) throw new Error(`listener has no address on ${LISTENER_IP}: ${l.addrs.join(', ')}`)
  return { peer, addr: addr.includes('/p2p/') ? addr : `${addr}/p2p/${l.peerId}`, tcpPort: l.tcpPort, peerId: l.peerId }
}

export async function startDialer (link: FaultLink, config: NodeConfig = {}): Promise<PeerProcess> {
  const peer = await PeerProcess.start({ impl: 'lp2p', label: 'faults-dialer', netns: link.dialerNs, script: PEER })
  await peer.call('dialer', config)
  return peer
}

export async function startPair (link: FaultLink, listener: NodeConfig = {}, dialer: NodeConfig = {}): Promise<Pair> {
  const l = await startListener(link, listener)
  const d = await startDialer(link, dialer)
  return { listener: l.peer, dialer: d, addr: l.addr, tcpPort: l.tcpPort, peerId: l.peerId }
}

/**
 * Stops the peer's node and waits for its process to exit by itself (nothing left
 * holding its event loop: no socket, server or ref'd timer). Returns what Node still
 * counted as active right after the stop, and how long the exit took.
 */
export async function stopAndExit (peer: PeerProcess, ms = 10_000): Promise<{ resources: string[], exitMs: number, exited: boolean }> {
  const { resources } = await peer.call<{ resources: string[] }>('stop', {}, ms)
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const exited = await Promise.race([
    peer.exited().then(() => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false) }, ms) })
  ])
  clearTimeout(timer)
  if (!exited) peer.kill()
  return { resources, exitMs: performance.now() - started, exited }
}

/**
 * Destroys every TCP socket left in a namespace (`ss -K`), as a reboot would: the
 * sockets of a killed process linger in the kernel and would resend its FIN once the
 * path heals, which is not the half-open connection a restarted host leaves.
 */
export function forgetTcpState (ns: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'ss', '-K', '-t', '-a'], { stdio: 'ignore' })
}

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Waits until `cond()` resolves true, polling every 100 ms, for at most `ms`. */
export async function waitFor (cond: () => Promise<boolean>, ms: number, what: string): Promise<number> {
  const started = performance.now()
  while (!(await cond())) {
    if (performance.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(100)
  }
  return performance.now() - started
}
