/**
 * The dialer against real sockets on loopback: dead addresses (closed ports,
 * listeners that accept and stall), joined dials, callers that all abort.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createNode, type Lp2pNode } from '../../src/node.js'
import { tcp } from '../../src/transport/tcp.js'
import { codes, DialError, isLp2pError } from '../../src/errors.js'
import type { PeerId } from '../../src/interfaces/keys.js'
import type { DialProgress } from '../../src/dialer/dialer.js'
import type { NodeOptions } from '../../src/node-options.js'
import { sleep } from '../helpers/hostile.js'

/** A TCP server that accepts and never answers; counts the sockets still open on it. */
async function stalledListener (): Promise<{ addr: string, open: () => number, close: () => void }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    s.resume() // reads (and drops) what the dialer sends, so it sees the dialer's FIN
  })
  // On every interface: dials of 127.0.0.2, 127.0.0.3, ... reach it as distinct addresses.
  server.listen(0, '0.0.0.0')
  await once(server, 'listening')
  return {
    addr: `/ip4/127.0.0.1/tcp/${(server.address() as net.AddressInfo).port}`,
    open: () => sockets.size,
    close: () => { for (const s of sockets) s.destroy(); server.close() }
  }
}

/** A port nothing listens on (bound, then released). */
async function closedPort (): Promise<string> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  server.close()
  await once(server, 'close')
  return `/ip4/127.0.0.1/tcp/${port}`
}

async function tcpNode (options: NodeOptions = {}): Promise<Lp2pNode> {
  const node = createNode({ transports: [tcp()], listen: ['/ip4/127.0.0.1/tcp/0'], ...options })
  await node.start()
  return node
}

/** Stores addresses for `peer` in the node's peer store, as a user (or identify) would. */
async function remember (node: Lp2pNode, peer: PeerId, addrs: string[]): Promise<void> {
  node.peerStore.addAddresses(peer, addrs.map((a) => multiaddr(a)), { class: 'permanent' })
}

const listenAddr = (n: Lp2pNode): string => (n.getMultiaddrs()[0] as Multiaddr).toString().replace(/\/p2p\/.*$/, '')

