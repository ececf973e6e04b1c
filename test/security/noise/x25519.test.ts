import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, diffieHellman } from 'node:crypto'
import fc from 'fast-check'
import { generateX25519KeyPair, importX25519PublicKey, x25519, x25519KeyPairFromPrivateKey } from '../../../src/security/noise/x25519.js'
import { isLp2pError } from '../../../src/errors.js'

const hex = (s: string): Buffer => Buffer.from(s, 'hex')
/** DER SubjectPublicKeyInfo header of an X25519 key (RFC 8410 §4): the independent oracle for the JWK path. */
const SPKI_PREFIX = hex('302a300506032b656e032100')

/** RFC 7748 §6.1 (Curve25519 Diffie-Hellman test vector). */
const RFC7748 = {
  alicePrivate: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPrivate: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
}

describe('X25519 (node:crypto through JWK)', () => {
  it('derives the RFC 7748 §6.1 public keys and shared secret', () => {
    const alice = x25519KeyPairFromPrivateKey(hex(RFC7748.alicePrivate))
    const bob = x25519KeyPairFromPrivateKey(hex(RFC7748.bobPrivate))
    assert.equal(alice.publicKey.toString('hex'), RFC7748.alicePublic)
    assert.equal(bob.publicKey.toString('hex'), RFC7748.bobPublic)
    assert.equal(x25519(alice.privateKey, hex(RFC7748.bobPublic)).toString('hex'), RFC7748.shared)
    assert.equal(x25519(bob.privateKey, importX25519PublicKey(hex(RFC7748.alicePublic))).toString('hex'), RFC7748.shared)
  })

  it('exports generated public keys as the same 32 bytes as DER SPKI', () => {
    for (let i = 0; i < 20; i++) {
      const pair = generateX25519KeyPair()
      const der = createPublicKey(pair.privateKey).export({ format: 'der', type: 'spki' })
      assert.equal(pair.publicKey.byteLength, 32)
      assert.deepEqual(pair.publicKey, der.subarray(SPKI_PREFIX.byteLength))
    }
  })

  it('imports any 32 bytes as the key DER SPKI imports (property)', () => {
    const me = generateX25519KeyPair()
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(8), (raw, offset) => {
      // At an offset inside a larger buffer too: the import must read exactly the view.
      const backing = new Uint8Array(offset + 32 + 8).fill(0xee)
      backing.set(raw, offset)
      const view = backing.subarray(offset, offset + 32)
      const key = importX25519PublicKey(view)
      const viaDer = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
      assert.deepEqual(key.export({ format: 'der', type: 'spki' }), viaDer.export({ format: 'der', type: 'spki' }))
      let ours: Buffer | undefined
      let theirs: Buffer | undefined
      try { ours = x25519(me.privateKey, key) } catch {}
      try { theirs = diffieHellman({ privateKey: me.privateKey, publicKey: viaDer }) } catch {}
      assert.deepEqual(ours, theirs)
    }), { numRuns: 100 })
  })

  it('rejects public keys of another length with ERR_HANDSHAKE_FAILED', () => {
    const me = generateX25519KeyPair()
    for (const n of [0, 1, 31, 33, 64]) {
      assert.throws(() => importX25519PublicKey(new Uint8Array(n)), (err) => isLp2pError(err, 'ERR_HANDSHAKE_FAILED'))
      assert.throws(() => x25519(me.privateKey, new Uint8Array(n)), (err) => isLp2pError(err, 'ERR_HANDSHAKE_FAILED'))
    }
  })

  it('refuses low-order remote keys (RFC 7748 §6.1: the all-zero secret)', () => {
    const me = generateX25519KeyPair()
    const lowOrder = [
      new Uint8Array(32), // u = 0
      Uint8Array.of(1, ...new Uint8Array(31)), // u = 1
      hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800') // a point of order 8
    ]
    for (const u of lowOrder) {
      const key = importX25519PublicKey(u)
      assert.throws(() => x25519(me.privateKey, key), (err) => isLp2pError(err, 'ERR_HANDSHAKE_FAILED'))
    }
  })

  it('rejects private keys of another length with ERR_INVALID_KEY', () => {
    assert.throws(() => x25519KeyPairFromPrivateKey(new Uint8Array(31)), (err) => isLp2pError(err, 'ERR_INVALID_KEY'))
  })
})
