/**
 * Stopping a node while hostile peers hold it in every state: silent raw connections
 * pending their upgrade, a handshake half done, established connections with streams
 * stalled in negotiation or held by a handler, and peers that never close their side.
 *
 * `stop()` must finish within the close timeout, close every socket, leave no
 * connection, and raise no unhandled rejection; a new node on the same machine then
 * works as usual.
 */
import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { encodeMessage, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { Flag } from '../../src/muxer/yamux/frame.js'
import type { NodeOptions } from '../../src/node-options.js'
import { installGuards, RawPeer, until, withTimeout } from '../helpers/hostile.js'
import { Target } from '../helpers/hostile-target.js'
import { startHandshake } from '../helpers/hostile-noise.js'
import { connectYamux, type YamuxPeer } from '../helpers/hostile-yamux.js'

const guards = installGuards()
const HOLD = '/adversarial/hold/1.0.0'
const CLOSE_TIMEOUT = 1000

describe('adversarial: stopping a node under attack', () => {
  /** Every target a case started: stopped after it even when the case failed midway. */
  const targets: Target[] = []
  const start = async (options?: NodeOptions): Promise<Target> => {
    const t = await Target.start(options)
    targets.push(t)
    return t
  }
  afterEach(async () => {
    RawPeer.destroyAll()
    await Promise.all(targets.splice(0).map(async (t) => { await t.stop() }))
    guards.check()
  })

  it('stop() ends pending, half-done and established hostile connections within the close timeout', async (ctx) => {
    const t = await start({ timeouts: { connectionClose: CLOSE_TIMEOUT, inboundUpgrade: 20_000, streamNegotiation: 20_000 } })
    t.node.handle(HOLD, () => {})
    // Silent: pending their upgrade.
    const silent = await Promise.all([1, 2, 3].map(async () => (await t.connect()).peer))
    // Half a handshake: message 1 sent, message 3 never.
    const half = (await t.connect()).peer
    await startHandshake(half)
    // Established, never closing their side: one with a stream stalled in negotiation,
    // one with a stream a handler holds open, one idle.
    const established: YamuxPeer[] = []
    for (let i = 0; i < 3; i++) {
      const y = await connectYamux(t.port, { onRemoteStream: 'ignore' })
      await t.connectionTo(y.secure.localPeer)
      established.push(y)
    }
    const [stalled, holding] = established as [YamuxPeer, YamuxPeer, YamuxPeer]
    stalled.send(stalled.data(1, encodeMessage(PROTOCOL_ID), Flag.SYN))
    assert.equal(await holding.open(1, HOLD), 'agreed')
    await until(() => t.node.getConnections().length === 3, 2000, 'three connections')

    const started = performance.now()
    await withTimeout(t.node.stop(), CLOSE_TIMEOUT + 3000, 'stop() to finish')
    const ms = performance.now() - started
    ctx.diagnostic(`stop() took ${ms.toFixed(0)} ms (close timeout ${CLOSE_TIMEOUT} ms)`)
    assert.ok(ms < CLOSE_TIMEOUT + 1500, `stop() took ${ms.toFixed(0)} ms`)
    assert.equal(t.node.getConnections().length, 0)
    assert.equal(t.node.status, 'stopped')
    for (const p of [...silent, half, ...established.map((y) => y.secure.peer)]) {
      await p.waitClosed(2000, 'every hostile socket closed by the node')
    }
    await until(() => t.openInbound === 0, 2000, `no inbound socket left (${t.openInbound})`)
    await t.good.stop()

    // A fresh node works as usual.
    const next = await start()
    await next.assertServes()
  })
})
