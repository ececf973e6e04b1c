import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../../src/node.js'
import { tcp } from '../../src/transport/tcp.js'
import { isLp2pError } from '../../src/errors.js'
import { tick } from '../helpers/channel.js'
import { sleep } from '../helpers/hostile.js'

/** A TCP server that accepts and never says a word: every upgrade to it hangs. */
async function silentServer (): Promise<{ port: number, close: () => void }> {
  const sockets: net.Socket[] = []
  const server = net.createServer((s) => { sockets.push(s) })
  server.listen(0, '0.0.0.0')
  await once(server, 'listening')
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => { for (const s of sockets) s.destroy(); server.close() }
  }
}

/** Distinct addresses (all of 127/8 is loopback): concurrent dials to them are not joined. */
const addrs = (port: number, n: number): string[] => Array.from({ length: n }, (_, i) => `/ip4/127.0.0.${i + 1}/tcp/${port}`)

describe('dialer', () => {
  it('times out each of many concurrent dials, without a listener-leak warning', async () => {
    const server = await silentServer()
    const node = createNode({ transports: [tcp()], timeouts: { dial: 100 } })
    await node.start()
    const warnings: Error[] = []
    const onWarning = (w: Error): void => { warnings.push(w) }
    process.on('warning', onWarning)
    try {
      const results = await Promise.allSettled(addrs(server.port, 24).map(async (a) => await node.dial(multiaddr(a))))
      for (const r of results) {
        assert.equal(r.status, 'rejected')
        assert.ok(isLp2pError(r.reason, 'ERR_TIMEOUT') || isLp2pError((r.reason as Error).cause, 'ERR_TIMEOUT'), String(r.reason))
      }
      await tick()
      assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map(String), [])
    } finally {
      process.off('warning', onWarning)
      await node.stop()
      server.close()
    }
  })

  it('stop() aborts the dials in flight, and the node dials again after a restart', async () => {
    const server = await silentServer()
    const node = createNode({ transports: [tcp()], timeouts: { dial: 30_000 } })
    const peer = createNode({ transports: [tcp()], listen: ['/ip4/127.0.0.1/tcp/0'] })
    await node.start()
    try {
      const dials = addrs(server.port, 12).map(async (a) => await node.dial(multiaddr(a)))
      await sleep(20)
      await node.stop()
      for (const r of await Promise.allSettled(dials)) {
        assert.equal(r.status, 'rejected')
        const err = r.reason as Error
        assert.ok(isLp2pError(err, 'ERR_ABORTED') || isLp2pError(err.cause, 'ERR_ABORTED'), String(err))
      }
      await node.start()
      // Live after the restart: a dial that hangs is still pending after a while (a
      // controller left aborted by the first stop() would fail it at once), and a dial
      // to a real listener connects.
      const again = node.dial(multiaddr(`/ip4/127.0.0.1/tcp/${server.port}`))
      const early = await Promise.race([
        again.then(() => 'connected', (err: Error) => `failed: ${String(err)}`),
        sleep(200).then(() => 'pending')
      ])
      assert.equal(early, 'pending', 'the dial after the restart is in flight')
      await peer.start()
      const connection = await node.dial(peer.getMultiaddrs()[0] as Multiaddr)
      assert.ok(connection.remotePeer.equals(peer.peerId))
      await node.stop()
      await assert.rejects(again, (err: Error) => isLp2pError(err, 'ERR_ABORTED') || isLp2pError(err.cause, 'ERR_ABORTED'))
    } finally {
      await Promise.all([node.stop(), peer.stop()])
      server.close()
    }
  })
})
