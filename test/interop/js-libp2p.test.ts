/**
 * Interop with js-libp2p 3.x (from npm, in this process) over TCP + Noise + yamux,
 * both directions: ping, identify, and a 64 MiB echo with a SHA-256 checksum.
 */
import './polyfill.js'
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp as jsTcp } from '@libp2p/tcp'
import { noise as jsNoise } from '@chainsafe/libp2p-noise'
import { yamux as jsYamux } from '@chainsafe/libp2p-yamux'
import { ping as jsPing } from '@libp2p/ping'
import { identify as jsIdentify } from '@libp2p/identify'
import { multiaddr } from '@multiformats/multiaddr'
import { createNode, type Lp2pNode } from '../../src/index.js'
import { ECHO_PROTOCOL, handleEcho } from '../../src/protocols/echo.js'
import type { Stream } from '../../src/interfaces/connection.js'
import { withTimeout } from '../helpers/hostile.js'

const ECHO_BYTES = 64 * 1024 * 1024
const CHUNK = 64 * 1024

async function startJs (): Promise<Libp2p<{ ping: ReturnType<ReturnType<typeof jsPing>>, identify: ReturnType<ReturnType<typeof jsIdentify>> }>> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [jsTcp()],
    connectionEncrypters: [jsNoise()],
    streamMuxers: [jsYamux()],
    services: { ping: jsPing(), identify: jsIdentify() }
  })
  await node.handle(ECHO_PROTOCOL, async (stream) => {
    for await (const chunk of stream) {
      if (!stream.send(chunk)) await stream.onDrain()
    }
    await stream.close()
  })
  return node
}

/**
 * Sends `total` random bytes through `send` (which waits out backpressure), returns
 * their SHA-256. Both stream APIs, lp2p's and js-libp2p's, go through it.
 */
async function sendRandom (total: number, send: (buf: Buffer) => Promise<void>): Promise<string> {
  const hash = createHash('sha256')
  for (let sent = 0; sent < total; sent += CHUNK) {
    const buf = randomBytes(Math.min(CHUNK, total - sent))
    hash.update(buf)
    await send(buf)
  }
  return hash.digest('hex')
}

/** Through lp2p's stream: Writable backpressure, then half-close. */
async function sendRandomLp (stream: Stream, total: number): Promise<string> {
  const hash = await sendRandom(total, async (buf) => {
    if (!stream.write(buf)) await new Promise((resolve) => stream.once('drain', resolve))
  })
  stream.end()
  return hash
}

async function readAllHash (stream: AsyncIterable<Uint8Array | { subarray: () => Uint8Array }>): Promise<{ hash: string, bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of stream) {
    const b = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    hash.update(b)
    bytes += b.length
  }
  return { hash: hash.digest('hex'), bytes }
}

describe('interop with js-libp2p 3.x (TCP, Noise, yamux)', () => {
  let js: Awaited<ReturnType<typeof startJs>>
  let lp: Lp2pNode
  // Each side's first listen address, in the form the other side dials.
  const jsAddr = (): string => js.getMultiaddrs()[0]?.toString() as string
  const lpAddr = (): ReturnType<typeof multiaddr> => multiaddr(lp.getMultiaddrs()[0]?.toString() as string)

  before(async () => {
    js = await startJs()
    lp = createNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    lp.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) })
    await lp.start()
  })

  after(async () => {
    await lp.stop()
    await js.stop()
  })

  describe('lp2p dials js-libp2p', () => {
    it('pings', async () => {
      const rtt = await lp.ping(jsAddr())
      assert.ok(rtt > 0 && rtt < 5000, `rtt ${rtt}`)
    })

    it('identifies js-libp2p', async () => {
      const conn = await lp.dial(jsAddr())
      const id = await lp.identify(conn)
      assert.match(id.agentVersion ?? '', /js-libp2p/)
      assert.ok(id.protocols.includes('/ipfs/ping/1.0.0'), id.protocols.join(','))
      assert.ok(id.protocols.includes(ECHO_PROTOCOL))
      assert.equal(id.peerId.toString(), js.peerId.toString())
    })

    it('echoes 64 MiB intact', async () => {
      const stream = await lp.dialProtocol(jsAddr(), ECHO_PROTOCOL)
      const [sent, got] = await Promise.all([sendRandomLp(stream, ECHO_BYTES), readAllHash(stream)])
      assert.equal(got.bytes, ECHO_BYTES)
      assert.equal(got.hash, sent)
    })
  })

  describe('js-libp2p dials lp2p', () => {
    it('pings', async () => {
      const rtt = await js.services.ping.ping(lpAddr())
      assert.ok(rtt >= 0 && rtt < 5000, `rtt ${rtt}`)
    })

    it('identifies lp2p (js reads our identify, we read theirs)', async () => {
      const identified = new Promise<{ agentVersion?: string, protocols: string[] }>((resolve) => {
        js.addEventListener('peer:identify', (evt) => {
          if (evt.detail.peerId.toString() === lp.peerId.toString()) resolve(evt.detail)
        })
      })
      await js.hangUp(lpAddr())
      await js.dial(lpAddr())
      const info = await withTimeout(identified, 5000, 'js-libp2p to identify lp2p')
      assert.match(info.agentVersion ?? '', /^lp2p\//)
      assert.ok(info.protocols.includes(ECHO_PROTOCOL), info.protocols.join(','))
      assert.ok(info.protocols.includes('/ipfs/id/push/1.0.0'))
    })

    it('echoes 64 MiB intact', async () => {
      const stream = await js.dialProtocol(lpAddr(), ECHO_PROTOCOL)
      const reading = readAllHash(stream)
      const sent = await sendRandom(ECHO_BYTES, async (buf) => {
        if (!stream.send(buf)) await stream.onDrain()
      })
      await stream.close()
      const got = await reading
      assert.equal(got.bytes, ECHO_BYTES)
      assert.equal(got.hash, sent)
    })
  })
})
