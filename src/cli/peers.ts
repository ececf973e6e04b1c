/**
 * `lp2p peers`: what the data directory's peer store knows.
 *
 *   lp2p peers [--json]                 every peer: addresses (class, expiry, certified,
 *                                       last dial), protocols, agent, tags, last seen
 *   lp2p peers add PEER-ID MULTIADDR... permanent addresses (a bootstrap list)
 *   lp2p peers rm PEER-ID               forget a peer
 *   lp2p peers reset                    delete the whole store (the identity stays)
 */
import type { Command } from 'commander'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { codes, Lp2pError } from '../errors.js'
import { peerIdFromString } from '../identity/index.js'
import type { PeerId } from '../interfaces/keys.js'
import type { AddressRecord, Peer } from '../interfaces/peer-store.js'
import { PersistentPeerStore } from '../peer-store/persistent-peer-store.js'
import { peerIdOf, withoutPeerId } from '../dialer/target.js'
import { peerStorePath, type DataDirOptions } from './data-dir.js'
import { jsonLine } from './output.js'
import { openCliPeerStore } from './store.js'

/** "in 14 min", "3 s ago", "never" (pure). */
export function relative (at: number, now: number): string {
  if (!Number.isFinite(at)) return 'never'
  const d = at - now
  const a = Math.abs(d)
  const text = a < 1000 ? `${Math.round(a)} ms` : a < 120_000 ? `${Math.round(a / 1000)} s` : a < 7_200_000 ? `${Math.round(a / 60_000)} min` : a < 172_800_000 ? `${Math.round(a / 3_600_000)} h` : `${Math.round(a / 86_400_000)} d`
  return d >= 0 ? `in ${text}` : `${text} ago`
}

function addressLine (a: AddressRecord, now: number): string {
  const parts = [a.class, Number.isFinite(a.expires) ? `expires ${relative(a.expires, now)}` : 'no expiry']
  if (a.certified) parts.push('certified')
  if (a.lastDial !== undefined) {
    const d = a.lastDial
    parts.push(`last dial ${d.ok ? 'ok' : `failed${d.code !== undefined ? ` (${d.code})` : ''}`}${d.durationMs !== undefined ? ` in ${Math.round(d.durationMs)} ms` : ''} ${relative(d.at, now)}`)
  }
  return `  ${a.multiaddr.toString()}  ${parts.join(', ')}`
}

/** One peer as text lines (pure: the tests read it). */
export function formatPeer (p: Peer, now: number): string {
  const head = [p.id.toString()]
  if (p.agentVersion !== undefined) head.push(`agent ${p.agentVersion}`)
  head.push(`last seen ${p.lastSeen !== undefined ? relative(p.lastSeen, now) : 'never'}`)
  const lines = [head.join('  ')]
  for (const a of p.addresses) lines.push(addressLine(a, now))
  if (p.addresses.length === 0) lines.push('  (no address)')
  if (p.protocols.length > 0) lines.push(`  protocols: ${p.protocols.join(', ')}`)
  if (p.tags.size > 0) lines.push(`  tags: ${[...p.tags].map(([k, t]) => `${k}=${t.value}${t.expires !== undefined ? ` (expires ${relative(t.expires, now)})` : ''}`).join(', ')}`)
  return lines.join('\n')
}

/** One peer as a JSON value (pure). */
export function peerJson (p: Peer): Record<string, unknown> {
  return {
    peerId: p.id.toString(),
    addresses: p.addresses.map((a) => ({
      multiaddr: a.multiaddr.toString(),
      class: a.class,
      expires: Number.isFinite(a.expires) ? new Date(a.expires).toISOString() : null,
      certified: a.certified,
      ...(a.lastDial !== undefined ? { lastDial: { ...a.lastDial, at: new Date(a.lastDial.at).toISOString() } } : {})
    })),
    protocols: p.protocols,
    ...(p.agentVersion !== undefined ? { agentVersion: p.agentVersion } : {}),
    ...(p.protocolVersion !== undefined ? { protocolVersion: p.protocolVersion } : {}),
    tags: Object.fromEntries([...p.tags].map(([k, t]) => [k, { value: t.value, ...(t.expires !== undefined ? { expires: new Date(t.expires).toISOString() } : {}) }])),
    ...(p.lastSeen !== undefined ? { lastSeen: new Date(p.lastSeen).toISOString() } : {}),
    ...(p.peerRecordSeq !== undefined ? { peerRecordSeq: p.peerRecordSeq.toString() } : {})
  }
}

