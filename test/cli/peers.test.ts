/**
 * The data directory's peer store through the CLI: lp2p peers (list, add, rm, reset),
 * a dial by peer id from stored addresses, what a ping teaches the store, a store in
 * use by a running node, and a corrupt store.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ensureStopped, firstLine, lp2p, run } from './lp2p-process.js'

interface PeerLine { peerId: string, addresses: Array<{ multiaddr: string, class: string, certified: boolean, lastDial?: { ok: boolean } }>, protocols: string[], agentVersion?: string }

const parse = (stdout: string): PeerLine[] => stdout.trim() === '' ? [] : stdout.trim().split('\n').map((l) => JSON.parse(l) as PeerLine)

describe('lp2p peers and the data directory\'s peer store', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lp2p-peers-'))
  const server = path.join(root, 'server')
  const client = path.join(root, 'client')
  after(() => { rmSync(root, { recursive: true, force: true }) })

  it('a ping by address teaches the store; a dial by peer id then uses it; peers lists what it knows', async () => {
    const listener = lp2p(['listen', '--json', '--listen', '/ip4/127.0.0.1/tcp/0'], { LP2P_DATA_DIR: server })
    try {
      const info = JSON.parse(await firstLine(listener)) as { peerId: string, multiaddrs: string[] }
      const env = { LP2P_DATA_DIR: client }
      const pinged = await run(['ping', info.multiaddrs[0] as string, '--count', '1', '--interval', '0'], env)
      assert.equal(pinged.code, 0, pinged.stderr)

      const dialed = await run(['dial', info.peerId, '--json'], env)
      assert.equal(dialed.code, 0, dialed.stderr)
      const steps = dialed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string, addresses?: Array<{ address: string }> })
      assert.equal(steps[0]?.type, 'scheduled')
      assert.ok(steps[0]?.addresses?.some((a) => `${a.address}/p2p/${info.peerId}` === info.multiaddrs[0]), 'the stored address was scheduled')
      assert.equal(steps.at(-1)?.type, 'connected')

      const listed = parse((await run(['peers', '--json'], env)).stdout)
      assert.equal(listed.length, 1)
      const peer = listed[0] as PeerLine
      assert.equal(peer.peerId, info.peerId)
      assert.ok(peer.protocols.includes('/ipfs/ping/1.0.0'))
      assert.match(peer.agentVersion ?? '', /^lp2p\//)
      const addr = peer.addresses.find((a) => `${a.multiaddr}/p2p/${info.peerId}` === info.multiaddrs[0])
      assert.equal(addr?.class, 'recently-connected')
      assert.equal(addr?.certified, true, 'from the signed peer record in identify')
      assert.equal(addr?.lastDial?.ok, true)

      // The listener holds its own store: lp2p peers on its data directory says so.
      const busy = await run(['peers'], { LP2P_DATA_DIR: server })
      assert.notEqual(busy.code, 0)
      assert.match(busy.stderr, /^lp2p: ERR_PEER_STORE_UNAVAILABLE: .* in use by another process .*lp2p listen/)
    } finally {
      await ensureStopped(listener)
    }
    // Stopped: the clients reached it inbound, from ephemeral ports and with no listen
    // address of their own; a peer with no address to dial is not kept across a restart.
    const known = parse((await run(['peers', '--json'], { LP2P_DATA_DIR: server })).stdout)
    assert.deepEqual(known.flatMap((p) => p.addresses), [])
  })

  it('add, rm and reset; bad input gets coded errors', async () => {
    const dir = path.join(root, 'edit')
    const env = { LP2P_DATA_DIR: dir }
    const id = '12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp'
    const added = await run(['peers', 'add', id, '/ip4/10.0.0.1/tcp/4001', `/ip4/10.0.0.2/tcp/4001/p2p/${id}`], env)
    assert.equal(added.code, 0, added.stderr)
    const listed = parse((await run(['peers', '--json'], env)).stdout)
    assert.deepEqual(listed[0]?.addresses.map((a) => [a.multiaddr, a.class]), [['/ip4/10.0.0.1/tcp/4001', 'permanent'], ['/ip4/10.0.0.2/tcp/4001', 'permanent']])

    const other = await run(['peers', 'add', id, '/ip4/10.0.0.3/tcp/1/p2p/12D3KooWRm7kQjxFxS1R2wXbHtLmZhCZTe4qUJhu3wYv8sUmYhFd'], env)
    assert.match(other.stderr, /^lp2p: ERR_INVALID_MULTIADDR: .* names peer 12D3KooWRm7k/)
    assert.match((await run(['peers', 'add', 'nope', '/ip4/1.2.3.4/tcp/1'], env)).stderr, /^lp2p: ERR_INVALID_PEER_ID/)

    assert.equal((await run(['peers', 'rm', id], env)).code, 0)
    assert.deepEqual(parse((await run(['peers', '--json'], env)).stdout), [])
    assert.match((await run(['peers', 'rm', id], env)).stderr, /^lp2p: ERR_INVALID_ARG_VALUE: .* is not in the peer store/)
  })

  it('a corrupt store is an error naming its folder and the way out; reset starts fresh and keeps the identity', async () => {
    const dir = path.join(root, 'corrupt')
    const env = { LP2P_DATA_DIR: dir }
    const made = await run(['id', '--init', '--json'], env)
    assert.equal(made.code, 0, made.stderr)
    assert.equal((await run(['peers', 'add', '12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp', '/ip4/10.0.0.1/tcp/1'], env)).code, 0)
    const store = path.join(dir, 'peerstore')
    const manifest = readdirSync(store).find((f) => f.startsWith('MANIFEST-')) as string
    writeFileSync(path.join(store, 'CURRENT'), `${manifest.replace(/\d+$/, '999999')}\n`)
    const broken = await run(['listen', '--listen', '/ip4/127.0.0.1/tcp/0'], env)
    assert.notEqual(broken.code, 0)
    assert.match(broken.stderr, new RegExp(`^lp2p: ERR_PEER_STORE_CORRUPT: .*${store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*lp2p peers reset`))

    assert.equal((await run(['peers', 'reset'], env)).code, 0)
    assert.deepEqual(parse((await run(['peers', '--json'], env)).stdout), [])
    const shown = await run(['id', '--json'], env)
    assert.equal((JSON.parse(shown.stdout) as { peerId: string }).peerId, (JSON.parse(made.stdout) as { peerId: string }).peerId, 'the identity is kept')
  })
})