describe('dialer on loopback', () => {
  let target: Lp2pNode
  const stalled: Array<Awaited<ReturnType<typeof stalledListener>>> = []
  const closed: string[] = []

  before(async () => {
    target = await tcpNode()
    for (let i = 0; i < 2; i++) stalled.push(await stalledListener())
    for (let i = 0; i < 2; i++) closed.push(await closedPort())
  })
  after(async () => {
    await target.stop()
    for (const s of stalled) s.close()
  })

  for (let position = 0; position < 5; position++) {
    it(`five addresses, four dead: connects within one step of the working one (working address at position ${position + 1})`, async () => {
      const dead = [stalled[0]?.addr, closed[0], stalled[1]?.addr, closed[1]] as string[]
      const addrs = [...dead]
      addrs.splice(position, 0, listenAddr(target))
      const node = await tcpNode({ dialer: { dialTimeout: 3000 } })
      try {
        await remember(node, target.peerId, addrs)
        const events: DialProgress[] = []
        const t0 = performance.now()
        const conn = await node.dial(target.peerId, { onProgress: (e) => { events.push(e) } })
        const ms = performance.now() - t0
        assert.ok(conn.remotePeer.equals(target.peerId))
        const connected = events.find((e) => e.type === 'connected')
        assert.equal(connected?.type === 'connected' ? connected.addr.toString() : '', listenAddr(target))
        // The working address is scheduled within the first step (loopback steps are
        // 30 ms), and starts before any dead address has had to time out.
        const scheduled = events.find((e) => e.type === 'scheduled')
        const delay = scheduled?.type === 'scheduled' ? scheduled.addresses.find((a) => a.addr.toString() === listenAddr(target))?.delay : undefined
        assert.ok(delay !== undefined && delay <= 30, `scheduled at ${String(delay)} ms`)
        const startedAt = events.findIndex((e) => e.type === 'attempt' && e.addr.toString() === listenAddr(target))
        assert.ok(startedAt !== -1)
        assert.ok(!events.slice(0, startedAt).some((e) => e.type === 'attempt-failed' && e.reason === 'timeout'), 'no timeout was waited for')
        const started = events[startedAt]
        process.stdout.write(`# position ${position + 1}: connected in ${ms.toFixed(1)} ms (working address scheduled at ${delay} ms, started at ${started?.type === 'attempt' ? started.at : '?'} ms)\n`)
      } finally {
        await node.stop()
      }
    })
  }

  it('the issue\'s case: [stalled listener, working node] with a 3 s dial timeout connects at once', async () => {
    const node = await tcpNode({ dialer: { dialTimeout: 3000 } })
    try {
      await remember(node, target.peerId, [stalled[0]?.addr as string, listenAddr(target)])
      const events: DialProgress[] = []
      await node.dial(target.peerId, { onProgress: (e) => { events.push(e) } })
      assert.ok(!events.some((e) => e.type === 'attempt-failed'), 'nothing failed: the stalled attempt was cancelled when the working one won')
      assert.deepEqual(events.filter((e) => e.type === 'attempt-cancelled').map((e) => e.type === 'attempt-cancelled' && e.why), ['won-elsewhere'])
    } finally {
      await node.stop()
    }
  })

  it('100 concurrent dials of one peer make one connection', async () => {
    const node = await tcpNode()
    try {
      await remember(node, target.peerId, [listenAddr(target)])
      const opened: unknown[] = []
      node.on('connection:open', (c) => opened.push(c))
      const conns = await Promise.all(Array.from({ length: 100 }, async () => await node.dial(target.peerId)))
      assert.equal(new Set(conns).size, 1)
      assert.equal(opened.length, 1)
      assert.equal(node.getConnections(target.peerId).length, 1)
    } finally {
      await node.stop()
    }
  })

  it('when every caller aborts, the dial is cancelled: no connection registered, no socket left', async () => {
    const s = await stalledListener()
    const node = await tcpNode()
    try {
      await remember(node, target.peerId, [s.addr])
      const controllers = Array.from({ length: 5 }, () => new AbortController())
      const dials = controllers.map(async (c) => await node.dial(target.peerId, { signal: c.signal }))
      for (const d of dials) d.catch(() => {})
      await sleep(50)
      assert.equal(s.open(), 1, 'one socket for the five callers')
      controllers.slice(0, 4).forEach((c) => c.abort())
      await sleep(20)
      assert.equal(s.open(), 1, 'the dial goes on while one caller waits')
      controllers[4]?.abort()
      for (const r of await Promise.allSettled(dials)) {
        assert.equal(r.status, 'rejected')
        assert.ok(isLp2pError(r.reason, codes.ERR_ABORTED), String(r.reason))
      }
      const t0 = Date.now()
      while (s.open() > 0 && Date.now() - t0 < 2000) await sleep(10)
      assert.equal(s.open(), 0, 'the socket was closed')
      assert.equal(node.getConnections().length, 0)
    } finally {
      await node.stop()
      s.close()
    }
  })

  it('every caller aborting while the upgrade completes: the connection is closed, never registered', async () => {
    const node = await tcpNode()
    try {
      await remember(node, target.peerId, [listenAddr(target)])
      const opened: unknown[] = []
      node.on('connection:open', (c) => opened.push(c))
      const c = new AbortController()
      const dial = node.dial(target.peerId, { signal: c.signal })
      // Abort after the TCP connect, during the Noise handshake (loopback: < 5 ms).
      setImmediate(() => { c.abort() })
      await assert.rejects(dial, (err: Error) => isLp2pError(err, codes.ERR_ABORTED))
      await sleep(100)
      assert.equal(opened.length, 0)
      assert.equal(node.getConnections().length, 0)
      assert.equal(target.getConnections(node.peerId).length, 0, 'the listener saw it close')
    } finally {
      await node.stop()
    }
  })

  it('every address failing gives one ERR_ALL_DIALS_FAILED listing each address and why', async () => {
    const node = await tcpNode({ dialer: { attemptTimeout: 300 } })
    try {
      await remember(node, target.peerId, [closed[0] as string, stalled[0]?.addr as string])
      const err = await node.dial(target.peerId).then(() => undefined, (e: Error) => e)
      assert.ok(err instanceof DialError, String(err))
      assert.equal(err.code, codes.ERR_ALL_DIALS_FAILED)
      assert.deepEqual(err.failures.map((f) => [f.address.toString(), f.reason]).sort(), [
        [closed[0], 'refused'], [stalled[0]?.addr, 'timeout']
      ].sort())
      assert.match(err.message, /refused/)
      assert.match(err.message, /timeout \(ERR_TIMEOUT: outbound upgrade failed at security-handshake/)
    } finally {
      await node.stop()
    }
  })

  it('then the failed addresses are backed off (ERR_DIAL_BACKOFF), and force dials them anyway', async () => {
    const node = await tcpNode()
    try {
      await remember(node, target.peerId, [closed[1] as string])
      await assert.rejects(node.dial(target.peerId), (e: Error) => isLp2pError(e, codes.ERR_TRANSPORT_DIAL_FAILED))
      await assert.rejects(node.dial(target.peerId), (e: Error) => isLp2pError(e, codes.ERR_DIAL_BACKOFF) && /backed off .* after 1 failed dial \(last: ERR_TRANSPORT_DIAL_FAILED\)/.test(e.message))
      await assert.rejects(node.dial(target.peerId, { force: true }), (e: Error) => isLp2pError(e, codes.ERR_TRANSPORT_DIAL_FAILED))
      // An address the caller names is its explicit request: tried despite the backoff.
      await assert.rejects(node.dial(multiaddr(`${closed[1] as string}/p2p/${target.peerId.toString()}`)), (e: Error) => isLp2pError(e, codes.ERR_TRANSPORT_DIAL_FAILED))
      // A good address beside the backed-off one is still dialed.
      await remember(node, target.peerId, [listenAddr(target)])
      const conn = await node.dial(target.peerId)
      assert.ok(conn.remotePeer.equals(target.peerId))
    } finally {
      await node.stop()
    }
  })

  it('ERR_NO_ADDRESSES for a peer we know nothing about', async () => {
    const node = await tcpNode()
    try {
      await assert.rejects(node.dial(target.peerId), (e: Error) => isLp2pError(e, codes.ERR_NO_ADDRESSES))
    } finally {
      await node.stop()
    }
  })

  it('an inbound connection from the peer satisfies a dial of it', async () => {
    const s = await stalledListener()
    const node = await tcpNode()
    try {
      await remember(node, target.peerId, [s.addr])
      const dial = node.dial(target.peerId)
      await sleep(30)
      const inbound = await target.dial(node.getMultiaddrs()[0] as Multiaddr)
      const conn = await dial
      assert.ok(conn.remotePeer.equals(target.peerId))
      assert.equal(conn.direction, 'inbound')
      assert.equal(node.getConnections(target.peerId).length, 1)
      await inbound.close()
    } finally {
      await node.stop()
      s.close()
    }
  })

  it('a full dial queue fails at once with ERR_DIAL_QUEUE_FULL', async () => {
    const s = await stalledListener()
    const node = await tcpNode({ dialer: { maxConcurrentDials: 2, maxQueuedDials: 1 } })
    try {
      const addrs = [1, 2, 3, 4].map((i) => multiaddr(s.addr.replace('127.0.0.1', `127.0.0.${i + 1}`)))
      const running = addrs.slice(0, 3).map(async (a) => await node.dial(a))
      await assert.rejects(node.dial(addrs[3] as Multiaddr), (e: Error) => isLp2pError(e, codes.ERR_DIAL_QUEUE_FULL))
      await node.stop()
      for (const r of await Promise.allSettled(running)) assert.equal(r.status, 'rejected')
    } finally {
      await node.stop()
      s.close()
    }
  })
})
