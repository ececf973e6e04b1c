import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv, createHmac } from 'node:crypto'
import { CipherState } from '../../../src/security/noise/cipher-state.js'
import { hkdf2, SymmetricState } from '../../../src/security/noise/symmetric-state.js'
import { XXHandshake } from '../../../src/security/noise/handshake-xx.js'
import { generateX25519KeyPair, x25519, x25519KeyPairFromPrivateKey } from '../../../src/security/noise/x25519.js'
import { isLp2pError } from '../../../src/errors.js'

const hex = (s: string): Buffer => Buffer.from(s, 'hex')
const EMPTY = new Uint8Array(0)

/**
 * Noise_XX_25519_ChaChaPoly_SHA256 from the cacophony test vectors (the Haskell
 * reference implementation), as shipped in mcginty/snow `tests/vectors/cacophony.txt`
 * at commit aabed3159deec0a0dfe3d5601c43322d84700c94. (An older copy of that file,
 * commit 62fbfae, carries an obsolete `handshake_hash` for every vector; the messages are
 * the same.) Messages alternate initiator, responder, initiator, ...: 0-2 are the
 * handshake, 3-5 transport messages (3 and 5 from the responder, 4 from the initiator).
 */
const VECTOR = {
  prologue: '4a6f686e2047616c74',
  initStatic: 'e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1',
  initEphemeral: '893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a',
  respStatic: '4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893',
  respEphemeral: 'bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b',
  handshakeHash: 'c8e5f64e846193be2a834104c2a009868d6c9f3bd3c186299888b488b2f1f58e',
  messages: [
    { payload: '4c756477696720766f6e204d69736573', ciphertext: 'ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573' },
    { payload: '4d757272617920526f746862617264', ciphertext: '95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b65285e08d6b68aaa3629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b7815528f8982ffe09be9b5c412f8a0db50f8814c7194e83f23dbd8d162c9326ad' },
    { payload: '462e20412e20486179656b', ciphertext: 'c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169ae80a89be0865b57f58c9fea0d4ec82a286427402f113e4b6ae769a1d95941d49b25030' },
    { payload: '4361726c204d656e676572', ciphertext: '96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df' },
    { payload: '4a65616e2d426170746973746520536179', ciphertext: '3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5' },
    { payload: '457567656e2042f6686d20766f6e2042617765726b', ciphertext: 'eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f' }
  ]
}

function vectorPair (): { initiator: XXHandshake, responder: XXHandshake } {
  const prologue = hex(VECTOR.prologue)
  return {
    initiator: new XXHandshake({
      initiator: true,
      prologue,
      staticKey: x25519KeyPairFromPrivateKey(hex(VECTOR.initStatic)),
      ephemeralKey: x25519KeyPairFromPrivateKey(hex(VECTOR.initEphemeral))
    }),
    responder: new XXHandshake({
      initiator: false,
      prologue,
      staticKey: x25519KeyPairFromPrivateKey(hex(VECTOR.respStatic)),
      ephemeralKey: x25519KeyPairFromPrivateKey(hex(VECTOR.respEphemeral))
    })
  }
}

