/**
 * Peer store benchmarks (issue 9), medians of `runs` runs (GUIDE rule 11).
 *
 * In memory, lp2p next to js-libp2p 3's `@libp2p/peer-store` 12 (over datastore-core's
 * MemoryDatastore, as js-libp2p runs by default), alternating run by run, on a store
 * of `--ops-peers` peers with 4 addresses each: `get` of a known peer, adding one
 * address to a known peer, and consuming a fresh signed peer record (one Ed25519
 * verification each). js-libp2p's calls are async; each is awaited in turn, as its
 * identify and dialer do.
 *
 * At `--peers` peers (default 100 000) with 4 addresses each: the JS heap per peer
 * of lp2p's memory store; and the LevelDB store: the first write of every peer,
 * open (load everything) time, and the write-behind throughput after every peer
 * changed (a tag), peers/s.
 *
 * Run: node --import tsx bench/peer-store.ts [--runs 5] [--peers 100000] [--ops-peers 10000] [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, peerIdFromPrivateKey, type PeerId, type PrivateKey } from '../src/identity/index.js'
import { MemoryPeerStore } from '../src/peer-store/memory-peer-store.js'
import { PersistentPeerStore } from '../src/peer-store/persistent-peer-store.js'
import { createSignedPeerRecord } from '../src/record/peer-record.js'
import { median } from './lib/stats.js'

const args = process.argv.slice(2)
const flag = (name: string, full: number, quick: number): number => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : args.includes('--quick') ? quick : full
}
const RUNS = flag('--runs', 5, 2)
const PEERS = flag('--peers', 100_000, 10_000)
const OPS_PEERS = flag('--ops-peers', 10_000, 2_000)
const ADDRS = 4

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const now = (): number => performance.now()
const fmt = (n: number): string => n >= 100 ? n.toFixed(0).padStart(10) : n.toFixed(2).padStart(10)

interface Peer { key: PrivateKey, id: PeerId, addrs: Multiaddr[] }

function makePeers (n: number): Peer[] {
  const out: Peer[] = []
  for (let i = 0; i < n; i++) {
    const key = generateKeyPair('Ed25519')
    const addrs = Array.from({ length: ADDRS }, (_, k) => multiaddr(`/ip4/10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/tcp/${4001 + k}`))
    out.push({ key, id: peerIdFromPrivateKey(key), addrs })
  }
  return out
}

// --- js-libp2p's peer store --------------------------------------------------------

async function jsStore (): Promise<{ store: any, jsId: (p: Peer) => any }> {
  await import('../test/interop/polyfill.js')
  const { persistentPeerStore } = await import('@libp2p/peer-store')
  const { MemoryDatastore } = await import('datastore-core')
  const { TypedEventEmitter } = await import('main-event')
  const { defaultLogger } = await import('@libp2p/logger')
  const { peerIdFromString } = await import('@libp2p/peer-id')
  const self = peerIdFromString(peerIdFromPrivateKey(generateKeyPair('Ed25519')).toString())
  const store = persistentPeerStore({ peerId: self, datastore: new MemoryDatastore(), events: new TypedEventEmitter(), logger: defaultLogger() })
  const ids = new Map<Peer, unknown>()
  return { store, jsId: (p) => { let id = ids.get(p); if (id === undefined) { id = peerIdFromString(p.id.toString()); ids.set(p, id) } return id } }
}

// --- in-memory operations ----------------------------------------------------------

interface Pair { name: string, unit: string, ours: number[], js: number[] }
const pairs: Pair[] = []

async function inMemoryOps (): Promise<void> {
  const peers = makePeers(OPS_PEERS)
  const ours = new MemoryPeerStore({ maxPeers: OPS_PEERS * 2 })
  const js = await jsStore()
  for (const p of peers) {
    ours.addAddresses(p.id, p.addrs)
    await js.store.merge(js.jsId(p), { multiaddrs: p.addrs })
  }
  const records = peers.slice(0, 500)
  let seq = 1n
  const get: Pair = { name: 'get (known peer)', unit: 'ops/s', ours: [], js: [] }
  const add: Pair = { name: 'add one address (known peer)', unit: 'ops/s', ours: [], js: [] }
  const rec: Pair = { name: 'consumePeerRecord (Ed25519)', unit: 'ops/s', ours: [], js: [] }
  const extra = (i: number): Multiaddr => multiaddr(`/ip4/192.168.${(i >> 8) & 255}.${i & 255}/tcp/1`)
  const extras = Array.from({ length: 256 }, (_, i) => extra(i))
  for (let run = 0; run <= RUNS; run++) { // run 0 warms up and is not kept
    const keep = run > 0
    const N = OPS_PEERS * 20
    let t = now()
    for (let i = 0; i < N; i++) ours.get((peers[(i * 7919) % OPS_PEERS] as Peer).id)
    if (keep) get.ours.push(N / ((now() - t) / 1000))
    const NJ = Math.max(1000, OPS_PEERS)
    t = now()
    for (let i = 0; i < NJ; i++) await js.store.get(js.jsId(peers[(i * 7919) % OPS_PEERS] as Peer))
    if (keep) get.js.push(NJ / ((now() - t) / 1000))

    t = now()
    for (let i = 0; i < N; i++) ours.addAddresses((peers[i % OPS_PEERS] as Peer).id, [extras[i & 255] as Multiaddr])
    if (keep) add.ours.push(N / ((now() - t) / 1000))
    t = now()
    for (let i = 0; i < NJ; i++) await js.store.merge(js.jsId(peers[i % OPS_PEERS] as Peer), { multiaddrs: [extras[i & 255] as Multiaddr] })
    if (keep) add.js.push(NJ / ((now() - t) / 1000))

    const signed = records.map((p) => createSignedPeerRecord(p.key, p.addrs, seq++).bytes)
    t = now()
    for (let i = 0; i < signed.length; i++) ours.consumePeerRecord(signed[i] as Uint8Array, (records[i] as Peer).id)
    if (keep) rec.ours.push(signed.length / ((now() - t) / 1000))
    const signedJs = records.map((p) => createSignedPeerRecord(p.key, p.addrs, seq++).bytes)
    t = now()
    for (let i = 0; i < signedJs.length; i++) await js.store.consumePeerRecord(signedJs[i], { expectedPeer: js.jsId(records[i] as Peer) })
    if (keep) rec.js.push(signedJs.length / ((now() - t) / 1000))
  }
  pairs.push(get, add, rec)
  for (const p of pairs) {
    const ratios = p.ours.map((x, i) => x / (p.js[i] as number))
    console.log(`${p.name.padEnd(36)} lp2p ${fmt(median(p.ours))} ${p.unit}   js ${fmt(median(p.js))} ${p.unit}   ratio ${median(ratios).toFixed(1)}x`)
  }
}

// --- memory per peer, persistence --------------------------------------------------

/**
 * JS heap held by a memory store of `peers`, per peer. In a function of its own: a
 * store left in a stack slot of a loop stays reachable and spoils the next "before".
 */
