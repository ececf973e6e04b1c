/**
 * Peers that die, restart or never answer, over the reference link: typed errors
 * within documented bounds, clean books, and processes that exit by themselves after
 * `stop()` (no leaked socket, server or timer).
 *
 * - Killed mid-transfer: the kernel closes its sockets, so the other side's stream
 *   fails within a round trip or two.
 * - Restarted behind a half-open connection (the old host died while the path was
 *   down, so its FIN never arrived, and its kernel forgot the connection): the new
 *   process answers the old connection's
 *   next segment with a reset. A stream asked of that connection fails typed within a
 *   round trip; with `staleAfter: 0` (probe before every new stream) `dialProtocol`
 *   finds the connection dead first and redials by itself; an idle one is found by
 *   the next keep-alive ping, within one keep-alive interval.
 * - A silent black hole: the dial fails with ERR_TIMEOUT at the dial timeout, and its
 *   message names the address and the step it was in (connecting).
 */
import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '../../src/identity/keys.js'
import { DEFAULTS } from '../../src/muxer/yamux/config.js'
import { LISTENER_IP, MiB, SKIP, sleep, startDialer, startListener, forgetTcpState, stopAndExit, useLink, figures, type CloseEvent, type EchoResult } from './harness.js'
import type { PeerProcess } from '../../bench/lib/peer-process.js'

const SLACK_MS = 3_000
const KNOWN_CODE = /^ERR_[A-Z_]+$/

