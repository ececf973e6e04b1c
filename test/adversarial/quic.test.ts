/**
 * A QUIC listener under floods, against a real node: junk UDP datagrams (random
 * bytes, some shaped like long-header Initials) and handshakes that never complete
 * (real client Initials, captured and replayed from sockets that never answer).
 * Honest peers keep connecting and echoing throughout; with more stalled handshakes
 * than accept slots they wait for a slot (the idle timeout frees them) rather than
 * failing. Skipped where the engine is not installed.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createNode, type Lp2pNode } from '../../src/node.js'
import { ECHO_PROTOCOL, handleEcho } from '../../src/protocols/echo.js'
import { quic, type QuicOptions } from '../../src/transport/quic/index.js'
import { generateKeyPair } from '../../src/identity/index.js'
import { readAll } from '../helpers/nodes.js'
import { quicUnavailable } from '../transport/quic/quic-pair.js'

async function listener (options: QuicOptions): Promise<{ node: Lp2pNode, addr: Multiaddr, port: number }> {
  const node = createNode({ transports: [quic(options)], listen: ['/ip4/127.0.0.1/udp/0/quic-v1'], identify: false })
  node.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) }, { maxInboundStreams: 64 })
  await node.start()
  const addr = node.getMultiaddrs()[0] as Multiaddr
  return { node, addr, port: Number(addr.getComponents()[1]?.value) }
}

/** An honest peer dials and echoes; resolves with the milliseconds it took. */
async function honest (addr: Multiaddr, handshakeTimeout = 5000): Promise<number> {
  const node = createNode({ transports: [quic({ handshakeTimeout })], identify: false })
  await node.start()
  try {
    const started = Date.now()
    const s = await node.dialProtocol(addr, ECHO_PROTOCOL)
    s.end('honest')
    assert.equal((await readAll(s)).toString(), 'honest')
    return Date.now() - started
  } finally {
    await node.stop()
  }
}

async function udpSocket (): Promise<dgram.Socket> {
  const sock = dgram.createSocket('udp4')
  sock.on('message', () => {})
  sock.bind(0, '127.0.0.1')
  await once(sock, 'listening')
  return sock
}

/**
 * `n` real client Initials (one per handshake, retransmissions dropped), captured by a
 * socket that never answers: replayed to a listener, each starts a handshake that
 * never completes.
 */
async function captureInitials (n: number): Promise<Buffer[]> {
  const sink = await udpSocket()
  const firsts = new Map<string, Buffer>()
  sink.removeAllListeners('message')
  sink.on('message', (m: Buffer) => {
    // Long header, type Initial (RFC 9000 §17.2.2): 0b11xx_xxxx with type bits 00.
    if (((m[0] as number) & 0xf0) !== 0xc0) return
    const dcidLen = m[5] as number
    const dcid = m.subarray(6, 6 + dcidLen).toString('hex')
    if (!firsts.has(dcid)) firsts.set(dcid, m)
  })
  // The transport itself: a node would share concurrent dials to one address.
  const dialer = quic({ handshakeTimeout: 300, privateKey: generateKeyPair('Ed25519') })
  const target = multiaddr(`/ip4/127.0.0.1/udp/${sink.address().port}/quic-v1`)
  for (let i = 0; i < n && firsts.size < n; i += 64) {
    await Promise.allSettled(Array.from({ length: Math.min(64, n - i) }, async () => await dialer.dial(target)))
  }
  sink.close()
  return [...firsts.values()].slice(0, n)
}

describe('adversarial: QUIC floods', { skip: quicUnavailable(), timeout: 120_000 }, () => {
  it('a flood of junk datagrams (as fast as one socket sends, 1.5 s): honest peers connect and echo throughout', async () => {
    const { node, addr, port } = await listener({})
    const flood = await udpSocket()
    let sent = 0
    let flooding = true
    const junk = Array.from({ length: 64 }, (_, i) => {
      const b = randomBytes(1 + (i * 97) % 1400)
      if (i % 2 === 0) b[0] = 0xc0 | ((b[0] as number) & 0x0f) // looks like a long header
      return b
    })
    // Bounded: 1.5 s, at most 500 000 datagrams; honest peers dial and echo meanwhile.
    const until = Date.now() + 1500
    const pump = (async () => {
      while (Date.now() < until && sent < 500_000) {
        for (let i = 0; i < 64; i++) flood.send(junk[(sent + i) % junk.length] as Buffer, port, '127.0.0.1')
        sent += 64
        await new Promise((resolve) => setImmediate(resolve))
      }
      flooding = false
    })()
    const times: number[] = []
    while (flooding) times.push(await honest(addr))
    await pump
    flood.close()
    assert.ok(sent > 1000, `the flood sent ${sent} datagrams`)
    if (process.env.QUIC_DEBUG !== undefined) console.log(`${sent} junk datagrams; honest dial + echo: ${times.join(" ")} ms`)
    assert.ok(times.length >= 2, `${times.length} honest dials during the flood`)
    await node.stop()
  })

  it('stalled handshakes below the accept slots: an honest peer connects at once', async () => {
    const initials = await captureInitials(200)
    assert.ok(initials.length >= 100, `captured ${initials.length} Initials`)
    const { node, addr, port } = await listener({ maxPendingHandshakes: 256 })
    const flood = await udpSocket()
    for (const m of initials) flood.send(m, port, '127.0.0.1')
    await new Promise((resolve) => setTimeout(resolve, 200))
    // Well under the 10 s idle timeout that frees a stalled handshake's slot.
    const ms = await honest(addr, 3000)
    if (process.env.QUIC_DEBUG !== undefined) console.log(`honest connected in ${ms} ms beside ${initials.length} stalled handshakes`)
    assert.ok(ms < 3000, `connected in ${ms} ms`)
    flood.close()
    await node.stop()
  })

  it('more stalled handshakes than slots: honest peers wait for a slot, and get one', async () => {
    const initials = await captureInitials(40)
    assert.ok(initials.length >= 20, `captured ${initials.length} Initials`)
    const { node, addr, port } = await listener({ maxPendingHandshakes: 8, maxIdleTimeout: 1000, keepAliveInterval: 500 })
    const flood = await udpSocket()
    for (const m of initials) flood.send(m, port, '127.0.0.1')
    await new Promise((resolve) => setTimeout(resolve, 200))
    // The honest dialer retransmits its Initial until a slot frees (each stalled
    // handshake holds one for the listener's 1 s idle timeout).
    const ms = await honest(addr, 15_000)
    if (process.env.QUIC_DEBUG !== undefined) console.log(`honest connected in ${ms} ms behind ${initials.length} stalled handshakes`)
    assert.ok(ms < 15_000, `connected in ${ms} ms`)
    flood.close()
    await node.stop()
  })
})
