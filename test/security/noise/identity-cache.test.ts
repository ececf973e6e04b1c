import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { generateKeyPair, peerIdFromPublicKey } from '../../../src/identity/index.js'
import type { PrivateKey } from '../../../src/interfaces/keys.js'
import { isLp2pError } from '../../../src/errors.js'
import { NoiseHandshake, staticKeySignatureData } from '../../../src/security/noise/handshake.js'
import { XXHandshake } from '../../../src/security/noise/handshake-xx.js'
import { FrameDecoder } from '../../../src/security/noise/frame-decoder.js'
import { IdentityCache, MAX_CACHED_TRIPLE_BYTES, type VerifiedIdentity } from '../../../src/security/noise/identity-cache.js'
import { encodeHandshakePayload } from '../../../src/security/noise/payload.js'
import { generateX25519KeyPair, type X25519KeyPair } from '../../../src/security/noise/x25519.js'

const YAMUX = '/yamux/1.0.0'

/** A private key that counts its signatures. */
function counting (key: PrivateKey): { key: PrivateKey, signs: () => number } {
  let n = 0
  const wrapped: PrivateKey = Object.create(key, {
    sign: { value: (data: Uint8Array) => { n++; return key.sign(data) } }
  }) as PrivateKey
  return { key: wrapped, signs: () => n }
}

function identityOf (key: PrivateKey): VerifiedIdentity {
  return { publicKey: key.publicKey, peer: peerIdFromPublicKey(key.publicKey) }
}

/** Runs two handshake machines against each other in memory until both are done (or one throws). */
function run (a: NoiseHandshake, b: NoiseHandshake): void {
  for (let i = 0; i < 4 && (a.status !== 'done' || b.status !== 'done'); i++) {
    for (const m of a.takeOutput()) b.handleData(m)
    for (const m of b.takeOutput()) a.handleData(m)
  }
}

function frame (body: Uint8Array): Buffer {
  const out = Buffer.alloc(2 + body.length)
  out.writeUInt16BE(body.length, 0)
  out.set(body, 2)
  return out
}

describe('IdentityCache', () => {
  it('signs once per identity key and static key', () => {
    const cache = new IdentityCache()
    const { key, signs } = counting(generateKeyPair())
    const s1 = generateX25519KeyPair().publicKey
    const s2 = generateX25519KeyPair().publicKey
    const sig1 = cache.signature(key, s1, staticKeySignatureData(s1))
    assert.deepEqual(cache.signature(key, s1, staticKeySignatureData(s1)), sig1)
    assert.equal(signs(), 1)
    assert.ok(key.publicKey.verify(staticKeySignatureData(s1), sig1))
    const sig2 = cache.signature(key, s2, staticKeySignatureData(s2))
    assert.equal(signs(), 2)
    assert.ok(key.publicKey.verify(staticKeySignatureData(s2), sig2))
  })

  it('finds exactly the triples added, never one that differs in any byte or split (property)', () => {
    const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max })
    const triple = fc.tuple(bytes(0, 40), bytes(32, 32), bytes(0, 72))
    const who = identityOf(generateKeyPair())
    fc.assert(fc.property(triple, triple, ([k, s, g], [k2, s2, g2]) => {
      const cache = new IdentityCache()
      cache.add(k, s, g, who)
      assert.equal(cache.verified(k, s, g), who)
      const same = Buffer.from(k).equals(k2) && Buffer.from(s).equals(s2) && Buffer.from(g).equals(g2)
      assert.equal(cache.verified(k2, s2, g2), same ? who : undefined)
      // The same bytes split differently between key and signature.
      if (k.byteLength > 0) assert.equal(cache.verified(k.subarray(1), s, Buffer.concat([k.subarray(0, 1), g])), undefined)
      if (g.byteLength > 0) assert.equal(cache.verified(Buffer.concat([k, g.subarray(0, 1)]), s, g.subarray(1)), undefined)
    }), { numRuns: 200 })
  })

  it('keeps at most maxEntries, dropping the least recently used', () => {
    const cache = new IdentityCache({ maxEntries: 2 })
    const s = new Uint8Array(32)
    const who = identityOf(generateKeyPair())
    const k = (n: number): Uint8Array => Uint8Array.of(n)
    cache.add(k(1), s, k(1), who)
    cache.add(k(2), s, k(2), who)
    assert.equal(cache.verified(k(1), s, k(1)), who) // 1 is now the most recent
    cache.add(k(3), s, k(3), who)
    assert.equal(cache.size, 2)
    assert.equal(cache.verified(k(2), s, k(2)), undefined)
    assert.equal(cache.verified(k(1), s, k(1)), who)
    assert.equal(cache.verified(k(3), s, k(3)), who)
  })

  it(`does not remember triples over ${MAX_CACHED_TRIPLE_BYTES} bytes, nor anything with maxEntries 0`, () => {
    const who = identityOf(generateKeyPair())
    const s = new Uint8Array(32)
    const cache = new IdentityCache()
    cache.add(new Uint8Array(MAX_CACHED_TRIPLE_BYTES), s, new Uint8Array(64), who)
    assert.equal(cache.size, 0)
    const off = new IdentityCache({ maxEntries: 0 })
    off.add(new Uint8Array(36), s, new Uint8Array(64), who)
    assert.equal(off.size, 0)
    assert.throws(() => new IdentityCache({ maxEntries: -1 }), RangeError)
  })
})