function heapPerPeer (peers: Peer[]): [stored: number, read: number] {
  gc(); gc()
  const before = process.memoryUsage().heapUsed
  const store = new MemoryPeerStore({ maxPeers: peers.length })
  for (const p of peers) store.addAddresses(p.id, p.addrs)
  gc(); gc()
  const stored = process.memoryUsage().heapUsed
  // A read builds the peer's snapshot, kept until the next change.
  for (const p of peers) store.get(p.id)
  gc(); gc()
  const read = process.memoryUsage().heapUsed
  if (store.size !== peers.length) throw new Error('not every peer stored')
  return [(stored - before) / peers.length, (read - before) / peers.length]
}

async function atScale (): Promise<void> {
  const peers = makePeers(PEERS)
  // The multiaddrs' own lazily made text and bytes belong to them, not to the store.
  for (const p of peers) for (const a of p.addrs) { void a.toString(); void a.bytes }
  const heap: number[] = []; const heapRead: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const [stored, read] = heapPerPeer(peers)
    heap.push(stored)
    heapRead.push(read)
  }
  console.log(`${'memory store: JS heap per peer'.padEnd(36)} ${fmt(median(heap))} bytes   (${PEERS} peers, ${ADDRS} addresses each; ids and addresses held by the bench too, not counted)`)
  console.log(`${'  the same after a get() of each'.padEnd(36)} ${fmt(median(heapRead))} bytes   (snapshots kept until the next change)`)

  const first: number[] = []; const open: number[] = []; const behind: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'lp2p-bench-peerstore-'))
    try {
      let store = await PersistentPeerStore.open(dir, { maxPeers: PEERS, writeInterval: 3_600_000 })
      for (const p of peers) store.addAddresses(p.id, p.addrs)
      let t = now()
      await store.flush()
      first.push(PEERS / ((now() - t) / 1000))
      await store.close()
      gc()
      t = now()
      store = await PersistentPeerStore.open(dir, { maxPeers: PEERS, writeInterval: 3_600_000 })
      open.push(now() - t)
      if (store.size !== PEERS) throw new Error(`loaded ${store.size} of ${PEERS} peers`)
      for (const p of peers) store.tag(p.id, 'bench', run)
      t = now()
      await store.flush()
      behind.push(PEERS / ((now() - t) / 1000))
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  console.log(`${'LevelDB store: first write'.padEnd(36)} ${fmt(median(first))} peers/s`)
  console.log(`${'LevelDB store: open (load all)'.padEnd(36)} ${fmt(median(open))} ms      (${PEERS} peers; ${fmt(median(open) * 1000 / PEERS).trim()} us per peer)`)
  console.log(`${'LevelDB store: write-behind flush'.padEnd(36)} ${fmt(median(behind))} peers/s (every peer changed once)`)
}

console.log(`peer store: ${RUNS} runs, medians; ${OPS_PEERS} peers for the operations, ${PEERS} at scale; node ${process.version}`)
await inMemoryOps()
await atScale()