describe('XX handshake: cacophony test vector', () => {
  it('produces every handshake message byte for byte and the final handshake hash', () => {
    const { initiator, responder } = vectorPair()
    const m = VECTOR.messages
    assert.equal(initiator.state, 'send-e')
    assert.equal(responder.state, 'read-e')

    const msg1 = initiator.writeMessage(hex(m[0]!.payload))
    assert.equal(msg1.toString('hex'), m[0]!.ciphertext)
    assert.equal(initiator.state, 'read-e-ee-s-es')
    assert.equal(responder.readMessage(msg1).toString('hex'), m[0]!.payload)
    assert.equal(responder.state, 'send-e-ee-s-es')

    const msg2 = responder.writeMessage(hex(m[1]!.payload))
    assert.equal(msg2.toString('hex'), m[1]!.ciphertext)
    assert.equal(responder.state, 'read-s-se')
    assert.equal(initiator.readMessage(msg2).toString('hex'), m[1]!.payload)
    assert.equal(initiator.state, 'send-s-se')
    assert.deepEqual(initiator.remoteStaticKey, x25519KeyPairFromPrivateKey(hex(VECTOR.respStatic)).publicKey)

    const msg3 = initiator.writeMessage(hex(m[2]!.payload))
    assert.equal(msg3.toString('hex'), m[2]!.ciphertext)
    assert.equal(initiator.state, 'done')
    assert.equal(responder.readMessage(msg3).toString('hex'), m[2]!.payload)
    assert.equal(responder.state, 'done')
    assert.deepEqual(responder.remoteStaticKey, x25519KeyPairFromPrivateKey(hex(VECTOR.initStatic)).publicKey)

    assert.equal(initiator.handshakeHash.toString('hex'), VECTOR.handshakeHash)
    assert.equal(responder.handshakeHash.toString('hex'), VECTOR.handshakeHash)
  })

  it('derives the transport keys of the vector (messages 3-5)', () => {
    const { initiator, responder } = vectorPair()
    const m = VECTOR.messages
    responder.readMessage(initiator.writeMessage(hex(m[0]!.payload)))
    initiator.readMessage(responder.writeMessage(hex(m[1]!.payload)))
    responder.readMessage(initiator.writeMessage(hex(m[2]!.payload)))
    const i = initiator.split()
    const r = responder.split()
    for (const [index, sender, receiver] of [[3, r, i], [4, i, r], [5, r, i]] as const) {
      const ct = sender.send.encryptWithAd(EMPTY, hex(m[index]!.payload))
      assert.equal(ct.toString('hex'), m[index]!.ciphertext, `message ${index}`)
      assert.equal(receiver.receive.decryptWithAd(EMPTY, ct).toString('hex'), m[index]!.payload)
    }
  })

  it('refuses calls out of turn', () => {
    const { initiator, responder } = vectorPair()
    assert.throws(() => initiator.readMessage(new Uint8Array(32)))
    assert.throws(() => responder.writeMessage(EMPTY))
    assert.throws(() => initiator.split())
  })
})

describe('XX handshake: hostile input', () => {
  function fresh (): { initiator: XXHandshake, responder: XXHandshake } {
    return {
      initiator: new XXHandshake({ initiator: true, staticKey: generateX25519KeyPair() }),
      responder: new XXHandshake({ initiator: false, staticKey: generateX25519KeyPair() })
    }
  }

  it('fails on a tampered message 2, and stays failed', () => {
    for (const index of [0, 40, 100]) {
      const { initiator: i2, responder: r2 } = fresh()
      r2.readMessage(i2.writeMessage(EMPTY))
      const m = r2.writeMessage(Buffer.from('payload'))
      m[index] = (m[index] as number) ^ 1
      assert.throws(() => i2.readMessage(m), (err) => isLp2pError(err, 'ERR_HANDSHAKE_FAILED'))
      assert.equal(i2.state, 'failed')
      assert.throws(() => i2.writeMessage(EMPTY))
    }
  })

  it('fails on messages too short for their tokens', () => {
    const { initiator, responder } = fresh()
    assert.throws(() => responder.readMessage(new Uint8Array(31)), (err) => isLp2pError(err, 'ERR_HANDSHAKE_FAILED'))
    initiator.writeMessage(EMPTY)
    assert.throws(() => initiator.readMessage(new Uint8Array(32 + 48 + 15)), (err) => isLp2pError(err, 'ERR_HANDSHAKE_FAILED'))
  })

  it('fails on a low-order remote ephemeral key', () => {
    const { initiator } = fresh()
    initiator.writeMessage(EMPTY)
    // An all-zero public key: X25519 with it yields the all-zero secret.
    assert.throws(() => initiator.readMessage(new Uint8Array(96)), (err) => isLp2pError(err, 'ERR_HANDSHAKE_FAILED'))
  })
})

