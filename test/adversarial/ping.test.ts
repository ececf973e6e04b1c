/**
 * Ping (`specs/ping.md`) with a hostile peer on a correct connection to a real node:
 * as the node's ping target (never echoes, echoes wrong bytes, refuses, garbles the
 * negotiation) and as a pinger that never reads its echoes.
 *
 * The node's ping fails with the typed error, in time with its signal, resets the
 * stream and does not wedge the next ping; the ping handler stops reading when its
 * echoes cannot leave, so the window closes and memory stays flat. After every case
 * the node is back to baseline, serves a well-behaved peer, and raised no unhandled
 * rejection.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { encodeMessages, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { Flag } from '../../src/muxer/yamux/frame.js'
import { DEFAULT_PING_TIMEOUT, PING_LENGTH, PING_PROTOCOL } from '../../src/protocols/ping.js'
import { expectCode, heapUsed, KiB, MiB, parseMultistream, rejection, sleep, withTimeout } from '../helpers/hostile.js'
import { Target } from '../helpers/hostile-target.js'
import { connectYamux, type YamuxPeer } from '../helpers/hostile-yamux.js'

/** What the hostile peer does with a ping stream the node opened (after reading its proposal). */
type PingBehaviour = (y: YamuxPeer, id: number) => Promise<void> | void

