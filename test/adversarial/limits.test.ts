/**
 * Connection limits (`connections/README.md`, "Connection Limits") under floods from
 * hostile dialers, against a real node: silent connections beyond
 * `maxPendingInbound`, authenticated connections beyond `maxConnections`, connect-
 * and-drop floods, and long runs of failed or dropped upgrades that must not leak.
 *
 * Excess connections are refused at once (ERR_CONNECTION_DENIED) before any
 * handshake work; every slot comes back when its connection ends (so the same flood
 * twice gives the same split); the heap stays flat. After every case the node serves
 * a well-behaved peer and raised no unhandled rejection.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { codeChain, expectCode, heapUsed, KiB, MiB, RawPeer, until, withTimeout } from '../helpers/hostile.js'
import { AT_ONCE_MS, socketClosed, Target, type InboundRecord } from '../helpers/hostile-target.js'
import { badSignature, noiseInitiator } from '../helpers/hostile-noise.js'
import { connectYamux, type YamuxPeer } from '../helpers/hostile-yamux.js'

/** Counts records by the code of the error the node destroyed them with. */
function byCode (records: readonly InboundRecord[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const r of records) {
    const code = codeChain(r.error)[0] ?? 'none'
    m.set(code, (m.get(code) ?? 0) + 1)
  }
  return m
}

describe('adversarial: silent connections beyond maxPendingInbound', () => {
  const PENDING = 8
  const TIMEOUT = 1000
  const t = Target.suite({ limits: { maxPendingInbound: PENDING }, timeouts: { inboundUpgrade: TIMEOUT } }, { serves: false })

  it(`20 silent connections: ${PENDING} wait for the timeout, the rest are refused at once; twice`, async () => {
    for (let round = 0; round < 2; round++) {
      const first = t.inbound.length
      const peers = await Promise.all(Array.from({ length: 20 }, async () => await RawPeer.connect(t.port)))
      await until(() => t.inbound.length - first === 20, 2000, 'all 20 connections accepted by the transport')
      const records = t.inbound.slice(first)
      // The refused ones close at once, before any byte is exchanged.
      await until(() => records.filter((r) => r.closedAt !== undefined).length >= 20 - PENDING, AT_ONCE_MS, 'the excess refused')
      const refused = records.filter((r) => r.closedAt !== undefined)
      assert.equal(refused.length, 20 - PENDING, `round ${round}: ${refused.length} refused at once`)
      for (const r of refused) expectCode(r.error, 'ERR_CONNECTION_DENIED')
      // The pending ones are cut at the inbound upgrade timeout, freeing their slots.
      await Promise.all(peers.map(async (p) => await p.waitClosed(TIMEOUT + 3000)))
      assert.deepEqual(Object.fromEntries(byCode(records)), { ERR_CONNECTION_DENIED: 20 - PENDING, ERR_TIMEOUT: PENDING })
      RawPeer.destroyAll()
      await t.assertBaseline()
      await t.assertServes()
    }
  })

  it('300 connect-and-drop connections: nothing leaks, every pending slot returns', async () => {
    const first = t.inbound.length
    for (let batch = 0; batch < 10; batch++) {
      const peers = await Promise.all(Array.from({ length: 30 }, async () => await RawPeer.connect(t.port)))
      for (const p of peers) p.socket.resetAndDestroy()
    }
    await until(() => t.inbound.length - first === 300, 3000, 'all 300 connections seen')
    await t.assertBaseline()
    // All PENDING slots are free again: PENDING silent connections are all kept pending.
    const again = t.inbound.length
    await Promise.all(Array.from({ length: PENDING }, async () => await RawPeer.connect(t.port)))
    await until(() => t.inbound.length - again === PENDING, 2000, 'the silent connections accepted')
    const records = t.inbound.slice(again)
    await withTimeout(Promise.all(records.map(async (r) => await r.closed)), TIMEOUT + 3000, 'the silent connections closed')
    assert.deepEqual(Object.fromEntries(byCode(records)), { ERR_TIMEOUT: PENDING })
    await t.assertServes()
  })
})

describe('adversarial: authenticated connections beyond maxConnections', () => {
  const MAX = 6
  const t = Target.suite({ limits: { maxConnections: MAX } }, { serves: false })

  it(`20 peers handshaking at once: at most ${MAX} connections, the rest refused; a freed slot admits a good peer`, async () => {
    let peak = 0
    const onOpen = (): void => { peak = Math.max(peak, t.node.getConnections().length) }
    t.node.on('connection:open', onOpen)
    const first = t.inbound.length
    const results = await Promise.allSettled(Array.from({ length: 20 }, async () => {
      const y = await connectYamux(t.port, { onRemoteStream: 'reset' })
      await y.ping(1)
      return y
    }))
    t.node.off('connection:open', onOpen)
    const ok = results.filter((r): r is PromiseFulfilledResult<YamuxPeer> => r.status === 'fulfilled').map((r) => r.value)
    assert.equal(ok.length, MAX, `${ok.length} connections established`)
    assert.ok(peak <= MAX, `peak of ${peak} connections`)
    assert.equal(byCode(t.inbound.slice(first)).get('ERR_CONNECTION_DENIED'), 20 - MAX)
    // Full: a well-behaved peer is refused too...
    await assert.rejects(t.good.ping(t.addr))
    // ...until one connection ends and frees its slot.
    ok[0]?.secure.peer.destroy()
    await until(() => t.node.getConnections().length === MAX - 1, 2000, 'the slot freed')
    await t.assertServes()
    for (const y of ok) y.secure.peer.destroy()
    await t.assertBaseline()
    await t.assertServes()
  })
})

describe('adversarial: failed and dropped upgrades do not leak', () => {
  const t = Target.suite()

  /** Heap growth over `n` runs of `run`, after 30 to warm up. */
  async function heapGrowth (run: (n: number) => Promise<void>, n: number): Promise<number> {
    await run(30)
    const before = heapUsed()
    await run(n)
    return heapUsed() - before
  }

  it('150 handshakes with a bad signature, one after another: heap flat, all closed', async (ctx) => {
    const run = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const { peer, record } = await t.connect()
        await noiseInitiator(peer, { payload: badSignature(5) })
        await socketClosed(record)
        expectCode(record.error, 'ERR_INVALID_SIGNATURE')
        peer.destroy()
      }
      await until(() => t.openInbound === 0, 2000, 'every socket closed')
      t.forgetClosed()
    }
    const growth = await heapGrowth(run, 150)
    ctx.diagnostic(`heap ${growth >= 0 ? '+' : ''}${(growth / KiB).toFixed(0)} KiB over 150 failed handshakes`)
    assert.ok(growth < 8 * MiB, `heap grew by ${(growth / MiB).toFixed(2)} MiB over 150 failed handshakes`)
  })

  it('150 connections upgraded then reset at once: heap flat, none left', async (ctx) => {
    const run = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const y = await connectYamux(t.port, { onRemoteStream: 'reset' })
        await t.connectionTo(y.secure.localPeer)
        y.secure.peer.socket.resetAndDestroy()
      }
      await until(() => t.node.getConnections().length === 0 && t.openInbound === 0, 3000, 'every connection closed')
      t.forgetClosed()
    }
    const growth = await heapGrowth(run, 150)
    ctx.diagnostic(`heap ${growth >= 0 ? '+' : ''}${(growth / KiB).toFixed(0)} KiB over 150 dropped connections`)
    assert.ok(growth < 8 * MiB, `heap grew by ${(growth / MiB).toFixed(2)} MiB over 150 dropped connections`)
  })
})
