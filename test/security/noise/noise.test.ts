import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { getEventListeners } from 'node:events'
import fc from 'fast-check'
import { generateKeyPair, peerIdFromPrivateKey } from '../../../src/identity/index.js'
import type { PrivateKey } from '../../../src/interfaces/keys.js'
import { MemoryChannel } from '../../../src/transport/memory-channel.js'
import { noise, NoiseHandshake, sealFrames } from '../../../src/security/noise/index.js'
import { FrameDecoder } from '../../../src/security/noise/frame-decoder.js'
import { chunker, code, Endpoint, handshakePair } from './helpers.js'

const YAMUX = '/yamux/1.0.0'

/**
 * Records every write the channel receives, each as a list of buffers. (MemoryChannel's
 * write() is writev([chunk]), so wrapping writev sees both.)
 */
function recordWrites (raw: MemoryChannel): Uint8Array[][] {
  const calls: Uint8Array[][] = []
  const writev = raw.writev.bind(raw)
  raw.writev = (chunks: readonly Uint8Array[]): boolean => { calls.push([...chunks]); return writev(chunks) }
  return calls
}
const MPLEX = '/mplex/6.7.0'

describe('noise(): handshake over a channel', () => {
  it('has the /noise protocol id', () => {
    assert.equal(noise().protocol, '/noise')
  })

  it('authenticates both Ed25519 identities whatever the chunk boundaries', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 70 }), { maxLength: 6 }), async (sizes) => {
      const p = await handshakePair({ chunking: chunker(sizes) })
      assert.ok(p.initiator.remotePeer.equals(peerIdFromPrivateKey(p.responderKey)))
      assert.ok(p.responder.remotePeer.equals(peerIdFromPrivateKey(p.initiatorKey)))
      assert.ok(p.initiator.remotePublicKey.equals(p.responderKey.publicKey))
      assert.ok(p.responder.remotePublicKey.equals(p.initiatorKey.publicKey))
      assert.equal(p.initiator.muxer, undefined)
      assert.equal(p.responder.muxer, undefined)
      // Transport data both ways through the same chunking.
      const a = new Endpoint(p.initiator.channel)
      const b = new Endpoint(p.responder.channel)
      p.initiator.channel.write(Buffer.from('ping'))
      p.responder.channel.writev([Buffer.from('po'), Buffer.from('ng')])
      assert.equal((await b.waitFor(4)).toString(), 'ping')
      assert.equal((await a.waitFor(4)).toString(), 'pong')
      p.initiator.channel.destroy()
    }), { numRuns: 15 })
  })

  it('authenticates every identity key type, in mixed pairs', async () => {
    const keys = [generateKeyPair('Ed25519'), generateKeyPair('secp256k1'), generateKeyPair('ECDSA'), generateKeyPair('RSA', 2048)]
    for (let i = 0; i < keys.length; i++) {
      const initiatorKey = keys[i] as PrivateKey
      const responderKey = keys[(i + 1) % keys.length] as PrivateKey
      const p = await handshakePair({ initiatorKey, responderKey, remotePeer: peerIdFromPrivateKey(responderKey) })
      assert.ok(p.initiator.remotePeer.equals(peerIdFromPrivateKey(responderKey)), `${responderKey.type} responder`)
      assert.ok(p.responder.remotePeer.equals(peerIdFromPrivateKey(initiatorKey)), `${initiatorKey.type} initiator`)
      assert.equal(p.responder.remotePublicKey.type, initiatorKey.type)
      p.initiator.channel.destroy()
    }
  })

  it('works with a configured static Noise key', async () => {
    const staticNoiseKey = randomBytes(32)
    const p = await handshakePair({ noiseOptions: { staticNoiseKey } })
    assert.ok(p.initiator.remotePeer.equals(peerIdFromPrivateKey(p.responderKey)))
    p.initiator.channel.destroy()
  })

  it('leaves no abort listener behind', async () => {
    const [a, b] = MemoryChannel.pair()
    const ac1 = new AbortController()
    const ac2 = new AbortController()
    const [r1, r2] = await Promise.all([
      noise().secureOutbound(a, { localKey: generateKeyPair(), signal: ac1.signal }),
      noise().secureInbound(b, { localKey: generateKeyPair(), signal: ac2.signal })
    ])
    assert.equal(getEventListeners(ac1.signal, 'abort').length, 0)
    assert.equal(getEventListeners(ac2.signal, 'abort').length, 0)
    // Aborting afterwards has no effect on the secure channel.
    ac1.abort()
    const e = new Endpoint(r2.channel)
    r1.channel.write(Buffer.from('still here'))
    assert.equal((await e.waitFor(10)).toString(), 'still here')
    r1.channel.destroy()
  })
})

