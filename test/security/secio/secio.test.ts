import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { generateKeyPair, peerIdFromPrivateKey } from '../../../src/identity/index.js'
import type { PrivateKey } from '../../../src/interfaces/keys.js'
import {
  SecioHandshake, secio, SECIO_CIPHERS, SECIO_CURVES, SECIO_HASHES, type SecioCipher, type SecioCurve, type SecioHash
} from '../../../src/security/secio/index.js'
import { MemoryChannel } from '../../../src/transport/memory-channel.js'
import { securePair } from '../../helpers/secure-pair.js'
import { chunker, code, Endpoint } from '../noise/helpers.js'

/** Runs two handshake machines against each other in memory, delivering output in the given pieces. */
function runMachines (a: SecioHandshake, b: SecioHandshake, pieces: (n: number) => number[] = (n) => [n]): void {
  for (let round = 0; round < 10 && (a.status === 'handshaking' || b.status === 'handshaking'); round++) {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (const msg of from.takeOutput()) {
        let off = 0
        for (const size of pieces(msg.byteLength)) {
          if (off >= msg.byteLength) break
          to.handleData(msg.subarray(off, off + Math.max(1, size)))
          off += Math.max(1, size)
        }
        if (off < msg.byteLength) to.handleData(msg.subarray(off))
      }
    }
  }
}

