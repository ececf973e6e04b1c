import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isLp2pError } from '../../../src/errors.js'
import { generateKeyPair, peerIdFromPrivateKey } from '../../../src/identity/index.js'
import { decodeExchange, encodeExchange, plaintext, PlaintextHandshake } from '../../../src/security/plaintext/index.js'
import { MemoryChannel } from '../../../src/transport/memory-channel.js'
import { encodeLengthPrefixed } from '../../../src/wire/length-prefixed.js'
import { securePair } from '../../helpers/secure-pair.js'
import { chunker, Endpoint } from '../noise/helpers.js'

describe('/plaintext/2.0.0', () => {
  it('exchanges identities whatever the chunking, then passes bytes through unchanged', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 5 }), async (sizes) => {
      const p = await securePair(plaintext(), plaintext(), { chunking: chunker(sizes) })
      assert.equal(plaintext().protocol, '/plaintext/2.0.0')
      assert.ok(p.initiator.remotePeer.equals(peerIdFromPrivateKey(p.responderKey)))
      assert.ok(p.responder.remotePeer.equals(peerIdFromPrivateKey(p.initiatorKey)))
      assert.equal(p.initiator.channel, p.rawInitiator, 'no encryption: the raw channel itself')
      const b = new Endpoint(p.responder.channel)
      p.initiator.channel.write(Buffer.from('in the clear'))
      assert.equal((await b.waitFor(12)).toString(), 'in the clear')
      p.initiator.channel.destroy()
    }), { numRuns: 10 })
  })

  it('the dialer checks the peer it dialed (ERR_UNEXPECTED_PEER)', async () => {
    await assert.rejects(securePair(plaintext(), plaintext(), { remotePeer: peerIdFromPrivateKey(generateKeyPair()) }), (e) => isLp2pError(e, 'ERR_UNEXPECTED_PEER'))
  })

  it('refuses an Exchange whose id does not match its key, a malformed or oversize one, and closes', async () => {
    const key = generateKeyPair()
    const other = generateKeyPair()
    const cases: Array<[Uint8Array, string]> = [
      [encodeLengthPrefixed(encodeExchange(peerIdFromPrivateKey(other), key.publicKey)), 'ERR_HANDSHAKE_FAILED'],
      [encodeLengthPrefixed(Buffer.from([0x0a, 0x02, 0x00, 0x00])), 'ERR_HANDSHAKE_FAILED'],
      [Buffer.from([0x81, 0x40]), 'ERR_MESSAGE_TOO_LARGE']
    ]
    for (const [bytes, wanted] of cases) {
      const [a, b] = MemoryChannel.pair()
      const result = plaintext().secureInbound(a, { localKey: generateKeyPair() })
      b.write(bytes)
      await assert.rejects(result, (e) => isLp2pError(e, wanted as never))
      assert.ok(a.closed)
    }
    assert.throws(() => decodeExchange(encodeExchange(peerIdFromPrivateKey(other), key.publicKey)), (e) => isLp2pError(e, 'ERR_INVALID_PEER_ID'))
  })

  it('any bytes as the Exchange end in a typed error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const m = new PlaintextHandshake({ localKey: generateKeyPair(), localPeer: peerIdFromPrivateKey(generateKeyPair()) })
      try {
        m.handleData(encodeLengthPrefixed(bytes))
      } catch (err) {
        assert.ok(isLp2pError(err), String(err))
        assert.equal(m.status, 'failed')
      }
    }))
  })
})
