/**
 * Partitions: the path drops everything both ways, then heals (or does not).
 *
 * - A 20 s partition, shorter than `healedPartitionBound` (23 s with the defaults),
 *   never costs the connection whatever the phase of the keep-alive cycle: once in
 *   the middle of a 64 MiB echo (a busy connection), and at three phases of an idle
 *   connection's ping cycle, the last just before the ping is due (the worst: the
 *   silence is already nearly one interval old when the path goes down). The echo's
 *   bytes arrive identical over the same connection.
 * - The same worst-phase partition with a deliberately shortened silence bound (25 s)
 *   loses the connection: the scenario can fail, and fails for the documented reason.
 * - A 90 s partition is detected on both sides within `detectionBound` (60 s) with
 *   ERR_KEEP_ALIVE_TIMEOUT and clean books; after the heal a new dial works.
 */
import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULTS, detectionBound, healedPartitionBound } from '../../src/muxer/yamux/config.js'
import { figures, MiB, SKIP, sleep, startPair, stopAndExit, useLink, type CloseEvent, type EchoResult, type NodeConfig, type Pair } from './harness.js'

const PARTITION_MS = 20_000
const I = DEFAULTS.keepAliveInterval
/** Event-loop and IPC lateness allowed on top of a documented bound on this shared machine. */
const SLACK_MS = 3_000