describe('IdentityCache in the Noise handshake', () => {
  it('verifies a reconnecting peer once, signs once, and still authenticates it', () => {
    const cache = new IdentityCache()
    const dialer = counting(generateKeyPair())
    const listenerKey = generateKeyPair()
    const dialerStatic = generateX25519KeyPair()
    const listenerStatic = generateX25519KeyPair()
    const seen = new Set<unknown>()
    for (let i = 0; i < 3; i++) {
      const a = new NoiseHandshake({ initiator: true, localKey: dialer.key, staticKey: dialerStatic, muxers: [YAMUX], identityCache: cache })
      const b = new NoiseHandshake({ initiator: false, localKey: listenerKey, staticKey: listenerStatic, muxers: [YAMUX] })
      run(a, b)
      assert.equal(a.status, 'done')
      assert.equal(b.status, 'done')
      assert.ok(a.result().remotePeer.equals(peerIdFromPublicKey(listenerKey.publicKey)))
      assert.ok(b.result().remotePeer.equals(peerIdFromPublicKey(dialer.key.publicKey)))
      seen.add(a.result().remotePublicKey)
    }
    // One decoded (and verified) key object, handed out again on the later hits.
    assert.equal(seen.size, 1)
    assert.equal(cache.size, 1)
    assert.equal(dialer.signs(), 1)
  })

  it('still refuses an unexpected peer whose identity is cached', () => {
    const cache = new IdentityCache()
    const listenerKey = generateKeyPair()
    const listenerStatic = generateX25519KeyPair()
    const once = (remotePeer?: ReturnType<typeof peerIdFromPublicKey>): NoiseHandshake => {
      const a = new NoiseHandshake({ initiator: true, localKey: generateKeyPair(), ...(remotePeer !== undefined ? { remotePeer } : {}), identityCache: cache })
      const b = new NoiseHandshake({ initiator: false, localKey: listenerKey, staticKey: listenerStatic })
      try { run(a, b) } catch (err) { assert.ok(isLp2pError(err, 'ERR_UNEXPECTED_PEER'), String(err)) }
      return a
    }
    assert.equal(once().status, 'done')
    assert.equal(cache.size, 1)
    assert.equal(once(peerIdFromPublicKey(generateKeyPair().publicKey)).status, 'failed')
  })

  it('refuses a replayed identity and signature with another static key, after the original was cached', () => {
    const cache = new IdentityCache()
    const victim = generateKeyPair()
    const victimStatic = generateX25519KeyPair()
    // The genuine peer connects once: its triple is cached.
    const a = new NoiseHandshake({ initiator: true, localKey: generateKeyPair(), identityCache: cache })
    run(a, new NoiseHandshake({ initiator: false, localKey: victim, staticKey: victimStatic }))
    assert.equal(a.status, 'done')
    assert.equal(cache.size, 1)
    // An impostor with its own static key replays the victim's identity key and signature.
    const replayedSig = victim.sign(staticKeySignatureData(victimStatic.publicKey))
    const impostorStatic: X25519KeyPair = generateX25519KeyPair()
    const xx = new XXHandshake({ initiator: false, staticKey: impostorStatic })
    const dialer = new NoiseHandshake({ initiator: true, localKey: generateKeyPair(), identityCache: cache })
    const decoder = new FrameDecoder()
    for (const m of dialer.takeOutput()) decoder.push(m)
    xx.readMessage(decoder.next() as Uint8Array)
    const reply = xx.writeMessage(encodeHandshakePayload({ identityKey: victim.publicKey.bytes, identitySig: replayedSig }))
    assert.throws(() => { dialer.handleData(frame(reply)) }, (err) =>
      isLp2pError(err, 'ERR_HANDSHAKE_FAILED') && isLp2pError((err as Error).cause, 'ERR_INVALID_SIGNATURE'))
    assert.equal(cache.size, 1)
  })
})
