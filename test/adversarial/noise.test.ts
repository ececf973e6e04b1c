/**
 * Noise (`specs/noise.md`) against a hostile dialer: broken framing and messages
 * during the XX handshake, forged identities inside it, and forged transport messages
 * after it, sent to a real node over TCP.
 *
 * Each case checks the typed error the node closed the connection with (where it
 * destroyed the raw channel, and for an established connection the
 * `connection:close` error), the close bound, the return to baseline, a ping from a
 * well-behaved peer, and no unhandled rejection or uncaught exception.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../src/identity/index.js'
import { encodeHandshakePayload } from '../../src/security/noise/payload.js'
import { sealFrames } from '../../src/security/noise/transport-codec.js'
import { encodeMessage, encodeMessages, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { ByteInbox, expectCode, KiB, parseMultistream, sleep } from '../helpers/hostile.js'
import { AT_ONCE_MS, closedAtOnce, closedAtTimeout, socketClosed, Target, type InboundRecord } from '../helpers/hostile-target.js'
import { badSignature, frame, honestPayload, negotiate, noiseInitiator, startHandshake, YAMUX, type SecureSession } from '../helpers/hostile-noise.js'
import { Flag } from '../../src/muxer/yamux/frame.js'
import { YamuxPeer } from '../helpers/hostile-yamux.js'

describe('adversarial: Noise handshake and transport', () => {
  const t = Target.suite()

  it('a message 1 too short to hold an ephemeral key: ERR_HANDSHAKE_FAILED', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer)
    peer.write(frame(randomBytes(5)))
    await closedAtOnce(peer, record, 'ERR_HANDSHAKE_FAILED')
  })

  it('garbage instead of the handshake (3 x 64 KiB of random bytes): ERR_HANDSHAKE_FAILED', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer)
    // Whatever lengths the garbage spells, message 1 and message 3 are complete in it;
    // message 3 cannot authenticate (or message 1 is too short).
    peer.write(randomBytes(3 * 65537))
    await closedAtOnce(peer, record, 'ERR_HANDSHAKE_FAILED')
  })

  it('a message 1 with a low-order ephemeral key (all zeros): ERR_HANDSHAKE_FAILED', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer)
    peer.write(frame(Buffer.alloc(32)))
    await closedAtOnce(peer, record, 'ERR_HANDSHAKE_FAILED')
  })

  it('a valid message 1, then garbage as message 3: ERR_HANDSHAKE_FAILED', async () => {
    const { peer, record } = await t.connect()
    await startHandshake(peer)
    peer.write(frame(randomBytes(200)))
    await closedAtOnce(peer, record, 'ERR_HANDSHAKE_FAILED')
  })

  it('a truncated message 1, then FIN: ERR_HANDSHAKE_FAILED at once', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer)
    peer.write(frame(randomBytes(32)).subarray(0, 12))
    peer.end()
    await closedAtOnce(peer, record, 'ERR_HANDSHAKE_FAILED')
  })

  it('an identity signature that does not verify: ERR_HANDSHAKE_FAILED (cause ERR_INVALID_SIGNATURE)', async () => {
    const { peer, record } = await t.connect()
    await noiseInitiator(peer, { payload: badSignature(0) })
    await closedAtOnce(peer, record, 'ERR_INVALID_SIGNATURE')
    expectCode(record.error, 'ERR_HANDSHAKE_FAILED')
  })

  it("another key's valid signature over our static key: ERR_HANDSHAKE_FAILED", async () => {
    const { peer, record } = await t.connect()
    const other = generateKeyPair('Ed25519')
    await noiseInitiator(peer, {
      // Signed correctly, but by a key other than the identity the payload claims.
      payload: (p) => honestPayload({ ...p, identitySig: other.sign(Buffer.concat([Buffer.from('noise-libp2p-static-key:'), p.staticKey.publicKey])) })
    })
    await closedAtOnce(peer, record, 'ERR_INVALID_SIGNATURE')
  })

  for (const [name, identityKey] of [
    ['random bytes', randomBytes(40)],
    ['an unknown key type (7)', Buffer.from([0x08, 0x07, 0x12, 0x20, ...randomBytes(32)])],
    ['an Ed25519 key of 31 bytes', Buffer.from([0x08, 0x01, 0x12, 0x1f, ...randomBytes(31)])],
    ['no key at all', Buffer.alloc(0)]
  ] as const) {
    it(`an identity key that does not parse (${name}): ERR_HANDSHAKE_FAILED`, async () => {
      const { peer, record } = await t.connect()
      await noiseInitiator(peer, {
        payload: (p) => encodeHandshakePayload({ identityKey, identitySig: p.identitySig, extensions: { webtransportCerthashes: [], streamMuxers: [YAMUX] } })
      })
      await closedAtOnce(peer, record, 'ERR_HANDSHAKE_FAILED')
    })
  }

  it('an oversize identity_key field (3 KiB): ERR_MESSAGE_TOO_LARGE', async () => {
    const { peer, record } = await t.connect()
    await noiseInitiator(peer, {
      payload: (p) => encodeHandshakePayload({ identityKey: randomBytes(3 * KiB), identitySig: p.identitySig })
    })
    await closedAtOnce(peer, record, 'ERR_MESSAGE_TOO_LARGE')
  })

  it('33 stream muxers in the extensions: ERR_MESSAGE_TOO_LARGE', async () => {
    const { peer, record } = await t.connect()
    await noiseInitiator(peer, { muxers: Array.from({ length: 33 }, (_, i) => `/mux/${i}`) })
    await closedAtOnce(peer, record, 'ERR_MESSAGE_TOO_LARGE')
  })

  it('no muxer in common inside the handshake: ERR_NEGOTIATION_FAILED', async () => {
    const { peer, record } = await t.connect()
    await noiseInitiator(peer, { muxers: ['/mplex/6.7.0'] })
    await closedAtOnce(peer, record, 'ERR_NEGOTIATION_FAILED')
  })

  it('message 3 split across 1-byte writes: the handshake completes and the connection works', async () => {
    const { peer } = await t.connect()
    let writes = 0
    const secure = await noiseInitiator(peer, {
      sendMessage3: async (p, framed) => {
        for (const byte of framed) {
          p.write(Uint8Array.of(byte))
          writes++
          await sleep(1)
        }
      }
    })
    assert.ok(writes > 100, `${writes} writes`)
    const y = new YamuxPeer(secure)
    await t.connectionTo(secure.localPeer)
    await y.ping(1)
    await y.ping(3)
    assert.equal(y.decodeError, undefined)
    assert.equal(secure.decryptError, undefined)
  })

  it('message 3 and a forged transport message in one write: ERR_DECRYPTION_FAILED', async () => {
    const { peer, record } = await t.connect()
    // The bytes after message 3 reach the transport phase first (the handshake's remainder).
    await noiseInitiator(peer, { sendMessage3: async (p, framed) => { p.write(Buffer.concat([framed, frame(randomBytes(64))])) } })
    await closedAtOnce(peer, record, 'ERR_DECRYPTION_FAILED')
  })

  it('message 3 and the first stream in one write: nothing after message 3 is lost', async () => {
    const { peer } = await t.connect()
    let held: Buffer | undefined
    const secure = await noiseInitiator(peer, { sendMessage3: async (_p, framed) => { held = framed } })
    const y = new YamuxPeer(secure)
    // Seal the first frames now and send them glued to message 3.
    const write = peer.write.bind(peer)
    const sealed: Buffer[] = []
    peer.write = (bytes) => { sealed.push(Buffer.from(bytes)); return true }
    y.send(y.data(1, encodeMessages([PROTOCOL_ID, '/ipfs/ping/1.0.0']), Flag.SYN), y.data(1, Buffer.alloc(32, 0x5a)))
    peer.write = write
    peer.write(Buffer.concat([held as Buffer, ...sealed]))
    assert.equal(await y.answer(1, '/ipfs/ping/1.0.0'), 'agreed')
    assert.ok((await y.inbox(1).read(32)).equals(Buffer.alloc(32, 0x5a)))
  })

  describe('after the handshake', () => {
    /** A good peer with a connection open through the whole case: it must be unaffected. */
    async function goodConnection (): Promise<() => Promise<void>> {
      const conn = await t.good.dial(multiaddr(t.addr.toString()))
      await t.good.ping(t.node.peerId)
      return async () => {
        assert.equal(conn.status, 'open')
        await t.good.ping(t.node.peerId)
        await t.good.hangUp(t.node.peerId)
      }
    }

    async function established (): Promise<{ y: YamuxPeer, record: InboundRecord }> {
      const { peer, record } = await t.connect()
      const secure = await noiseInitiator(peer)
      const y = new YamuxPeer(secure)
      await t.connectionTo(secure.localPeer)
      await y.ping(1)
      return { y, record }
    }

    async function closedWithDecryptionFailure (y: YamuxPeer, record: InboundRecord): Promise<void> {
      await closedAtOnce(y.secure.peer, record, 'ERR_DECRYPTION_FAILED')
      const close = t.closes.find((c) => c.connection.remotePeer.equals(y.secure.localPeer))
      assert.ok(close !== undefined, 'connection:close was emitted')
      expectCode(close.error, 'ERR_DECRYPTION_FAILED')
    }

    it('a transport message that fails authentication: ERR_DECRYPTION_FAILED, a good peer unaffected', async () => {
      const check = await goodConnection()
      const { y, record } = await established()
      y.secure.sendRaw(frame(randomBytes(100)))
      await closedWithDecryptionFailure(y, record)
      await check()
    })

    it('a sealed message with one bit flipped: ERR_DECRYPTION_FAILED', async () => {
      const check = await goodConnection()
      const { y, record } = await established()
      const plaintext = y.data(5, Buffer.from('hello'), 0)
      const forged = Buffer.concat(sealFrames(y.secure.keys.send, [plaintext], plaintext.byteLength))
      forged[4] = (forged[4] as number) ^ 0x10
      y.secure.sendRaw(forged)
      await closedWithDecryptionFailure(y, record)
      await check()
    })

    it('a transport message shorter than its tag: ERR_DECRYPTION_FAILED', async () => {
      const { y, record } = await established()
      y.secure.sendRaw(frame(randomBytes(5)))
      await closedWithDecryptionFailure(y, record)
    })

    it('a replayed transport message (its nonce is used): ERR_DECRYPTION_FAILED', async () => {
      const { y, record } = await established()
      const peer = y.secure.peer
      const write = peer.write.bind(peer)
      let copy: Buffer | undefined
      peer.write = (bytes) => { copy = Buffer.from(bytes); return write(bytes) }
      y.send(y.windowUpdate(1, 0, 0))
      peer.write = write
      peer.write(copy as Buffer)
      await closedWithDecryptionFailure(y, record)
    })

    it('a FIN inside a transport message: ERR_INVALID_MESSAGE', async () => {
      const { y, record } = await established()
      y.secure.sendRaw(frame(randomBytes(100)).subarray(0, 40))
      y.secure.peer.end()
      await y.secure.peer.waitClosed(AT_ONCE_MS + 2000)
      await socketClosed(record)
      expectCode(record.error, 'ERR_INVALID_MESSAGE')
    })
  })
})