describe('faults: partitions', { skip: SKIP }, () => {
  const l = useLink()
  let pair: Pair | undefined
  afterEach(async () => {
    await l.link.partition(false)
    if (pair === undefined) return
    const p = pair
    pair = undefined
    const [d, s] = await Promise.all([stopAndExit(p.dialer), stopAndExit(p.listener)])
    assert.ok(d.exited && s.exited, `both peers exit by themselves after stop() (dialer: ${d.resources.join(',')})`)
  })

  it(`the reference partition (${PARTITION_MS / 1000} s) is shorter than the documented healed-partition bound`, () => {
    assert.ok(PARTITION_MS < healedPartitionBound(DEFAULTS), `${PARTITION_MS} < ${healedPartitionBound(DEFAULTS)}`)
  })

  it('a 20 s partition in the middle of a 64 MiB echo: the echo completes on the same connection, bytes identical', async () => {
    const p = pair = await startPair(l.link)
    await p.dialer.call<EchoResult>('echo', { addr: p.addr, bytes: 1, seed: 9 })
    const [conn] = await p.dialer.call<Array<{ id: string }>>('connections')
    const transfer = p.dialer.call<EchoResult>('echo', { addr: p.addr, bytes: 64 * MiB, seed: 10 }, 300_000)
    await sleep(1_000)
    await l.link.partition(true)
    await sleep(PARTITION_MS)
    await l.link.partition(false)
    const healed = performance.now()
    const r = await transfer
    const after = await p.dialer.call<Array<{ id: string }>>('connections')
    figures('20 s partition, busy', { ok: r.ok, ms: r.ms, after_heal_ms: performance.now() - healed, same_connection: after[0]?.id === conn?.id, sha256: r.sentSha.slice(0, 16) })
    assert.equal(r.error, undefined, JSON.stringify(r.error))
    assert.equal(r.receivedSha, r.sentSha)
    assert.deepEqual(after.map((c) => c.id), [conn?.id], 'the same connection carried it')
    assert.deepEqual(await p.dialer.call<CloseEvent[]>('closes'), [])
    assert.deepEqual(await p.listener.call<CloseEvent[]>('closes'), [])
  })

  /**
   * An idle connection whose echo stream is open: the path goes down at `phase` of the
   * ping cycle (a fraction of the interval since the last frame), the transfer starts
   * 1 s into the outage, the path heals after 20 s.
   */
  async function idlePartition (phase: number, config: NodeConfig = {}): Promise<{ r: EchoResult, closes: CloseEvent[] }> {
    const p = pair = await startPair(l.link, config, config)
    await p.dialer.call<EchoResult>('echo', { addr: p.addr, bytes: 1, seed: 1 })
    await sleep(1_000) // identify and the first RTT probe are done
    await p.dialer.call('open', { addr: p.addr, name: 'idle' }) // the last frames before the silence
    await sleep(phase * I)
    await l.link.partition(true)
    await sleep(1_000)
    const transfer = p.dialer.call<EchoResult>('transfer', { name: 'idle', bytes: 16 * MiB, seed: 2 }, 300_000)
    await sleep(PARTITION_MS - 1_000)
    await l.link.partition(false)
    const r = await transfer
    const closes = [...await p.dialer.call<CloseEvent[]>('closes'), ...await p.listener.call<CloseEvent[]>('closes')]
    return { r, closes }
  }

  for (const phase of [0.2, 0.6, 0.95]) {
    it(`a 20 s partition of an idle connection at ${phase} of the ping cycle: the transfer completes, bytes identical`, async () => {
      const { r, closes } = await idlePartition(phase)
      figures(`20 s partition, idle, phase ${phase}`, { ok: r.ok, ms: r.ms, closes: closes.length, sha256: r.sentSha.slice(0, 16) })
      assert.equal(r.error, undefined, JSON.stringify(r.error))
      assert.equal(r.receivedSha, r.sentSha)
      assert.deepEqual(closes, [])
    })
  }

  it('with a deliberately shortened silence bound (25 s) the worst-phase 20 s partition costs the connection', async () => {
    const short = { yamux: { keepAliveTimeout: 25_000 } }
    assert.ok(healedPartitionBound({ ...DEFAULTS, ...short.yamux }) < PARTITION_MS)
    const { r, closes } = await idlePartition(0.95, short)
    figures('20 s partition, idle, phase 0.95, keepAliveTimeout 25 s', { ok: r.ok, error: r.error?.code, closes: closes.map((c) => c.code).join(',') })
    assert.equal(r.ok, false, 'the transfer must fail')
    assert.ok(closes.some((c) => c.code === 'ERR_KEEP_ALIVE_TIMEOUT'), `closes: ${JSON.stringify(closes)}`)
  })

  it('a 90 s partition: both sides detect it within the documented bound, typed; after the heal a new dial works', async () => {
    const p = pair = await startPair(l.link)
    await p.dialer.call<EchoResult>('echo', { addr: p.addr, bytes: 1024, seed: 3 })
    await sleep(1_000)
    const down = await p.dialer.call<number>('now')
    await l.link.partition(true)
    const bound = detectionBound(DEFAULTS)
    const closes: Array<CloseEvent & { side: string }> = []
    for (let waited = 0; waited < bound + SLACK_MS + 1_000 && closes.length < 2; waited += 500) {
      await sleep(500)
      for (const side of ['dialer', 'listener'] as const) {
        closes.push(...(await p[side].call<CloseEvent[]>('closes')).map((c) => ({ ...c, side })))
      }
    }
    const conns = [await p.dialer.call<unknown[]>('connections'), await p.listener.call<unknown[]>('connections')]
    const detected = closes.map((c) => `${c.side}:${c.code}@${((c.at - down) / 1000).toFixed(1)}s`)
    figures('90 s partition', { bound_s: bound / 1000, detected: detected.join(' ') })
    assert.deepEqual(closes.map((c) => c.side).sort(), ['dialer', 'listener'], `both sides closed: ${detected.join(' ')}`)
    for (const c of closes) {
      assert.equal(c.code, 'ERR_KEEP_ALIVE_TIMEOUT')
      assert.ok(c.at - down <= bound + SLACK_MS, `${c.side} detected after ${(c.at - down).toFixed(0)} ms`)
      assert.ok(c.at - down >= bound - I - SLACK_MS, `${c.side} detected too early: ${(c.at - down).toFixed(0)} ms`)
    }
    assert.deepEqual(conns, [[], []], 'no connection left on either side')
    await sleep(Math.max(0, down + 90_000 - await p.dialer.call<number>('now')))
    await l.link.partition(false)
    const r = await p.dialer.call<EchoResult>('echo', { addr: p.addr, bytes: MiB, seed: 4 }, 60_000)
    figures('90 s partition, after the heal', { ok: r.ok, ms: r.ms })
    assert.equal(r.error, undefined, JSON.stringify(r.error))
    assert.equal(r.receivedSha, r.sentSha)
  })
})
