/**
 * stop() closes everything and leaves no handles or timers behind: after two TCP
 * nodes connect, ping, identify, open streams and stop, the process holds the same
 * kinds and counts of active resources as before.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createNode } from '../../src/node.js'
import { ECHO_PROTOCOL, handleEcho } from '../../src/protocols/echo.js'
import { readAll } from '../helpers/nodes.js'

function resources (): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1
  return counts
}

describe('node.stop()', () => {
  it('leaves no sockets, servers or timers behind', async () => {
    const before = resources()
    const a = createNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const b = createNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    b.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) })
    await a.start()
    await b.start()
    const conn = await a.dial(b.getMultiaddrs()[0] as NonNullable<ReturnType<typeof b.getMultiaddrs>[0]>)
    await a.identify(conn)
    assert.ok(await a.ping(b.peerId) >= 0)
    const s = await a.dialProtocol(b.peerId, ECHO_PROTOCOL)
    s.end('x')
    assert.equal((await readAll(s)).toString(), 'x')
    // one stream left open on purpose: stop() must close it too
    const open = await a.dialProtocol(b.peerId, ECHO_PROTOCOL)
    open.write('pending')
    await Promise.all([a.stop(), b.stop()])
    await new Promise((resolve) => setImmediate(resolve))
    const after = resources()
    for (const kind of ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']) {
      assert.equal(after[kind] ?? 0, before[kind] ?? 0, `${kind}: before ${JSON.stringify(before)} after ${JSON.stringify(after)}`)
    }
    assert.equal(open.destroyed, true)
  })
})