describe('adversarial: the muxer negotiated by multistream-select inside Noise', () => {
  const TIMEOUT = 1000
  const t = Target.suite({ timeouts: { inboundUpgrade: TIMEOUT } })

  /** A Noise session that offered no muxer in message 3, with its plaintext in an inbox. */
  async function withoutMuxers (): Promise<{ secure: SecureSession, inbox: ByteInbox, record: InboundRecord }> {
    const { peer, record } = await t.connect()
    const secure = await noiseInitiator(peer, { muxers: [] })
    const inbox = new ByteInbox()
    secure.onPlaintext((p) => { inbox.push(p) })
    return { secure, inbox, record }
  }

  it('a correct negotiation of /yamux/1.0.0 works (the baseline)', async () => {
    const { secure, inbox } = await withoutMuxers()
    secure.send(encodeMessages([PROTOCOL_ID, YAMUX]))
    assert.equal(await inbox.pull(parseMultistream, 'header'), PROTOCOL_ID)
    assert.equal(await inbox.pull(parseMultistream, 'answer'), YAMUX)
    await t.connectionTo(secure.localPeer)
  })

  it('garbage inside the Noise channel: ERR_NEGOTIATION_FAILED at once', async () => {
    const { secure, record } = await withoutMuxers()
    secure.send(Buffer.from('\x05hello'))
    await closedAtOnce(secure.peer, record, 'ERR_NEGOTIATION_FAILED')
  })

  it('1000 muxer proposals: ERR_TOO_MANY_PROPOSALS at once', async () => {
    const { secure, record } = await withoutMuxers()
    secure.send(encodeMessages([PROTOCOL_ID, ...Array.from({ length: 1000 }, (_, i) => `/mux/${i}`)]))
    await closedAtOnce(secure.peer, record, 'ERR_TOO_MANY_PROPOSALS')
  })

  it('no proposal at all: ERR_TIMEOUT at the inbound upgrade timeout', async () => {
    const { secure, record } = await withoutMuxers()
    secure.send(encodeMessage(PROTOCOL_ID))
    await closedAtTimeout(secure.peer, record, TIMEOUT)
  })
})

describe('adversarial: Noise handshakes that stall meet the inbound upgrade timeout', () => {
  const TIMEOUT = 1000
  const t = Target.suite({ timeouts: { inboundUpgrade: TIMEOUT } })

  it('a frame length of 65535 followed by nothing: ERR_TIMEOUT', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer)
    peer.write(Buffer.from([0xff, 0xff, 0x01, 0x02]))
    await closedAtTimeout(peer, record, TIMEOUT)
  })

  it('message 3 never sent: ERR_TIMEOUT', async () => {
    const { peer, record } = await t.connect()
    await startHandshake(peer)
    await closedAtTimeout(peer, record, TIMEOUT)
  })
})