describe('noise(): inlined muxer negotiation', () => {
  it("picks the first of the initiator's muxers that the responder supports", async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 4 }), async (sizes) => {
      const p = await handshakePair({ chunking: chunker(sizes), initiatorMuxers: [YAMUX, MPLEX], responderMuxers: [MPLEX, YAMUX] })
      assert.equal(p.initiator.muxer, YAMUX)
      assert.equal(p.responder.muxer, YAMUX)
      p.initiator.channel.destroy()
    }), { numRuns: 5 })
    const p = await handshakePair({ initiatorMuxers: ['/other/1', MPLEX, YAMUX], responderMuxers: [YAMUX, MPLEX] })
    assert.equal(p.initiator.muxer, MPLEX)
    assert.equal(p.responder.muxer, MPLEX)
    p.initiator.channel.destroy()
  })

  it('fails the handshake on both sides when both offer muxers but none in common', async () => {
    const [a, b] = MemoryChannel.pair()
    const [ri, rr] = await Promise.allSettled([
      noise().secureOutbound(a, { localKey: generateKeyPair(), muxers: [YAMUX] }),
      noise().secureInbound(b, { localKey: generateKeyPair(), muxers: [MPLEX] })
    ])
    assert.equal(ri.status, 'rejected')
    assert.equal(rr.status, 'rejected')
    const err = (ri as PromiseRejectedResult).reason
    assert.ok(code('ERR_HANDSHAKE_FAILED')(err))
    assert.ok(code('ERR_NEGOTIATION_FAILED')(err.cause))
    assert.ok(code('ERR_HANDSHAKE_FAILED')((rr as PromiseRejectedResult).reason))
    assert.ok(a.closed)
    assert.ok(b.closed)
  })

  it('gives no muxer when either side offers none', async () => {
    for (const [im, rm] of [[[YAMUX], []], [[], [YAMUX]], [[], []]] as const) {
      const p = await handshakePair({ initiatorMuxers: [...im], responderMuxers: [...rm] })
      assert.equal(p.initiator.muxer, undefined)
      assert.equal(p.responder.muxer, undefined)
      assert.equal('muxer' in p.initiator, false)
      p.initiator.channel.destroy()
    }
  })
})

describe('noise(): expected remote peer', () => {
  it('succeeds when the responder is the expected peer', async () => {
    const responderKey = generateKeyPair()
    const p = await handshakePair({ responderKey, remotePeer: peerIdFromPrivateKey(responderKey) })
    assert.ok(p.initiator.remotePeer.equals(peerIdFromPrivateKey(responderKey)))
    p.initiator.channel.destroy()
  })

  it('fails with ERR_UNEXPECTED_PEER otherwise, and destroys the channel', async () => {
    const [a, b] = MemoryChannel.pair()
    const other = peerIdFromPrivateKey(generateKeyPair())
    const [ri, rr] = await Promise.allSettled([
      noise().secureOutbound(a, { localKey: generateKeyPair(), remotePeer: other }),
      noise().secureInbound(b, { localKey: generateKeyPair() })
    ])
    assert.equal(ri.status, 'rejected')
    assert.ok(code('ERR_UNEXPECTED_PEER')((ri as PromiseRejectedResult).reason))
    assert.equal(rr.status, 'rejected')
    assert.ok(code('ERR_HANDSHAKE_FAILED')((rr as PromiseRejectedResult).reason))
    assert.ok(a.closed)
  })
})