describe('secio(): handshake over a channel', () => {
  it('has the /secio/1.0.0 protocol id and is a legacy protocol', () => {
    const s = secio()
    assert.equal(s.protocol, '/secio/1.0.0')
    assert.equal(s.legacy, true)
  })

  it('authenticates both sides and carries data both ways whatever the chunk boundaries', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 6 }), async (sizes) => {
      const p = await securePair(secio(), secio(), { chunking: chunker(sizes) })
      assert.ok(p.initiator.remotePeer.equals(peerIdFromPrivateKey(p.responderKey)))
      assert.ok(p.responder.remotePeer.equals(peerIdFromPrivateKey(p.initiatorKey)))
      assert.equal(p.initiator.muxer, undefined, 'SECIO agrees no muxer inside the handshake')
      const a = new Endpoint(p.initiator.channel)
      const b = new Endpoint(p.responder.channel)
      p.initiator.channel.writev([Buffer.from('pi'), Buffer.from('ng')])
      p.responder.channel.write(Buffer.from('pong'))
      assert.equal((await b.waitFor(4)).toString(), 'ping')
      assert.equal((await a.waitFor(4)).toString(), 'pong')
      p.initiator.channel.destroy()
    }), { numRuns: 12 })
  })

  it('agrees on every curve x cipher x hash the spec lists, and the session works with each', async () => {
    for (const exchange of Object.keys(SECIO_CURVES) as SecioCurve[]) {
      for (const cipher of Object.keys(SECIO_CIPHERS) as SecioCipher[]) {
        for (const hash of Object.keys(SECIO_HASHES) as SecioHash[]) {
          const a = new SecioHandshake({ localKey: generateKeyPair('Ed25519'), preferences: { exchanges: [exchange], ciphers: [cipher], hashes: [hash] } })
          const b = new SecioHandshake({ localKey: generateKeyPair('Ed25519') })
          runMachines(a, b)
          assert.equal(a.status, 'done')
          assert.equal(b.status, 'done')
          assert.deepEqual(a.result().agreement, { exchange, cipher, hash })
          assert.deepEqual(b.result().agreement, { exchange, cipher, hash })
          // b's writer and a's reader share keys (and the other way round).
          const msg = randomBytes(100)
          const ra = a.result(); const rb = b.result()
          const packet = Buffer.concat(rb.writer.seal([msg], msg.length))
          assert.deepEqual(ra.reader.open(packet.subarray(4)), msg)
          const back = Buffer.concat(ra.writer.seal([msg], msg.length))
          assert.deepEqual(rb.reader.open(back.subarray(4)), msg)
        }
      }
    }
  })

  it('both sides pick the same algorithms whatever their preference lists (the order rule is symmetric)', () => {
    const list = <T extends string>(all: T[]): fc.Arbitrary<T[]> => fc.shuffledSubarray(all, { minLength: 1 })
    fc.assert(fc.property(list(['P-256', 'P-384', 'P-521'] as SecioCurve[]), list(['P-256', 'P-384', 'P-521'] as SecioCurve[]),
      list(['AES-256', 'AES-128'] as SecioCipher[]), list(['SHA256', 'SHA512'] as SecioHash[]), (ea, eb, c, h) => {
        const a = new SecioHandshake({ localKey: generateKeyPair('Ed25519'), preferences: { exchanges: ea, ciphers: c, hashes: h } })
        const b = new SecioHandshake({ localKey: generateKeyPair('Ed25519'), preferences: { exchanges: eb } })
        try {
          runMachines(a, b)
        } catch (err) {
          assert.ok(!ea.some((e) => eb.includes(e)), `failed although the curves overlap: ${(err as Error).message}`)
          return
        }
        assert.deepEqual(a.agreement, b.agreement)
        assert.equal(a.status, 'done')
      }), { numRuns: 25 })
  })

  it('runs the handshake machines under arbitrary chunking of every message', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }), (sizes) => {
      const a = new SecioHandshake({ localKey: generateKeyPair('Ed25519') })
      const b = new SecioHandshake({ localKey: generateKeyPair('Ed25519') })
      runMachines(a, b, chunker(sizes))
      assert.equal(a.status, 'done')
      assert.equal(b.status, 'done')
    }), { numRuns: 30 })
  })

  it('authenticates every identity key type', async () => {
    const keys: PrivateKey[] = [generateKeyPair('Ed25519'), generateKeyPair('secp256k1'), generateKeyPair('ECDSA'), generateKeyPair('RSA', 2048)]
    for (let i = 0; i < keys.length; i++) {
      const initiatorKey = keys[i] as PrivateKey
      const responderKey = keys[(i + 1) % keys.length] as PrivateKey
      const p = await securePair(secio(), secio(), { initiatorKey, responderKey, remotePeer: peerIdFromPrivateKey(responderKey) })
      assert.ok(p.responder.remotePublicKey.equals(initiatorKey.publicKey), initiatorKey.type)
      p.initiator.channel.destroy()
    }
  })

  it('fails with ERR_UNEXPECTED_PEER when the remote is not the peer dialed, on both sides', async () => {
    const [ra, rb] = MemoryChannel.pair()
    const [out, inn] = await Promise.allSettled([
      secio().secureOutbound(ra, { localKey: generateKeyPair('Ed25519'), remotePeer: peerIdFromPrivateKey(generateKeyPair('Ed25519')) }),
      secio().secureInbound(rb, { localKey: generateKeyPair('Ed25519') })
    ])
    assert.equal(out.status, 'rejected')
    assert.ok(code('ERR_UNEXPECTED_PEER')(out.reason))
    assert.equal(inn.status, 'rejected')
    assert.ok(code('ERR_HANDSHAKE_FAILED')(inn.reason), 'the responder sees the connection close')
    assert.ok(ra.closed && rb.closed)
  })

  it('carries 4 MiB both ways, split into 64 KiB packets, with backpressure', async () => {
    const p = await securePair(secio(), secio())
    const a = new Endpoint(p.initiator.channel)
    const b = new Endpoint(p.responder.channel)
    const data = randomBytes(4 << 20)
    const digest = createHash('sha256').update(data).digest('hex')
    await Promise.all([a.send(data, [100000, 7, 65536]), b.send(data, [1 << 20])])
    const [atB, atA] = await Promise.all([b.waitFor(data.length), a.waitFor(data.length)])
    assert.equal(createHash('sha256').update(atB).digest('hex'), digest)
    assert.equal(createHash('sha256').update(atA).digest('hex'), digest)
    p.initiator.channel.end()
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(b.ended)
    p.initiator.channel.destroy()
  })

  it('writes one deprecation line per process, however many times it is enabled; --no-deprecation silences it', () => {
    const script = "import { secio } from './src/security/secio/index.ts'; secio(); secio(); secio({ ciphers: ['AES-128'] })"
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(res.status, 0, res.stderr)
    const lines = res.stderr.split('\n').filter((l) => l.includes('LP2P_SECIO'))
    assert.equal(lines.length, 1, res.stderr)
    assert.match(lines[0] as string, /^lp2p: DeprecationWarning \[LP2P_SECIO\]: SECIO .* is deprecated/)
    assert.equal(res.stderr.trim().split('\n').length, 1, 'one line in all')
    const quiet = spawnSync(process.execPath, ['--no-deprecation', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(quiet.stderr, '')
  })

  it('refuses unknown or empty algorithm preferences with a RangeError', () => {
    assert.throws(() => secio({ ciphers: ['Blowfish' as SecioCipher] }), RangeError)
    assert.throws(() => secio({ exchanges: [] }), RangeError)
    assert.throws(() => secio({ hashes: ['SHA256', 'SHA256'] }), RangeError)
    assert.throws(() => secio({ maxPacketLength: 0x800000 }), RangeError)
  })
})
