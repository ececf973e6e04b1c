/**
 * Hostile peers: every case must end with a typed error, the raw channel destroyed,
 * and no unhandled rejection.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { getEventListeners } from 'node:events'
import fc from 'fast-check'
import { generateKeyPair } from '../../../src/identity/index.js'
import type { PrivateKey } from '../../../src/interfaces/keys.js'
import type { SecureResult } from '../../../src/interfaces/security.js'
import { MemoryChannel } from '../../../src/transport/memory-channel.js'
import { Lp2pError, TimeoutError } from '../../../src/errors.js'
import { noise, staticKeySignatureData, XXHandshake } from '../../../src/security/noise/index.js'
import { FrameDecoder } from '../../../src/security/noise/frame-decoder.js'
import { encodeHandshakePayload } from '../../../src/security/noise/payload.js'
import { generateX25519KeyPair, type X25519KeyPair } from '../../../src/security/noise/x25519.js'
import { ProtobufWriter } from '../../../src/wire/protobuf.js'
import { chunker, code, Endpoint, handshakePair } from './helpers.js'

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
process.on('unhandledRejection', onUnhandled)
after(() => {
  process.off('unhandledRejection', onUnhandled)
  assert.deepEqual(unhandled, [], 'no unhandled rejection')
})

const tick = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

function frame (body: Uint8Array): Buffer {
  const out = Buffer.alloc(2 + body.length)
  out.writeUInt16BE(body.length, 0)
  out.set(body, 2)
  return out
}

/** A valid libp2p payload for `key` vouching for `staticKey`, with optional overrides. */
function payload (key: PrivateKey, staticKey: X25519KeyPair, override: { identityKey?: Uint8Array, identitySig?: Uint8Array } = {}): Uint8Array {
  return encodeHandshakePayload({
    identityKey: override.identityKey ?? key.publicKey.bytes,
    identitySig: override.identitySig ?? key.sign(staticKeySignatureData(staticKey.publicKey))
  })
}

type Script = (xx: XXHandshake, staticKey: X25519KeyPair) => Uint8Array | undefined

/**
 * Runs our initiator against a scripted responder: on message 1 the script returns the
 * raw bytes to send back (or undefined to send nothing).
 */
async function againstResponder (script: Script, options: { signal?: AbortSignal, chunking?: (n: number) => number[], maxHandshakeMessageLength?: number, endAfter?: boolean } = {}): Promise<{ err: unknown, raw: MemoryChannel, remote: MemoryChannel }> {
  const [raw, remote] = MemoryChannel.pair(options.chunking !== undefined ? { chunking: options.chunking } : {})
  const staticKey = generateX25519KeyPair()
  const xx = new XXHandshake({ initiator: false, staticKey })
  const decoder = new FrameDecoder()
  let answered = false
  remote.attach({
    onData: (chunk) => {
      decoder.push(chunk)
      const m = decoder.next()
      if (m === undefined || answered) return
      answered = true
      xx.readMessage(m)
      const reply = script(xx, staticKey)
      if (reply !== undefined) remote.write(reply)
      if (options.endAfter === true) remote.end()
    },
    onEnd: () => {},
    onClose: () => {},
    onDrain: () => {}
  })
  const noiseOptions = options.maxHandshakeMessageLength !== undefined ? { maxHandshakeMessageLength: options.maxHandshakeMessageLength } : {}
  const err = await noise(noiseOptions).secureOutbound(raw, {
    localKey: generateKeyPair(),
    ...(options.signal !== undefined ? { signal: options.signal } : {})
  }).then(() => assert.fail('the handshake must fail'), (e: unknown) => e)
  return { err, raw, remote }
}