function parsePeer (text: string): PeerId {
  try {
    return peerIdFromString(text)
  } catch {
    throw new Lp2pError(codes.ERR_INVALID_PEER_ID, `${JSON.stringify(text)} is not a peer id`)
  }
}

/** An address for `peer`: a trailing /p2p/ must name that peer, and is dropped. */
function parseAddress (text: string, peer: PeerId): Multiaddr {
  let addr: Multiaddr
  try {
    addr = multiaddr(text)
  } catch (err) {
    throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `invalid multiaddr ${JSON.stringify(text)}: ${(err as Error).message}`)
  }
  const named = peerIdOf(addr)
  if (named !== undefined && !named.equals(peer)) {
    throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `${text} names peer ${named.toString()}, not ${peer.toString()}`)
  }
  return withoutPeerId(addr)
}

export function registerPeersCommand (program: Command): void {
  const peers = program.command('peers')
    .description('list, add and remove the peers the data directory\'s peer store knows')
    .option('-d, --data-dir <dir>', 'data directory (default: $LP2P_DATA_DIR or ~/.lp2p)')
    .option('--json', 'one JSON line per peer')
    .action(async (opts: DataDirOptions & { json?: boolean }) => {
      const store = await openCliPeerStore(opts, true)
      if (store === undefined) return
      try {
        const now = Date.now()
        const all = store.all().sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0))
        if (opts.json === true) {
          for (const p of all) jsonLine(peerJson(p))
        } else if (all.length === 0) {
          process.stdout.write(`no peers known (peer store: ${peerStorePath(opts)})\n`)
        } else {
          process.stdout.write(`${all.map((p) => formatPeer(p, now)).join('\n\n')}\n`)
        }
      } finally {
        await store.close()
      }
    })

  peers.command('add')
    .description('add permanent addresses for a peer (they never expire)')
    .argument('<peer-id>', 'the peer')
    .argument('<multiaddr...>', 'its addresses (a trailing /p2p/<peer-id> must name the same peer)')
    .option('-d, --data-dir <dir>', 'data directory (default: $LP2P_DATA_DIR or ~/.lp2p)')
    .action(async (peerText: string, addrs: string[], opts: DataDirOptions) => {
      const peer = parsePeer(peerText)
      const parsed = addrs.map((a) => parseAddress(a, peer))
      const store = await openCliPeerStore(opts, true) as PersistentPeerStore
      try {
        store.addAddresses(peer, parsed, { class: 'permanent' })
        process.stdout.write(`${formatPeer(store.get(peer) as Peer, Date.now())}\n`)
      } finally {
        await store.close()
      }
    })

  peers.command('rm')
    .description('forget a peer')
    .argument('<peer-id>', 'the peer')
    .option('-d, --data-dir <dir>', 'data directory (default: $LP2P_DATA_DIR or ~/.lp2p)')
    .action(async (peerText: string, opts: DataDirOptions) => {
      const peer = parsePeer(peerText)
      const store = await openCliPeerStore(opts, true) as PersistentPeerStore
      try {
        if (!store.has(peer)) throw new Lp2pError(codes.ERR_INVALID_ARG_VALUE, `${peer.toString()} is not in the peer store`)
        store.delete(peer)
        process.stdout.write(`removed ${peer.toString()}\n`)
      } finally {
        await store.close()
      }
    })

  peers.command('reset')
    .description('delete the peer store (a corrupt one included) and start fresh; the identity is kept')
    .option('-d, --data-dir <dir>', 'data directory (default: $LP2P_DATA_DIR or ~/.lp2p)')
    .action(async (opts: DataDirOptions) => {
      const path = peerStorePath(opts)
      await PersistentPeerStore.destroy(path)
      process.stdout.write(`deleted the peer store at ${path}\n`)
    })
}