describe('CipherState', () => {
  it('lays the nonce out as 4 zero bytes and a little-endian 64-bit counter', () => {
    const key = Buffer.alloc(32, 7)
    const cs = new CipherState(key)
    cs.setNonce(0x0102030405060708n)
    const nonce = hex('000000000807060504030201')
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
    const expected = Buffer.concat([c.update(Buffer.from('hello')), c.final(), c.getAuthTag()])
    assert.deepEqual(cs.encryptWithAd(EMPTY, Buffer.from('hello')), expected)
    assert.equal(cs.nonce, 0x0102030405060709n)
  })

  it('carries the counter across the 32-bit boundary', () => {
    const cs = new CipherState(Buffer.alloc(32, 1))
    cs.setNonce(0xffffffffn)
    cs.encryptWithAd(EMPTY, EMPTY)
    assert.equal(cs.nonce, 0x100000000n)
  })

  it('refuses to use the reserved nonce 2^64-1 (Noise §5.1)', () => {
    const key = Buffer.alloc(32, 3)
    const send = new CipherState(key)
    const receive = new CipherState(key)
    send.setNonce(2n ** 64n - 2n)
    receive.setNonce(2n ** 64n - 2n)
    const last = send.encryptWithAd(EMPTY, Buffer.from('last'))
    assert.deepEqual(receive.decryptWithAd(EMPTY, last), Buffer.from('last'))
    assert.throws(() => send.encryptWithAd(EMPTY, Buffer.from('x')), (err) => isLp2pError(err, 'ERR_CONNECTION_CLOSED'))
    assert.throws(() => receive.decryptWithAd(EMPTY, last), (err) => isLp2pError(err, 'ERR_DECRYPTION_FAILED'))
  })

  it('does not advance the nonce when authentication fails', () => {
    const key = Buffer.alloc(32, 9)
    const send = new CipherState(key)
    const receive = new CipherState(key)
    const ct = send.encryptWithAd(Buffer.from('ad'), Buffer.from('data'))
    const bad = Buffer.from(ct)
    bad[0] = (bad[0] as number) ^ 0x80
    assert.throws(() => receive.decryptWithAd(Buffer.from('ad'), bad), (err) => isLp2pError(err, 'ERR_DECRYPTION_FAILED'))
    assert.equal(receive.nonce, 0n)
    assert.throws(() => receive.decryptWithAd(Buffer.from('other ad'), ct), (err) => isLp2pError(err, 'ERR_DECRYPTION_FAILED'))
    assert.deepEqual(receive.decryptWithAd(Buffer.from('ad'), ct), Buffer.from('data'))
    assert.throws(() => receive.decryptWithAd(EMPTY, new Uint8Array(15)), (err) => isLp2pError(err, 'ERR_DECRYPTION_FAILED'))
  })

  it('passes data through while it has no key', () => {
    const cs = new CipherState()
    assert.equal(cs.hasKey(), false)
    assert.deepEqual(cs.encryptWithAd(EMPTY, Buffer.from('abc')), Buffer.from('abc'))
  })
})

describe('SymmetricState', () => {
  it("HKDF is Noise's HMAC construction (Noise §4.3)", () => {
    for (const ikm of [EMPTY, Buffer.alloc(32, 5), Buffer.from('some longer input key material, 45 bytes long')]) {
      const ck = Buffer.alloc(32, 0xaa)
      const temp = createHmac('sha256', ck).update(ikm).digest()
      const out1 = createHmac('sha256', temp).update(Uint8Array.of(1)).digest()
      const out2 = createHmac('sha256', temp).update(out1).update(Uint8Array.of(2)).digest()
      const [a, b] = hkdf2(ck, ikm)
      assert.deepEqual(a, out1)
      assert.deepEqual(b, out2)
    }
  })

  it('hashes protocol names longer than 32 bytes', () => {
    const long = new SymmetricState('Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s')
    const short = new SymmetricState('Noise_XX_25519_ChaChaPoly_SHA256')
    assert.equal(short.handshakeHash.toString('utf8'), 'Noise_XX_25519_ChaChaPoly_SHA256')
    assert.equal(long.handshakeHash.length, 32)
    assert.notEqual(long.handshakeHash.toString('utf8'), 'Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s'.slice(0, 32))
  })

  it('agrees with an X25519 computed the other way round', () => {
    const a = generateX25519KeyPair()
    const b = generateX25519KeyPair()
    assert.deepEqual(x25519(a.privateKey, b.publicKey), x25519(b.privateKey, a.publicKey))
  })
})
