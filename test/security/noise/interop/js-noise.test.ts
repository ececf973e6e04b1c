/**
 * Interop with js-libp2p's Noise (@chainsafe/libp2p-noise 17, as used by js-libp2p
 * 3.3.11), driven directly: its `secureOutbound`/`secureInbound` run over a
 * MultiaddrConnection adapter around one end of a MemoryChannel pair, our `noise()` over
 * the other end. Covers both roles, inlined muxer negotiation, and transport data both
 * ways, including messages larger than one Noise message.
 *
 * Separate suite (a folder named `interop`): node scripts/run-tests.mjs test/security/noise/interop
 */
import { describe, it, before } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { MemoryChannel } from '../../../../src/transport/memory-channel.js'
import { generateKeyPair, peerIdFromPrivateKey } from '../../../../src/identity/index.js'
import type { ByteChannel } from '../../../../src/interfaces/channel.js'
import { noise } from '../../../../src/security/noise/index.js'
import { Endpoint } from '../helpers.js'

// js-libp2p 3 uses Promise.withResolvers (Node 22+); Node 20 needs this polyfill.
const P = Promise as unknown as { withResolvers?: () => unknown }
P.withResolvers ??= function <T> () {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
let js: {
  Noise: any
  AbstractMultiaddrConnection: any
  defaultLogger: any
  generateKeyPair: any
  peerIdFromPrivateKey: any
}

before(async () => {
  const [noiseMod, utils, logger, crypto, peerId] = await Promise.all([
    import('@chainsafe/libp2p-noise'),
    import('@libp2p/utils'),
    import('@libp2p/logger'),
    import('@libp2p/crypto/keys'),
    import('@libp2p/peer-id')
  ])
  js = {
    Noise: noiseMod.noise,
    AbstractMultiaddrConnection: utils.AbstractMultiaddrConnection,
    defaultLogger: logger.defaultLogger,
    generateKeyPair: crypto.generateKeyPair,
    peerIdFromPrivateKey: peerId.peerIdFromPrivateKey
  }
})

/** A js-libp2p MultiaddrConnection over one of our ByteChannels. */
function toMaConn (channel: ByteChannel, direction: 'inbound' | 'outbound'): any {
  class ChannelConnection extends js.AbstractMultiaddrConnection {
    constructor () {
      super({ remoteAddr: channel.remoteAddr, direction, log: js.defaultLogger().forComponent('test:maconn') })
      channel.attach({
        onData: (chunk: Uint8Array) => { (this as any).onData(chunk) },
        onEnd: () => { (this as any).onRemoteCloseWrite() },
        onClose: (err?: Error) => { (this as any).onTransportClosed(err) },
        onDrain: () => { (this as any).safeDispatchEvent('drain') }
      })
    }

    sendData (data: any): { sentBytes: number, canSendMore: boolean } {
      const canSendMore = channel.writev([...data])
      return { sentBytes: data.byteLength, canSendMore }
    }

    sendReset (): void { channel.destroy() }
    async sendClose (): Promise<void> { channel.end() }
    sendPause (): void { channel.pause() }
    sendResume (): void { channel.resume() }
  }
  return new ChannelConnection()
}

function jsNoise (privateKey: any, muxers: string[]): any {
  return js.Noise()({
    privateKey,
    logger: js.defaultLogger(),
    upgrader: { getStreamMuxers: () => new Map(muxers.map((m) => [m, { protocol: m }])) }
  })
}

/** Reads from a js message stream until `n` bytes arrived. */
async function jsRead (conn: any, n: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let got = 0
  return await new Promise((resolve) => {
    conn.addEventListener('message', (evt: any) => {
      const data = evt.data
      const buf = data instanceof Uint8Array ? Buffer.from(data) : Buffer.from(data.subarray())
      parts.push(buf)
      got += buf.length
      if (got >= n) resolve(Buffer.concat(parts))
    })
  })
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('interop with @chainsafe/libp2p-noise 17', () => {
  it('we dial, js listens: identities, muxer, data both ways', async () => {
    const [ours, theirs] = MemoryChannel.pair()
    const jsKey = await js.generateKeyPair('Ed25519')
    const ourKey = generateKeyPair()
    const [secured, jsResult] = await Promise.all([
      noise().secureOutbound(ours, { localKey: ourKey, muxers: ['/yamux/1.0.0', '/mplex/6.7.0'] }),
      jsNoise(jsKey, ['/mplex/6.7.0', '/yamux/1.0.0']).secureInbound(toMaConn(theirs, 'inbound'))
    ])
    assert.equal(secured.remotePeer.toString(), js.peerIdFromPrivateKey(jsKey).toString())
    assert.equal(jsResult.remotePeer.toString(), peerIdFromPrivateKey(ourKey).toString())
    assert.equal(secured.muxer, '/yamux/1.0.0')
    assert.equal(jsResult.streamMuxer?.protocol, '/yamux/1.0.0')

    const big = randomBytes(300_000)
    const jsGot = jsRead(jsResult.connection, big.length)
    secured.channel.writev([Buffer.alloc(12, 7), big.subarray(12)])
    assert.equal(sha(await jsGot), sha(Buffer.concat([Buffer.alloc(12, 7), big.subarray(12)])))

    const e = new Endpoint(secured.channel)
    const reply = randomBytes(200_000)
    jsResult.connection.send(reply)
    assert.equal(sha(await e.waitFor(reply.length)), sha(reply))
    secured.channel.destroy()
  })

  it('js dials, we listen: identities, muxer, data both ways', async () => {
    const [theirs, ours] = MemoryChannel.pair()
    const jsKey = await js.generateKeyPair('Ed25519')
    const ourKey = generateKeyPair()
    const [jsResult, secured] = await Promise.all([
      jsNoise(jsKey, ['/yamux/1.0.0']).secureOutbound(toMaConn(theirs, 'outbound')),
      noise().secureInbound(ours, { localKey: ourKey, muxers: ['/yamux/1.0.0'] })
    ])
    assert.equal(secured.remotePeer.toString(), js.peerIdFromPrivateKey(jsKey).toString())
    assert.equal(jsResult.remotePeer.toString(), peerIdFromPrivateKey(ourKey).toString())
    assert.equal(secured.muxer, '/yamux/1.0.0')
    assert.equal(jsResult.streamMuxer?.protocol, '/yamux/1.0.0')

    const e = new Endpoint(secured.channel)
    const up = randomBytes(150_000)
    jsResult.connection.send(up)
    assert.equal(sha(await e.waitFor(up.length)), sha(up))
    const jsGot = jsRead(jsResult.connection, 5)
    secured.channel.write(Buffer.from('hello'))
    assert.equal((await jsGot).toString(), 'hello')
    secured.channel.destroy()
  })

  it('no muxers offered by us: js picks none either', async () => {
    const [ours, theirs] = MemoryChannel.pair()
    const [secured, jsResult] = await Promise.all([
      noise().secureOutbound(ours, { localKey: generateKeyPair() }),
      jsNoise(await js.generateKeyPair('Ed25519'), ['/yamux/1.0.0']).secureInbound(toMaConn(theirs, 'inbound'))
    ])
    assert.equal(secured.muxer, undefined)
    assert.equal(jsResult.streamMuxer, undefined)
    secured.channel.destroy()
  })
})