/** Runs our responder against a scripted initiator that answers message 2 with `script`'s bytes. */
async function againstInitiator (script: Script, options: { maxHandshakeMessageLength?: number, first?: Uint8Array } = {}): Promise<{ err: unknown, raw: MemoryChannel }> {
  const [remote, raw] = MemoryChannel.pair()
  const staticKey = generateX25519KeyPair()
  const xx = new XXHandshake({ initiator: true, staticKey })
  const decoder = new FrameDecoder()
  remote.attach({
    onData: (chunk) => {
      decoder.push(chunk)
      const m = decoder.next()
      if (m === undefined) return
      xx.readMessage(m)
      const reply = script(xx, staticKey)
      if (reply !== undefined) remote.write(reply)
    },
    onEnd: () => {},
    onClose: () => {},
    onDrain: () => {}
  })
  remote.write(options.first ?? frame(xx.writeMessage(new Uint8Array(0))))
  const noiseOptions = options.maxHandshakeMessageLength !== undefined ? { maxHandshakeMessageLength: options.maxHandshakeMessageLength } : {}
  const err = await noise(noiseOptions).secureInbound(raw, { localKey: generateKeyPair() })
    .then(() => assert.fail('the handshake must fail'), (e: unknown) => e)
  return { err, raw }
}

function assertFailed (err: unknown, topCode: string, causeCode?: string): void {
  assert.ok(err instanceof Lp2pError, `expected an Lp2pError, got ${String(err)}`)
  assert.equal(err.code, topCode, err.message)
  if (causeCode !== undefined) {
    assert.ok(err.cause instanceof Lp2pError, `expected a cause, got ${String(err.cause)}`)
    assert.equal(err.cause.code, causeCode, err.cause.message)
  }
}

