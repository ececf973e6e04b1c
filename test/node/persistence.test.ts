/**
 * A node with the LevelDB peer store: what it learned comes back after a restart, and
 * it dials a peer by id from those addresses alone.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../../src/node.js'
import { tcp } from '../../src/transport/tcp.js'
import { PersistentPeerStore } from '../../src/peer-store/persistent-peer-store.js'
import type { PeerUpdateEvent } from '../../src/interfaces/peer-store.js'

describe('node with a persistent peer store', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lp2p-node-store-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('remembers a peer across a restart and dials it by peer id; peer:update reports what changed', async () => {
    const b = createNode({ transports: [tcp()], listen: ['/ip4/127.0.0.1/tcp/0'] })
    await b.start()
    try {
      const a1 = createNode({ transports: [tcp()], peerStore: await PersistentPeerStore.open(dir) })
      await a1.start()
      const updates: PeerUpdateEvent[] = []
      a1.on('peer:update', (e) => { updates.push(e) })
      const conn = await a1.dial(b.getMultiaddrs()[0] as Multiaddr)
      await a1.identify(conn)
      assert.ok(updates.some((u) => u.peer.id.equals(b.peerId) && u.peer.addresses.some((x) => x.class === 'connected')), 'connected address reported')
      assert.ok(updates.some((u) => u.peer.protocols.includes('/ipfs/ping/1.0.0')), 'identify reported')
      await a1.stop()

      const store = await PersistentPeerStore.open(dir)
      const back = store.get(b.peerId)
      assert.ok(back !== undefined)
      assert.ok(back.addresses.some((x) => x.class === 'recently-connected' && x.lastDial?.ok === true), JSON.stringify(back.addresses.map((x) => x.class)))
      assert.ok(back.protocols.includes('/ipfs/ping/1.0.0'))
      const a2 = createNode({ transports: [tcp()], peerStore: store })
      await a2.start()
      try {
        const again = await a2.dial(b.peerId)
        assert.ok(again.remotePeer.equals(b.peerId))
        assert.ok(await a2.ping(b.peerId) >= 0)
      } finally {
        await a2.stop()
      }
    } finally {
      await b.stop()
    }
  })
})
