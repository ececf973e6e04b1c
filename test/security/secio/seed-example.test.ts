/**
 * The seed's own worked example of an upgrade (`connections/README.md`, "Upgrading
 * Connections"; `secio.md`), end to end over TCP: a listener with SECIO and without
 * TLS, a dialer proposing /tls/1.0.0 then /secio/1.0.0. The trace shows `na` for TLS,
 * SECIO agreed, and the muxer negotiated over SECIO; then a ping and a 1 MiB echo
 * checked by SHA-256.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { format } from 'node:util'
import createDebug from 'debug'
import { createNode } from '../../../src/node.js'
import { ECHO_PROTOCOL, handleEcho } from '../../../src/protocols/echo.js'
import { noise } from '../../../src/security/noise/index.js'
import { secio } from '../../../src/security/secio/index.js'
import { tls } from '../../../src/security/tls/index.js'
import { tcp } from '../../../src/transport/tcp.js'
import { enableLogs } from '../../../src/util/log.js'
import { readAll } from '../../helpers/nodes.js'

/** Index of the first line at or after `from` containing `text`, or -1. */
function find (lines: string[], text: string, from = 0): number {
  for (let i = from; i < lines.length; i++) if ((lines[i] as string).includes(text)) return i
  return -1
}

/** Asserts `texts` appear in `lines` in this order. */
function inOrder (lines: string[], texts: string[]): void {
  let at = 0
  for (const t of texts) {
    const i = find(lines, t, at)
    assert.ok(i >= 0, `trace lacks ${JSON.stringify(t)} after line ${at}:\n${lines.join('\n')}`)
    at = i + 1
  }
}

describe('the seed example: TLS refused, SECIO agreed, the muxer over SECIO', () => {
  it('over TCP, with the negotiation trace, a ping and a checksummed echo', async () => {
    const lines: string[] = []
    const previous = createDebug.log
    createDebug.log = (...args: unknown[]) => { lines.push(format(...args)) }
    enableLogs('lp2p:upgrader')
    const listener = createNode({ transports: [tcp()], listen: ['/ip4/127.0.0.1/tcp/0'], connectionEncrypters: [noise(), secio()] })
    const dialer = createNode({ transports: [tcp()], connectionEncrypters: [tls(), secio()] })
    try {
      listener.handle(ECHO_PROTOCOL, (stream) => { handleEcho(stream) })
      await Promise.all([listener.start(), dialer.start()])
      const conn = await dialer.dial(listener.getMultiaddrs()[0] as never)
      assert.equal(conn.encryption, '/secio/1.0.0')
      assert.equal(conn.multiplexer, '/yamux/1.0.0')
      assert.ok(await dialer.ping(conn.remotePeer) >= 0)
      const payload = randomBytes(1 << 20)
      const stream = await dialer.dialProtocol(conn.remotePeer, ECHO_PROTOCOL)
      stream.end(payload)
      const back = await readAll(stream)
      assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(payload).digest('hex'))

      const outbound = lines.filter((l) => l.includes('outbound'))
      const inbound = lines.filter((l) => l.includes('inbound'))
      inOrder(outbound, [
        'security: -> /multistream/1.0.0', 'security: -> /tls/1.0.0', 'security: <- /multistream/1.0.0', 'security: <- na',
        'security: -> /secio/1.0.0', 'security: <- /secio/1.0.0', 'security: /secio/1.0.0 handshake done',
        'muxer: -> /yamux/1.0.0 (over /secio/1.0.0)'
      ])
      inOrder(inbound, [
        'security: <- /tls/1.0.0', 'security: -> na', 'security: <- /secio/1.0.0', 'security: -> /secio/1.0.0',
        'security: /secio/1.0.0 handshake done', 'muxer: <- /yamux/1.0.0 (over /secio/1.0.0)', 'muxer: -> /yamux/1.0.0 (over /secio/1.0.0)'
      ])
    } finally {
      createDebug.log = previous
      createDebug.disable()
      await Promise.all([dialer.stop(), listener.stop()])
    }
  })

  it('SECIO is proposed last whatever the configured order, and only when configured', async () => {
    const listener = createNode({ transports: [tcp()], listen: ['/ip4/127.0.0.1/tcp/0'], connectionEncrypters: [secio(), noise()] })
    const dialer = createNode({ transports: [tcp()], connectionEncrypters: [secio(), noise()] })
    const plain = createNode({ transports: [tcp()] })
    try {
      await Promise.all([listener.start(), dialer.start(), plain.start()])
      const conn = await dialer.dial(listener.getMultiaddrs()[0] as never)
      assert.equal(conn.encryption, '/noise', 'noise, although secio came first in the list')
      const onlySecio = createNode({ transports: [tcp()], listen: ['/ip4/127.0.0.1/tcp/0'], connectionEncrypters: [secio()] })
      await onlySecio.start()
      try {
        // A default node neither offers nor accepts SECIO.
        await assert.rejects(plain.dial(onlySecio.getMultiaddrs()[0] as never), (e: Error & { code?: string }) => e.code !== undefined)
      } finally {
        await onlySecio.stop()
      }
    } finally {
      await Promise.all([dialer.stop(), listener.stop(), plain.stop()])
    }
  })
})