describe('hostile responder (we dial)', () => {
  it('garbage instead of message 2', async () => {
    const { err, raw, remote } = await againstResponder(() => frame(randomBytes(200)))
    assertFailed(err, 'ERR_HANDSHAKE_FAILED')
    assert.ok(raw.closed)
    await tick()
    assert.ok(remote.closed, 'the remote sees the connection go away')
  })

  it('any garbage, any chunking: a typed error and a destroyed channel', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 2, maxLength: 400 }), fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 4 }), async (garbage, sizes) => {
      // Garbage may announce a longer frame than what follows: the remote then ends.
      const { err, raw } = await againstResponder(() => Buffer.concat([garbage, frame(randomBytes(100))]), { chunking: chunker(sizes), endAfter: true })
      assert.ok(err instanceof Lp2pError)
      assert.ok(['ERR_HANDSHAKE_FAILED', 'ERR_MESSAGE_TOO_LARGE'].includes(err.code), err.code)
      assert.ok(raw.closed)
    }), { numRuns: 30 })
  })

  it('a frame length over the handshake limit', async () => {
    const { err, raw } = await againstResponder(() => Uint8Array.of(0xff, 0xff, 1, 2, 3), { maxHandshakeMessageLength: 4096 })
    assertFailed(err, 'ERR_MESSAGE_TOO_LARGE')
    assert.ok(raw.closed)
  })

  it('a truncated message 2 then EOF', async () => {
    let remoteRef: MemoryChannel | undefined
    const [raw, remote] = MemoryChannel.pair()
    remoteRef = remote
    const xx = new XXHandshake({ initiator: false, staticKey: generateX25519KeyPair() })
    const decoder = new FrameDecoder()
    remote.attach({
      onData: (chunk) => {
        decoder.push(chunk)
        const m = decoder.next()
        if (m === undefined) return
        xx.readMessage(m)
        const key = generateKeyPair()
        const msg2 = frame(xx.writeMessage(encodeHandshakePayload({ identityKey: key.publicKey.bytes, identitySig: new Uint8Array(64) })))
        remoteRef?.write(msg2.subarray(0, msg2.length - 10))
        remoteRef?.end()
      },
      onEnd: () => {},
      onClose: () => {},
      onDrain: () => {}
    })
    const err = await noise().secureOutbound(raw, { localKey: generateKeyPair() }).then(() => assert.fail(), (e: unknown) => e)
    assertFailed(err, 'ERR_HANDSHAKE_FAILED', 'ERR_CONNECTION_CLOSED')
    assert.ok(raw.closed)
  })

  it('EOF before message 2', async () => {
    const [raw, remote] = MemoryChannel.pair()
    remote.attach({ onData: () => { remote.end() }, onEnd: () => {}, onClose: () => {}, onDrain: () => {} })
    const err = await noise().secureOutbound(raw, { localKey: generateKeyPair() }).then(() => assert.fail(), (e: unknown) => e)
    assertFailed(err, 'ERR_HANDSHAKE_FAILED', 'ERR_CONNECTION_CLOSED')
    assert.ok(raw.closed)
  })

  it('the remote resets the connection during the handshake', async () => {
    const [raw, remote] = MemoryChannel.pair()
    remote.attach({ onData: () => { remote.destroy() }, onEnd: () => {}, onClose: () => {}, onDrain: () => {} })
    const err = await noise().secureOutbound(raw, { localKey: generateKeyPair() }).then(() => assert.fail(), (e: unknown) => e)
    assertFailed(err, 'ERR_HANDSHAKE_FAILED', 'ERR_CONNECTION_CLOSED')
    assert.ok(raw.closed)
  })

  it('a bad identity signature', async () => {
    const key = generateKeyPair()
    const { err, raw } = await againstResponder((xx, s) => frame(xx.writeMessage(payload(key, s, { identitySig: randomBytes(64) }))))
    assertFailed(err, 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_SIGNATURE')
    assert.ok(raw.closed)
  })

  it('a signature over another static key (a replayed payload)', async () => {
    const key = generateKeyPair()
    const { err } = await againstResponder((xx) => frame(xx.writeMessage(payload(key, generateX25519KeyPair()))))
    assertFailed(err, 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_SIGNATURE')
  })

  it('an identity key that does not parse', async () => {
    const key = generateKeyPair()
    for (const identityKey of [randomBytes(36), new Uint8Array(0), Uint8Array.of(0x08, 0x01, 0x12, 0x03, 1, 2, 3), Uint8Array.of(0x08, 0x09, 0x12, 0x00)]) {
      const { err, raw } = await againstResponder((xx, s) => frame(xx.writeMessage(payload(key, s, { identityKey }))))
      assertFailed(err, 'ERR_HANDSHAKE_FAILED')
      assert.ok(err instanceof Lp2pError && err.cause instanceof Lp2pError)
      assert.ok(['ERR_INVALID_KEY', 'ERR_UNSUPPORTED_KEY_TYPE'].includes(err.cause.code), err.cause.code)
      assert.ok(raw.closed)
    }
  })

  it('a payload signed by one key claiming another identity', async () => {
    const signer = generateKeyPair()
    const claimed = generateKeyPair()
    const { err } = await againstResponder((xx, s) => frame(xx.writeMessage(payload(signer, s, { identityKey: claimed.publicKey.bytes }))))
    assertFailed(err, 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_SIGNATURE')
  })

  it('a payload that is not protobuf, or over its limits', async () => {
    const { err } = await againstResponder((xx) => frame(xx.writeMessage(Uint8Array.of(0x0a, 0x40, 1))))
    assertFailed(err, 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_MESSAGE')
    const key = generateKeyPair()
    const { err: err2 } = await againstResponder((xx, s) => {
      const ext = new ProtobufWriter().repeatedString(2, Array.from({ length: 33 }, (_, i) => `/m/${i}`))
      const bytes = new ProtobufWriter().bytes(1, key.publicKey.bytes).bytes(2, key.sign(staticKeySignatureData(s.publicKey))).message(4, ext).finish()
      return frame(xx.writeMessage(bytes))
    })
    assertFailed(err2, 'ERR_MESSAGE_TOO_LARGE')
  })

  it('an abort during the handshake', async () => {
    const ac = new AbortController()
    const pending = againstResponder(() => { setImmediate(() => ac.abort()); return undefined }, { signal: ac.signal })
    const { err, raw } = await pending
    assertFailed(err, 'ERR_ABORTED')
    assert.equal((err as Error).name, 'AbortError')
    assert.ok(raw.closed)
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0)
  })

  it('a timeout during the handshake', async () => {
    const ac = new AbortController()
    const reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError')
    const { err, raw } = await againstResponder(() => { setImmediate(() => ac.abort(reason)); return undefined }, { signal: ac.signal })
    assertFailed(err, 'ERR_TIMEOUT')
    assert.ok(err instanceof TimeoutError)
    assert.equal(err.cause, reason)
    assert.match(err.message, /timed out/)
    assert.ok(raw.closed)
    const ac2 = new AbortController()
    const { err: err2 } = await againstResponder(() => { setImmediate(() => ac2.abort(new TimeoutError('upgrade timeout'))); return undefined }, { signal: ac2.signal })
    assertFailed(err2, 'ERR_TIMEOUT')
  })

  it('an already aborted signal', async () => {
    const [raw] = MemoryChannel.pair()
    const err = await noise().secureOutbound(raw, { localKey: generateKeyPair(), signal: AbortSignal.abort() })
      .then(() => assert.fail(), (e: unknown) => e)
    assertFailed(err, 'ERR_ABORTED')
    assert.ok(raw.closed)
  })
})

describe('hostile initiator (we listen)', () => {
  it('a bad identity signature in message 3', async () => {
    const key = generateKeyPair()
    const { err, raw } = await againstInitiator((xx, s) => frame(xx.writeMessage(payload(key, s, { identitySig: randomBytes(64) }))))
    assertFailed(err, 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_SIGNATURE')
    assert.ok(raw.closed)
  })

  it('garbage instead of message 1 and message 3', async () => {
    const { err, raw } = await againstInitiator(() => undefined, { first: frame(randomBytes(10)) })
    assertFailed(err, 'ERR_HANDSHAKE_FAILED')
    assert.ok(raw.closed)
    const { err: err3 } = await againstInitiator(() => frame(randomBytes(120)))
    assertFailed(err3, 'ERR_HANDSHAKE_FAILED')
  })

  it('a message 1 over the handshake limit', async () => {
    const { err, raw } = await againstInitiator(() => undefined, { first: Uint8Array.of(0x10, 0x01), maxHandshakeMessageLength: 4096 })
    assertFailed(err, 'ERR_MESSAGE_TOO_LARGE')
    assert.ok(raw.closed)
  })

  it('a truncated message 1 then EOF', async () => {
    const [remote, raw] = MemoryChannel.pair()
    remote.write(Uint8Array.of(0, 32, 1, 2, 3))
    remote.end()
    const err = await noise().secureInbound(raw, { localKey: generateKeyPair() }).then(() => assert.fail(), (e: unknown) => e)
    assertFailed(err, 'ERR_HANDSHAKE_FAILED', 'ERR_CONNECTION_CLOSED')
    assert.ok(raw.closed)
  })
})

describe('hostile transport data', () => {
  async function tamperedPair (): Promise<{ sender: SecureResult, receiver: SecureResult, raw: MemoryChannel, flipNext: (index: number) => void }> {
    const p = await handshakePair()
    const raw = p.rawInitiator
    const write = raw.write.bind(raw)
    let flip = -1
    raw.write = (chunk: Uint8Array): boolean => {
      if (flip >= 0) {
        const copy = Buffer.from(chunk)
        copy[flip] = (copy[flip] as number) ^ 0x01
        flip = -1
        return write(copy)
      }
      return write(chunk)
    }
    return { sender: p.initiator, receiver: p.responder, raw: p.rawResponder, flipNext: (i) => { flip = i } }
  }

  it('a tampered ciphertext destroys the channel with ERR_DECRYPTION_FAILED', async () => {
    for (const index of [2, 10, 2 + 100 + 15]) {
      const { sender, receiver, raw, flipNext } = await tamperedPair()
      const e = new Endpoint(receiver.channel)
      sender.channel.write(Buffer.from('fine'))
      await e.waitFor(4)
      flipNext(index)
      sender.channel.write(randomBytes(100))
      sender.channel.write(Buffer.from('never delivered'))
      const closeErr = await e.closedP
      assertFailed(closeErr, 'ERR_DECRYPTION_FAILED')
      assert.equal(e.bytes().toString(), 'fine')
      assert.ok(raw.closed)
      assert.ok(receiver.channel.closed)
    }
  })

  it('a transport frame too short to hold a tag', async () => {
    const p = await handshakePair()
    const e = new Endpoint(p.responder.channel)
    p.rawInitiator.write(Uint8Array.of(0, 5, 1, 2, 3, 4, 5))
    assertFailed(await e.closedP, 'ERR_DECRYPTION_FAILED')
    assert.ok(p.rawResponder.closed)
  })

  it('EOF in the middle of a transport message', async () => {
    const p = await handshakePair()
    const e = new Endpoint(p.responder.channel)
    p.rawInitiator.write(Uint8Array.of(0, 100, 1, 2, 3))
    p.rawInitiator.end()
    assertFailed(await e.closedP, 'ERR_INVALID_MESSAGE')
    assert.equal(e.ended, false)
  })
})