describe('adversarial: ping', () => {
  const t = Target.suite()

  /** A hostile peer that resets the node's identify and treats its pings with `behaviour`. */
  async function target (behaviour: { current: PingBehaviour }): Promise<YamuxPeer> {
    const y = await connectYamux(t.port, {
      onRemoteStream: (id, peer) => {
        void (async () => {
          await peer.pull(id, parseMultistream, 'the header')
          const protocol = await peer.pull(id, parseMultistream, 'the proposal')
          if (protocol !== PING_PROTOCOL) peer.send(peer.windowUpdate(id, 0, Flag.RST))
          else await behaviour.current(peer, id)
        })().catch(() => {})
      }
    })
    await t.connectionTo(y.secure.localPeer)
    return y
  }

  const agree = (y: YamuxPeer, id: number, after: Uint8Array = new Uint8Array(0)): void => {
    y.send(y.data(id, Buffer.concat([encodeMessages([PROTOCOL_ID, PING_PROTOCOL]), after]), Flag.ACK))
  }
  const payload = async (y: YamuxPeer, id: number): Promise<Buffer> => await y.inbox(id).read(PING_LENGTH, 'the ping payload')
  const honest: PingBehaviour = async (y, id) => { agree(y, id, await payload(y, id)) }
  const silent: PingBehaviour = (y, id) => { agree(y, id) }
  /** node.ping, bounded so a hang fails the test instead of stalling it. */
  const ping = async (y: YamuxPeer, options: { signal?: AbortSignal, timeout?: number } = {}): Promise<number> =>
    await withTimeout(t.node.ping(y.secure.localPeer, options), 5000, 'node.ping to settle')

  it('a peer that never echoes: the ping fails with its signal, the stream is reset, the next ping works', async () => {
    const behaviour = { current: silent }
    const y = await target(behaviour)
    const started = performance.now()
    const err = await rejection(ping(y, { signal: AbortSignal.timeout(300) }))
    const ms = performance.now() - started
    expectCode(err, 'ERR_ABORTED')
    assert.ok(ms >= 250 && ms < 1500, `failed after ${ms.toFixed(0)} ms`)
    await y.waitFor(() => y.resets.size > 0, 2000, 'the ping stream reset')
    behaviour.current = honest
    assert.ok(await ping(y) >= 0)
  })

  it('a ping queued behind a hung one still ends with its own signal', async () => {
    const behaviour = { current: silent }
    const y = await target(behaviour)
    // The first ping has no signal of ours (only its default timeout), the peer never echoes.
    const first = t.node.ping(y.secure.localPeer).catch((err: unknown) => err)
    await y.waitFor(() => y.inboxes.size > 1, 2000, 'the first ping stream')
    const started = performance.now()
    expectCode(await rejection(ping(y, { signal: AbortSignal.timeout(300) })), 'ERR_ABORTED')
    const ms = performance.now() - started
    assert.ok(ms < 1500, `the queued ping ended after ${ms.toFixed(0)} ms`)
    y.secure.peer.destroy()
    expectCode(await withTimeout(first, 3000, 'the first ping to end with the connection'), 'ERR_CONNECTION_CLOSED')
  })

  it('a ping\'s timeout option ends it with ERR_TIMEOUT; without options a default deadline applies', async () => {
    const y = await target({ current: silent })
    const started = performance.now()
    expectCode(await rejection(ping(y, { timeout: 300 })), 'ERR_TIMEOUT')
    const ms = performance.now() - started
    assert.ok(ms >= 250 && ms < 1500, `ended after ${ms.toFixed(0)} ms`)
    assert.ok(DEFAULT_PING_TIMEOUT > 0 && DEFAULT_PING_TIMEOUT <= 30_000)
  })

  it('a peer echoing wrong bytes: ERR_PROTOCOL_VIOLATION, the stream reset', async () => {
    const y = await target({ current: async (p, id) => { await payload(p, id); agree(p, id, randomBytes(PING_LENGTH)) } })
    expectCode(await rejection(ping(y)), 'ERR_PROTOCOL_VIOLATION')
    await y.waitFor(() => y.resets.size > 0, 2000, 'the ping stream reset')
  })

  it('a peer echoing half the bytes and closing: ERR_PROTOCOL_VIOLATION', async () => {
    const y = await target({
      current: async (p, id) => {
        agree(p, id, (await payload(p, id)).subarray(0, PING_LENGTH / 2))
        p.send(p.windowUpdate(id, 0, Flag.FIN))
      }
    })
    expectCode(await rejection(ping(y)), 'ERR_PROTOCOL_VIOLATION')
  })

  it('a peer refusing the protocol (na): ERR_UNSUPPORTED_PROTOCOL', async () => {
    const y = await target({ current: (p, id) => { p.send(p.data(id, encodeMessages([PROTOCOL_ID, 'na']), Flag.ACK)) } })
    expectCode(await rejection(ping(y)), 'ERR_UNSUPPORTED_PROTOCOL')
  })

  it('a peer garbling the negotiation: ERR_NEGOTIATION_FAILED', async () => {
    const y = await target({ current: (p, id) => { p.send(p.data(id, Buffer.from('\x05hello\x05world'), Flag.ACK)) } })
    expectCode(await rejection(ping(y)), 'ERR_NEGOTIATION_FAILED')
  })

  it('a peer resetting the stream instead of echoing: ERR_STREAM_RESET', async () => {
    const y = await target({ current: (p, id) => { agree(p, id); p.send(p.windowUpdate(id, 0, Flag.RST)) } })
    expectCode(await rejection(ping(y)), 'ERR_STREAM_RESET')
  })

  it('a slow but correct echo (200 ms) succeeds and measures the delay', async () => {
    const y = await target({ current: async (p, id) => { agree(p, id); const echo = await payload(p, id); setTimeout(() => { p.send(p.data(id, echo)) }, 200) } })
    const rtt = await ping(y)
    assert.ok(rtt >= 190, `rtt ${rtt}`)
  })

  it('a pinger that never grants window for its echoes: the node stops reading, then loses nothing', async (ctx) => {
    const y = await connectYamux(t.port, { onRemoteStream: 'reset', log: false })
    await t.connectionTo(y.secure.localPeer)
    assert.equal(await y.open(1, PING_PROTOCOL), 'agreed')
    const before = heapUsed()
    // We never send a Window Update for stream 1: the node may echo 256 KiB, then its
    // writes wait, its pipe stops reading, and it stops granting us window.
    const sentParts: Buffer[] = []
    let sent = 0
    let lastCredit = -1
    let stableSince = performance.now()
    while (performance.now() - stableSince < 500 && sent < 64 * MiB) {
      const room = Math.min(y.remaining(1), 64 * KiB)
      if (room > 0) {
        const part = Buffer.alloc(room)
        for (let i = 0; i < room; i++) part[i] = ((sent + i) * 31 + 7) & 0xff
        y.send(y.data(1, part))
        sentParts.push(part)
        sent += room
      }
      await sleep(room > 0 ? 1 : 20)
      const credit = y.credit.get(1) ?? 0
      if (credit !== lastCredit) {
        lastCredit = credit
        stableSince = performance.now()
      }
    }
    const during = heapUsed()
    ctx.diagnostic(`the node took ${(sent / KiB).toFixed(0)} KiB and echoed ${(y.inbox(1).total / KiB).toFixed(0)} KiB before stopping; heap +${((during - before) / MiB).toFixed(1)} MiB`)
    assert.ok(sent < 2 * MiB, `the node took ${(sent / MiB).toFixed(2)} MiB without its echoes leaving`)
    assert.ok(y.inbox(1).total <= 256 * KiB, `the node sent ${y.inbox(1).total} bytes, beyond our 256 KiB window`)
    assert.ok(during - before < 16 * MiB, `heap grew by ${((during - before) / MiB).toFixed(1)} MiB`)
    assert.equal(y.goAway, undefined)
    // Open our window and half-close: every byte comes back, in order, unchanged.
    y.send(y.windowUpdate(1, 64 * MiB), y.windowUpdate(1, 0, Flag.FIN))
    const echo = await y.inbox(1).read(sent, 'the whole echo', 5000)
    assert.ok(echo.equals(Buffer.concat(sentParts)), 'the echo equals what was sent')
    await y.waitFor(() => y.fins.has(1), 2000, 'the node to finish the stream')
    await y.ping(3)
  })
})
