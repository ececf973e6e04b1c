/**
 * The LevelDB peer store: a restart restores peers and their unexpired addresses,
 * writes are coalesced and written behind, bounds delete on disk, a process killed
 * with SIGKILL during a burst of writes leaves a store that opens, and a corrupt or
 * foreign store is a clear typed error naming its path, after which `destroy` and a
 * fresh start work without touching anything else in the data directory.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { isLp2pError } from '../../src/errors.js'
import { generateKeyPair, peerIdFromPublicKey, peerIdFromString } from '../../src/identity/index.js'
import { PersistentPeerStore, type PersistentPeerStoreOptions } from '../../src/peer-store/persistent-peer-store.js'
import { createSignedPeerRecord } from '../../src/record/peer-record.js'
import { addr, Clock, describeAddrs, MIN, newPeer } from './helpers.js'

const root = mkdtempSync(join(tmpdir(), 'lp2p-peerstore-test-'))
after(() => { rmSync(root, { recursive: true, force: true }) })
let n = 0
const freshDir = (): string => join(root, `store-${++n}`)

async function reopen (dir: string, clock: Clock, options: PersistentPeerStoreOptions = {}): Promise<PersistentPeerStore> {
  return await PersistentPeerStore.open(dir, { now: clock.now, ...options })
}

function expectCode (err: unknown, code: string, dir?: string): void {
  assert.ok(isLp2pError(err, code as 'ERR_PEER_STORE_CORRUPT'), `expected ${code}, got ${String(err)}`)
  if (dir !== undefined) assert.ok(err.message.includes(dir), `the message names the path: ${err.message}`)
}

describe('persistent peer store: restart', () => {
  it('restores peers and everything they hold that has not expired; connected addresses come back recently connected', async () => {
    const dir = freshDir()
    const clock = new Clock()
    const a = await reopen(dir, clock)
    const { key, id } = newPeer()
    const rsa = generateKeyPair('RSA')
    const rsaId = peerIdFromString(peerIdFromPublicKey(rsa.publicKey).toString())
    const record = createSignedPeerRecord(key, [addr(5)], 42n)
    a.consumePeerRecord(record.bytes, id)
    a.addAddresses(id, [addr(1)], { class: 'temporary' })
    a.addAddresses(id, [addr(2)], { class: 'permanent' })
    a.connected(id, addr(3))
    a.recordDial(id, addr(2), { at: clock.t, ok: false, code: 'ERR_TIMEOUT', durationMs: 12.5 })
    a.patch(id, { protocols: ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'], agentVersion: 'go-libp2p/0.51', protocolVersion: 'ipfs/0.1.0' })
    a.setMetadata(id, 'score', Uint8Array.of(1, 2, 3))
    a.tag(id, 'keep', -1.5)
    a.tag(id, 'brief', 3, { ttl: MIN })
    a.patch(rsaId, { publicKey: rsa.publicKey })
    a.addAddresses(rsaId, [addr(9)])
    await a.close()

    clock.advance(30 * MIN)
    const b = await reopen(dir, clock)
    assert.equal(b.size, 2)
    const peer = b.get(id)
    assert.deepEqual(describeAddrs(peer), [
      '/ip4/10.0.0.5/tcp/4001 default certified', '/ip4/10.0.0.2/tcp/4001 permanent', '/ip4/10.0.0.3/tcp/4001 recently-connected'
    ], 'the temporary address expired; the connected one is recently connected')
    assert.equal(peer?.addresses[2]?.expires, clock.t + 15 * MIN, 'recently connected from the restart')
    assert.deepEqual(peer?.addresses[1]?.lastDial, { at: clock.t - 30 * MIN, ok: false, code: 'ERR_TIMEOUT', durationMs: 12.5 })
    assert.deepEqual(peer?.protocols, ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'])
    assert.equal(peer?.agentVersion, 'go-libp2p/0.51')
    assert.equal(peer?.protocolVersion, 'ipfs/0.1.0')
    assert.deepEqual(peer?.metadata.get('score'), Uint8Array.of(1, 2, 3))
    assert.deepEqual([...peer?.tags ?? []], [['keep', { value: -1.5 }]], 'the expired tag is gone')
    assert.deepEqual(peer?.peerRecordEnvelope, record.bytes)
    assert.equal(peer?.peerRecordSeq, 42n)
    assert.equal(peer?.lastSeen, clock.t - 30 * MIN)
    assert.ok(b.get(rsaId)?.publicKey?.equals(rsa.publicKey), 'an RSA key is stored (the id does not inline it)')
    // The record's seq survived: an older record is still refused after the restart.
    assert.equal(b.consumePeerRecord(createSignedPeerRecord(key, [addr(6)], 41n).bytes).accepted, false)
    await b.close()
  })

  it('a peer left with nothing at the restart is not loaded, and is deleted on disk', async () => {
    const dir = freshDir()
    const clock = new Clock()
    const a = await reopen(dir, clock)
    const { id } = newPeer()
    a.addAddresses(id, [addr(1)], { class: 'temporary' })
    a.addAddresses(newPeer().id, [addr(2)])
    await a.close()
    clock.advance(5 * MIN)
    const b = await reopen(dir, clock)
    assert.equal(b.has(id), false)
    assert.equal(b.size, 1)
    await b.close()
    clock.t -= 5 * MIN // even with the clock back, it is gone from disk
    const c = await reopen(dir, clock)
    assert.equal(c.has(id), false)
    await c.close()
  })
})

describe('persistent peer store: writing behind', () => {
  it('coalesces writes per peer, writes them after the interval, and flush() writes now', async () => {
    const dir = freshDir()
    const store = await PersistentPeerStore.open(dir, { writeInterval: 60_000 })
    const peers = [newPeer().id, newPeer().id, newPeer().id]
    for (let i = 0; i < 300; i++) store.addAddresses(peers[i % 3] as typeof peers[0], [addr(i % 50)])
    assert.equal(store.pendingWrites, 3, 'one pending write per peer, whatever the number of changes')
    await store.flush()
    assert.equal(store.pendingWrites, 0)
    await store.close()

    const timed = await PersistentPeerStore.open(dir, { writeInterval: 20 })
    timed.tag(peers[0] as typeof peers[0], 't', 1)
    assert.equal(timed.pendingWrites, 1)
    const deadline = Date.now() + 5000
    while (timed.pendingWrites > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(timed.pendingWrites, 0, 'written by the timer')
    await timed.close()
    timed.tag(peers[1] as typeof peers[0], 't', 1) // after close: memory only, no throw
    assert.equal(timed.get(peers[1] as typeof peers[0])?.tags.get('t')?.value, 1)

    const again = await PersistentPeerStore.open(dir)
    assert.equal(again.size, 3)
    assert.equal(again.get(peers[0] as typeof peers[0])?.tags.get('t')?.value, 1)
    assert.equal(again.get(peers[1] as typeof peers[0])?.tags.size, 0, 'the write after close was not persisted')
    await again.close()
  })

  it('evicted peers, gc-collected peers and deleted peers are deleted on disk; a lower bound applies on load', async () => {
    const dir = freshDir()
    const clock = new Clock()
    const a = await reopen(dir, clock, { maxPeers: 3 })
    const ids = Array.from({ length: 4 }, () => newPeer().id)
    ids.forEach((id, i) => { clock.advance(1); a.addAddresses(id, [addr(i)]) })
    assert.equal(a.has(ids[0] as typeof ids[0]), false, 'evicted')
    a.delete(ids[1] as typeof ids[0])
    await a.close()
    const b = await reopen(dir, clock, { maxPeers: 100 })
    assert.deepEqual(ids.map((id) => b.has(id)), [false, false, true, true])
    b.addAddresses(ids[0] as typeof ids[0], [addr(9)], { class: 'temporary' })
    clock.advance(3 * MIN)
    assert.equal(b.gc(), 1)
    await b.close()
    const c = await reopen(dir, clock, { maxPeers: 1 })
    assert.equal(c.size, 1, 'a lowered bound evicts on load')
    await c.close()
    const d = await reopen(dir, clock, { maxPeers: 100 })
    assert.equal(d.size, 1, 'and what it evicted is gone from disk')
    await d.close()
  })
})

describe('persistent peer store: crash, corruption, starting fresh', () => {
  it('a process killed with SIGKILL during a burst of writes: the next open loads without error', async () => {
    const dir = freshDir()
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'burst-writer.ts'), dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stderr.on('data', (c: Buffer) => { err += c.toString() })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`the writer did not get going: ${err}`)) }, 30_000)
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString()
        // Well into the burst: several rounds written behind, more pending.
        if ((out.match(/round/g) ?? []).length >= 3) { clearTimeout(timer); resolve() }
      })
    })
    child.kill('SIGKILL')
    assert.equal(await exited, null)
    const store = await PersistentPeerStore.open(dir)
    assert.equal(store.size, 200, 'every peer of the first flushed burst is there')
    for (const peer of store.all()) assert.ok(peer.addresses.length > 0 && peer.addresses.length <= 64)
    await store.close()
  })

  it('garbage in a stored value: ERR_PEER_STORE_CORRUPT naming the path; destroy() then a fresh start works', async () => {
    const dir = freshDir()
    const a = await PersistentPeerStore.open(dir)
    const { id } = newPeer()
    a.addAddresses(id, [addr(1)])
    await a.close()
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    await db.put(Uint8Array.of(0x70, ...id.bytes), Uint8Array.from(Buffer.from('not a protobuf of a peer at all')))
    await db.close()
    await assert.rejects(PersistentPeerStore.open(dir), (e) => { expectCode(e, 'ERR_PEER_STORE_CORRUPT', dir); return true })
    await PersistentPeerStore.destroy(dir)
    const fresh = await PersistentPeerStore.open(dir)
    assert.equal(fresh.size, 0)
    await fresh.close()
  })

  it('a broken LevelDB file (CURRENT, MANIFEST): ERR_PEER_STORE_CORRUPT naming the path; destroy() then a fresh start works', async () => {
    for (const breakIt of [
      (dir: string) => { writeFileSync(join(dir, 'CURRENT'), Buffer.from([0xde, 0xad, 0xbe, 0xef])) },
      (dir: string) => { for (const f of readdirSync(dir)) if (f.startsWith('MANIFEST-')) writeFileSync(join(dir, f), Buffer.alloc(100, 0xff)) }
    ]) {
      const dir = freshDir()
      const a = await PersistentPeerStore.open(dir)
      a.addAddresses(newPeer().id, [addr(1)])
      await a.close()
      breakIt(dir)
      await assert.rejects(PersistentPeerStore.open(dir), (e) => { expectCode(e, 'ERR_PEER_STORE_CORRUPT', dir); return true })
      await PersistentPeerStore.destroy(dir)
      const fresh = await PersistentPeerStore.open(dir)
      assert.equal(fresh.size, 0)
      await fresh.close()
    }
  })

  it('another LevelDB database, or another format: ERR_PEER_STORE_CORRUPT', async () => {
    const dir = freshDir()
    const db = new ClassicLevel(dir)
    await db.put('some', 'data')
    await db.close()
    await assert.rejects(PersistentPeerStore.open(dir), (e) => { expectCode(e, 'ERR_PEER_STORE_CORRUPT', dir); return true })
    const dir2 = freshDir()
    await (await PersistentPeerStore.open(dir2)).close()
    const db2 = new ClassicLevel(dir2)
    await db2.put('\0format', 'lp2p-peerstore/99')
    await db2.close()
    await assert.rejects(PersistentPeerStore.open(dir2), (e) => { expectCode(e, 'ERR_PEER_STORE_CORRUPT', dir2); return true })
  })

  it('a store open elsewhere: ERR_PEER_STORE_UNAVAILABLE, and destroy() refuses it', async () => {
    const dir = freshDir()
    const a = await PersistentPeerStore.open(dir)
    await assert.rejects(PersistentPeerStore.open(dir), (e) => { expectCode(e, 'ERR_PEER_STORE_UNAVAILABLE', dir); return true })
    await assert.rejects(PersistentPeerStore.destroy(dir), (e) => { expectCode(e, 'ERR_PEER_STORE_UNAVAILABLE', dir); return true })
    await a.close()
  })

  it('destroy() deletes only a LevelDB folder: the data directory and its identity file are refused and kept', async () => {
    const data = freshDir()
    const store = join(data, 'peerstore')
    await (await PersistentPeerStore.open(store)).close()
    writeFileSync(join(data, 'identity.json'), '{"secret":"kept"}')
    await assert.rejects(PersistentPeerStore.destroy(data), (e) => { expectCode(e, 'ERR_PEER_STORE_UNAVAILABLE', data); return true })
    assert.equal(readFileSync(join(data, 'identity.json'), 'utf8'), '{"secret":"kept"}')
    await PersistentPeerStore.destroy(store)
    assert.equal(existsSync(store), false)
    assert.equal(readFileSync(join(data, 'identity.json'), 'utf8'), '{"secret":"kept"}')
    await PersistentPeerStore.destroy(join(data, 'never-created'))
  })

  it('creates its folder with mode 0700', async () => {
    const dir = join(freshDir(), 'nested', 'peerstore')
    await (await PersistentPeerStore.open(dir)).close()
    const { statSync } = await import('node:fs')
    assert.equal(statSync(dir).mode & 0o777, 0o700)
  })
})