describe('faults: peers that die, restart or never answer', { skip: SKIP }, () => {
  const l = useLink()
  const running: PeerProcess[] = []
  afterEach(async () => {
    await l.link.partition(false)
    const results = await Promise.all(running.splice(0).map(async (p) => await stopAndExit(p)))
    for (const r of results) assert.ok(r.exited, `a peer did not exit by itself after stop(): ${r.resources.join(',')}`)
  })

  it('a peer killed mid-transfer: the stream fails typed at once, no connection left', async () => {
    const listener = await startListener(l.link)
    const dialer = await startDialer(l.link)
    running.push(dialer)
    const transfer = dialer.call<EchoResult>('echo', { addr: listener.addr, bytes: 256 * MiB, seed: 5 }, 120_000)
    await sleep(1_000)
    const killedAt = await dialer.call<number>('now')
    listener.peer.kill()
    await listener.peer.exited()
    const r = await transfer
    const closes = await dialer.call<CloseEvent[]>('closes')
    const failedAfter = (closes[0]?.at ?? Infinity) - killedAt
    figures('peer killed mid-transfer', { error: r.error?.code, connection_closed_after_ms: failedAfter, close_code: closes[0]?.code })
    assert.equal(r.ok, false)
    assert.match(r.error?.code ?? '', KNOWN_CODE)
    assert.ok(failedAfter < 2_000, `the connection closed ${failedAfter.toFixed(0)} ms after the kill`)
    assert.deepEqual(await dialer.call('connections'), [])
  })

  /** A listener that dies while the path is down and comes back on the same port with the same key. */
  async function restartBehindHalfOpen (dialerConfig: Parameters<typeof startDialer>[1]): Promise<{ dialer: PeerProcess, addr: string, healedAt: number }> {
    const key = Buffer.from(generateKeyPair('Ed25519').bytes).toString('hex')
    const first = await startListener(l.link, { key })
    const dialer = await startDialer(l.link, dialerConfig)
    running.push(dialer)
    const warm = await dialer.call<EchoResult>('echo', { addr: first.addr, bytes: 1024, seed: 6 })
    assert.ok(warm.ok)
    await sleep(2_000) // identify done, every segment acknowledged: the connection is idle
    await l.link.partition(true)
    first.peer.kill()
    await first.peer.exited()
    forgetTcpState(l.link.listenerNs)
    const port = first.addr.split('/')[4] as string
    const second = await startListener(l.link, { key, listen: `/ip4/${LISTENER_IP}/tcp/${port}` })
    running.push(second.peer)
    assert.equal(second.addr, first.addr, 'same address and peer id after the restart')
    await l.link.partition(false)
    return { dialer, addr: second.addr, healedAt: await dialer.call<number>('now') }
  }

  it('a peer restarted behind a half-open connection: a new stream fails typed within a round trip, then a new dial works', async () => {
    const { dialer, addr } = await restartBehindHalfOpen({})
    const [stale] = await dialer.call<Array<{ id: string }>>('connections')
    assert.ok(stale !== undefined, 'the dialer still holds the old connection')
    const r = await dialer.call<EchoResult>('echo', { addr, bytes: 1024, seed: 7 })
    figures('restart behind a half-open connection, default config', { error: r.error?.code, ms: r.ms })
    assert.equal(r.ok, false)
    assert.match(r.error?.code ?? '', KNOWN_CODE)
    assert.ok(r.ms < 2_000, `failed after ${r.ms.toFixed(0)} ms`)
    const again = await dialer.call<EchoResult>('echo', { addr, bytes: 1024, seed: 8 })
    assert.equal(again.error, undefined, JSON.stringify(again.error))
    assert.ok(again.ok)
    const now = await dialer.call<Array<{ id: string }>>('connections')
    assert.equal(now.length, 1)
    assert.notEqual(now[0]?.id, stale.id)
  })

  it('a peer restarted behind a half-open connection, staleAfter 0: dialProtocol probes, finds it dead and redials by itself', async () => {
    const { dialer, addr } = await restartBehindHalfOpen({ yamux: { staleAfter: 0 } })
    const r = await dialer.call<EchoResult>('echo', { addr, bytes: 1024, seed: 9 })
    figures('restart behind a half-open connection, staleAfter 0', { ok: r.ok, ms: r.ms })
    assert.equal(r.error, undefined, JSON.stringify(r.error))
    assert.equal(r.receivedSha, r.sentSha)
  })

  it('a peer restarted behind an idle half-open connection: the next keep-alive ping finds it, within one interval', async () => {
    const { dialer, healedAt } = await restartBehindHalfOpen({})
    let closes: CloseEvent[] = []
    for (let waited = 0; waited < DEFAULTS.keepAliveInterval + SLACK_MS + 2_000 && closes.length === 0; waited += 250) {
      await sleep(250)
      closes = await dialer.call<CloseEvent[]>('closes')
    }
    const after = (closes[0]?.at ?? Infinity) - healedAt
    figures('restart behind an idle half-open connection', { found_after_heal_ms: after, code: closes[0]?.code })
    assert.match(closes[0]?.code ?? '', KNOWN_CODE)
    assert.ok(after <= DEFAULTS.keepAliveInterval + SLACK_MS, `found ${after.toFixed(0)} ms after the heal`)
    assert.deepEqual(await dialer.call('connections'), [])
  })

  it('a dial into a silent black hole fails typed within the dial timeout', async () => {
    const DIAL_TIMEOUT = 5_000
    const listener = await startListener(l.link)
    running.push(listener.peer)
    const dialer = await startDialer(l.link, { timeouts: { dial: DIAL_TIMEOUT } })
    running.push(dialer)
    await l.link.partition(true)
    const r = await dialer.call<EchoResult>('echo', { addr: listener.addr, bytes: 1024, seed: 10 }, 60_000)
    figures('dial into a black hole', { error: r.error?.code, ms: r.ms, message: JSON.stringify(r.error?.message ?? '') })
    assert.equal(r.ok, false)
    assert.equal(r.error?.code, 'ERR_TIMEOUT')
    const host = /^\/ip4\/[^/]+\/tcp\/\d+/.exec(listener.addr)?.[0] as string
    assert.ok((r.error?.message ?? '').includes(`${host}: timeout`), r.error?.message)
    assert.match(r.error?.message ?? '', /connecting to .* was still running when the dial timed out after 5000 ms/)
    assert.ok(r.ms >= DIAL_TIMEOUT - 100 && r.ms <= DIAL_TIMEOUT + SLACK_MS, `failed after ${r.ms.toFixed(0)} ms`)
    assert.deepEqual(await dialer.call('connections'), [])
  })
})