describe('noise(): transport phase', () => {
  it('carries a multi-MiB transfer both ways intact, under backpressure and re-chunking', async () => {
    const p = await handshakePair({ chunking: chunker([1000, 70000, 3, 65537]) })
    const a = new Endpoint(p.initiator.channel)
    const b = new Endpoint(p.responder.channel)
    const up = randomBytes(3 * 1024 * 1024 + 17)
    const down = randomBytes(2 * 1024 * 1024 + 5)
    await Promise.all([
      a.send(up, [100000, 1, 65519, 65520, 4096]),
      b.send(down, [7, 200000, 12])
    ])
    const [gotUp, gotDown] = await Promise.all([b.waitFor(up.length), a.waitFor(down.length)])
    const sha = (x: Uint8Array): string => createHash('sha256').update(x).digest('hex')
    assert.equal(sha(gotUp), sha(up))
    assert.equal(sha(gotDown), sha(down))
    p.initiator.channel.destroy()
  })

  it('splits one write of more than 65535 bytes into several messages', async () => {
    const p = await handshakePair()
    const lowerWrites = recordWrites(p.rawInitiator)
    const b = new Endpoint(p.responder.channel)
    const big = randomBytes(200_000)
    p.initiator.channel.write(big)
    assert.deepEqual(await b.waitFor(big.length), big)
    // One lower write(v) carrying four framed messages, each at most 65535 bytes.
    assert.equal(lowerWrites.length, 1)
    const d = new FrameDecoder()
    d.push(Buffer.concat(lowerWrites[0] as Uint8Array[]))
    const sizes: number[] = []
    for (let f = d.next(); f !== undefined; f = d.next()) sizes.push(f.byteLength)
    assert.deepEqual(sizes, [65535, 65535, 65535, 200_000 - 3 * 65519 + 16])
    p.initiator.channel.destroy()
  })

  it('coalesces a writev of small buffers into one message and one lower write', async () => {
    const p = await handshakePair()
    const lowerWrites = recordWrites(p.rawInitiator)
    const b = new Endpoint(p.responder.channel)
    p.initiator.channel.writev([Buffer.alloc(12, 1), Buffer.alloc(300, 2), Buffer.alloc(12, 3), Buffer.alloc(0), Buffer.alloc(5, 4)])
    await b.waitFor(329)
    assert.equal(lowerWrites.length, 1)
    assert.equal(lowerWrites[0]?.length, 1, 'a single buffer')
    assert.equal(lowerWrites[0]?.[0]?.byteLength, 2 + 329 + 16)
    // A yamux-shaped frame: 12-byte header and a large payload, one message, one writev.
    p.initiator.channel.writev([Buffer.alloc(12, 1), Buffer.alloc(30000, 2)])
    await b.waitFor(329 + 30012)
    assert.equal(lowerWrites.length, 2)
    const d = new FrameDecoder()
    d.push(Buffer.concat(lowerWrites[1] as Uint8Array[]))
    assert.equal(d.next()?.byteLength, 30012 + 16)
    assert.equal(d.next(), undefined)
    p.initiator.channel.destroy()
  })

  it('passes half-close through and closes when both sides ended', async () => {
    const p = await handshakePair()
    const a = new Endpoint(p.initiator.channel)
    const b = new Endpoint(p.responder.channel)
    p.initiator.channel.write(Buffer.from('last words'))
    p.initiator.channel.end()
    await b.waitFor(10)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(b.ended, true)
    assert.equal(a.closed, false)
    p.initiator.channel.write(Buffer.from('ignored after end'))
    p.responder.channel.write(Buffer.from('reply'))
    p.responder.channel.end()
    assert.equal((await a.waitFor(5)).toString(), 'reply')
    await Promise.all([a.closedP, b.closedP])
    assert.equal(a.ended, true)
    assert.equal(a.closeError, undefined)
    assert.equal(b.bytes().toString(), 'last words')
  })

  it('passes pause and resume down to the raw channel', async () => {
    const p = await handshakePair()
    const b = new Endpoint(p.responder.channel)
    p.responder.channel.pause()
    const big = randomBytes(512 * 1024)
    let sent = false
    const a = new Endpoint(p.initiator.channel)
    const sending = a.send(big, [65536]).then(() => { sent = true })
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(b.received, 0, 'a paused reader receives nothing')
    assert.equal(sent, false, 'a paused reader must stop the writer (backpressure through the raw channel)')
    p.responder.channel.resume()
    await sending
    assert.deepEqual(await b.waitFor(big.length), big)
    p.initiator.channel.destroy()
  })

  it('loses nothing the initiator sends in the same write as message 3', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 5 }), fc.uint8Array({ minLength: 1, maxLength: 2000 }), async (sizes, data) => {
      const [raw, rawResponder] = MemoryChannel.pair({ chunking: chunker(sizes) })
      const responderKey = generateKeyPair()
      const responding = noise().secureInbound(rawResponder, { localKey: responderKey, muxers: [YAMUX] })
      // A hand-driven initiator: message 3 and the first transport frames in ONE write.
      const machine = new NoiseHandshake({ initiator: true, localKey: generateKeyPair(), muxers: [YAMUX] })
      raw.attach({
        onData: (chunk) => {
          machine.handleData(chunk)
          if (machine.status !== 'done') return
          const [msg3] = machine.takeOutput()
          const keys = machine.result().keys
          raw.write(Buffer.concat([msg3 as Uint8Array, ...sealFrames(keys.send, [Buffer.from('hdr'), data], 3 + data.length)]))
        },
        onEnd: () => {},
        onClose: () => {},
        onDrain: () => {}
      })
      raw.write((machine.takeOutput()[0]) as Uint8Array)
      const r = await responding
      assert.equal(r.muxer, YAMUX)
      const e = new Endpoint(r.channel)
      assert.deepEqual(await e.waitFor(3 + data.length), Buffer.concat([Buffer.from('hdr'), data]))
      r.channel.destroy()
    }), { numRuns: 15 })
  })

  it('loses nothing written right after secureOutbound resolves', async () => {
    const [a, b] = MemoryChannel.pair()
    const responding = noise().secureInbound(b, { localKey: generateKeyPair() })
    const r1 = await noise().secureOutbound(a, { localKey: generateKeyPair() })
    r1.channel.write(Buffer.from('early'))
    const r2 = await responding
    const e = new Endpoint(r2.channel)
    assert.equal((await e.waitFor(5)).toString(), 'early')
    r1.channel.destroy()
  })
})
