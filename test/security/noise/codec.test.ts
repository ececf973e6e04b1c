import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { FrameDecoder } from '../../../src/security/noise/frame-decoder.js'
import { CipherState } from '../../../src/security/noise/cipher-state.js'
import { openFrame, sealedLength, sealFrames as sealParts, SMALL_PIECE, totalLength } from '../../../src/security/noise/transport-codec.js'
import { TransportDecoder } from '../../../src/security/noise/transport-decoder.js'
import {
  decodeHandshakePayload, encodeHandshakePayload, MAX_STREAM_MUXERS, type NoiseHandshakePayload
} from '../../../src/security/noise/payload.js'
import { ProtobufWriter } from '../../../src/wire/protobuf.js'
import { isLp2pError, type ErrorCode } from '../../../src/errors.js'

const code = (c: ErrorCode) => (e: unknown): boolean => isLp2pError(e, c)

/** Splits `buf` at the given cut points (any values; reduced modulo the length). */
function split (buf: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => buf.length === 0 ? 0 : c % (buf.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of points) {
    out.push(buf.subarray(prev, p))
    prev = p
  }
  out.push(buf.subarray(prev))
  return out
}

function frame (body: Uint8Array): Buffer {
  const out = Buffer.alloc(2 + body.length)
  out.writeUInt16BE(body.length, 0)
  out.set(body, 2)
  return out
}

describe('FrameDecoder', () => {
  it('returns the same frames whatever the chunk boundaries', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (bodies, cuts) => {
        const wire = Buffer.concat(bodies.map(frame))
        const d = new FrameDecoder()
        const got: Uint8Array[] = []
        for (const piece of split(wire, cuts)) {
          d.push(piece)
          for (let f = d.next(); f !== undefined; f = d.next()) got.push(Buffer.from(f))
        }
        assert.deepEqual(got.map((b) => Buffer.from(b).toString('hex')), bodies.map((b) => Buffer.from(b).toString('hex')))
        assert.equal(d.partial, false)
        assert.equal(d.buffered, 0)
      }))
  })

  it('keeps a truncated frame pending and hands it back whole as remainder', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), fc.uint8Array({ maxLength: 50 }), (body, cut, extra) => {
      const wire = Buffer.concat([frame(Buffer.from('first')), frame(body), extra])
      const at = 7 + 1 + (cut % (body.length + 1)) // inside the second frame (after at least one prefix byte)
      const d = new FrameDecoder()
      d.push(wire.subarray(0, at))
      assert.deepEqual(Buffer.from(d.next() as Uint8Array), Buffer.from('first'))
      assert.equal(d.next(), undefined)
      assert.equal(d.partial, true)
      d.push(wire.subarray(at))
      assert.deepEqual(Buffer.from(d.next() as Uint8Array), Buffer.from(body))
      // Everything after the second frame comes back untouched, even when its prefix
      // was already parsed (as long as the frame it announces is incomplete).
      if (extra.length >= 2 && ((extra[0] as number) << 8 | (extra[1] as number)) > extra.length - 2) {
        assert.equal(d.next(), undefined)
      }
      assert.deepEqual(Buffer.from(d.takeRemainder()), Buffer.from(extra))
    }))
  })

  it('rejects lengths over the limit before buffering the body', () => {
    const d = new FrameDecoder({ maxLength: 100 })
    d.push(Uint8Array.of(0, 101))
    assert.throws(() => d.next(), code('ERR_MESSAGE_TOO_LARGE'))
    const d2 = new FrameDecoder({ maxLength: 100 })
    d2.push(Uint8Array.of(0, 100))
    assert.equal(d2.next(), undefined)
  })

  it('rejects lengths under the minimum (a transport message needs its tag)', () => {
    const d = new FrameDecoder({ minLength: 16 })
    d.push(Uint8Array.of(0, 15, ...new Uint8Array(15)))
    assert.throws(() => d.next(), code('ERR_INVALID_MESSAGE'))
  })

  it('accepts the largest frame the prefix can express, split byte by byte', () => {
    const body = Buffer.alloc(65535, 0x5a)
    const wire = frame(body)
    const d = new FrameDecoder()
    let got: Uint8Array | undefined
    for (let i = 0; i < wire.length; i += 4099) {
      d.push(wire.subarray(i, Math.min(i + 4099, wire.length)))
      got ??= d.next()
    }
    assert.deepEqual(Buffer.from(got as Uint8Array), body)
  })

  it('validates its options', () => {
    assert.throws(() => new FrameDecoder({ maxLength: 65536 }), RangeError)
    assert.throws(() => new FrameDecoder({ minLength: 10, maxLength: 5 }), RangeError)
  })
})

/** The sealed parts as one buffer. */
function sealFrames (cs: CipherState, chunks: readonly Uint8Array[], total: number): Buffer {
  return Buffer.concat(sealParts(cs, chunks, total))
}

describe('transport codec', () => {
  const key = Buffer.alloc(32, 0x42)

  function openAll (wire: Uint8Array): { plaintext: Buffer, lengths: number[] } {
    const receive = new CipherState(key)
    const d = new FrameDecoder({ minLength: 16 })
    d.push(wire)
    const parts: Buffer[] = []
    const lengths: number[] = []
    for (let f = d.next(); f !== undefined; f = d.next()) {
      lengths.push(f.byteLength)
      parts.push(openFrame(receive, f))
    }
    assert.equal(d.partial, false)
    return { plaintext: Buffer.concat(parts), lengths }
  }

  it('seals any buffer list into the fewest messages, and opens back the same bytes', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 1000, maxLength: 3000 })), { minLength: 1, maxLength: 12 }),
      (chunks) => {
        const total = totalLength(chunks)
        fc.pre(total > 0)
        const wire = sealFrames(new CipherState(key), chunks, total)
        assert.equal(wire.length, sealedLength(total))
        const { plaintext, lengths } = openAll(wire)
        assert.deepEqual(plaintext, Buffer.concat(chunks))
        assert.equal(lengths.length, Math.ceil(total / 65519))
      }), { numRuns: 60 })
  })

  it('splits a large write into messages of at most 65535 bytes including the tag', () => {
    const big = Buffer.alloc(200_000)
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff
    const wire = sealFrames(new CipherState(key), [big.subarray(0, 70_000), big.subarray(70_000)], big.length)
    const { plaintext, lengths } = openAll(wire)
    assert.deepEqual(plaintext, big)
    assert.deepEqual(lengths, [65535, 65535, 65535, 200_000 - 3 * 65519 + 16])
  })

  it('coalesces a 12-byte header and its payload into one message', () => {
    const wire = sealFrames(new CipherState(key), [Buffer.alloc(12, 1), Buffer.alloc(5000, 2)], 5012)
    assert.equal(wire.readUInt16BE(0), 5012 + 16)
    assert.equal(wire.length, 2 + 5012 + 16)
  })

  it('returns one buffer for small writes, and passes large ciphertexts on uncopied', () => {
    const small = sealParts(new CipherState(key), [Buffer.alloc(12), Buffer.alloc(300), Buffer.alloc(12)], 324)
    assert.equal(small.length, 1)
    assert.equal(small[0]?.length, 324 + 18)
    // [prefix + encrypted 12-byte header] [ciphertext of the payload] [tag]
    const big = sealParts(new CipherState(key), [Buffer.alloc(12), Buffer.alloc(60000)], 60012)
    assert.deepEqual(big.map((b) => b.length), [2 + 12, 60000, 16])
    // A 64 KiB write: the 17 bytes past the first message share a buffer with its tag.
    const k64 = sealParts(new CipherState(key), [Buffer.alloc(65536)], 65536)
    assert.deepEqual(k64.map((b) => b.length), [2, 65519, 16 + 2 + 17 + 16])
  })

  it('never overflows its scratch buffer, whatever the mix of small and large pieces', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.integer({ min: 0, max: SMALL_PIECE - 1 }), fc.integer({ min: SMALL_PIECE, max: 140_000 })), { minLength: 1, maxLength: 8 }),
      (sizes) => {
        const chunks = sizes.map((n, i) => Buffer.alloc(n, i))
        const total = totalLength(chunks)
        fc.pre(total > 0)
        const wire = sealFrames(new CipherState(key), chunks, total)
        assert.equal(wire.length, sealedLength(total))
        assert.deepEqual(openAll(wire).plaintext, Buffer.concat(chunks))
      }), { numRuns: 40 })
  })

  it('detects any flipped bit', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), (data, bit) => {
      const wire = sealFrames(new CipherState(key), [data], data.length)
      const body = Buffer.from(wire.subarray(2))
      const i = bit % (body.length * 8)
      body[i >> 3] = (body[i >> 3] as number) ^ (1 << (i & 7))
      assert.throws(() => openFrame(new CipherState(key), body), code('ERR_DECRYPTION_FAILED'))
    }))
  })

  it('rejects a message shorter than a tag', () => {
    assert.throws(() => openFrame(new CipherState(key), new Uint8Array(10)), code('ERR_DECRYPTION_FAILED'))
  })
})

describe('TransportDecoder', () => {
  const key = Buffer.alloc(32, 0x17)

  function decodeAll (wire: Uint8Array, cuts: number[]): { plaintext: Buffer, partial: boolean } {
    const d = new TransportDecoder(new CipherState(key))
    const out: Buffer[] = []
    for (const piece of split(wire, cuts)) d.decode(piece, out)
    return { plaintext: Buffer.concat(out), partial: d.partial }
  }

  it('opens the same plaintext whatever the chunk boundaries', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 2000, maxLength: 70_000 })), { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (writes, cuts) => {
        const send = new CipherState(key)
        const wire = Buffer.concat(writes.filter((w) => w.length > 0).map((w) => sealFrames(send, [w], w.length)))
        const { plaintext, partial } = decodeAll(wire, cuts)
        assert.deepEqual(plaintext, Buffer.concat(writes))
        assert.equal(partial, false)
      }), { numRuns: 60 })
  })

  it('releases nothing of a message before its tag arrived and verified', () => {
    const send = new CipherState(key)
    const wire = sealFrames(send, [Buffer.alloc(5000, 9)], 5000)
    const d = new TransportDecoder(new CipherState(key))
    const out: Buffer[] = []
    d.decode(wire.subarray(0, wire.length - 1), out)
    assert.equal(out.length, 0)
    assert.equal(d.partial, true)
    d.decode(wire.subarray(wire.length - 1), out)
    assert.deepEqual(Buffer.concat(out), Buffer.alloc(5000, 9))
    assert.equal(d.partial, false)
  })

  it('rejects a flipped bit anywhere, under any chunking, without releasing that message', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.nat(), fc.array(fc.nat(), { maxLength: 10 }), (data, bit, cuts) => {
      const send = new CipherState(key)
      const wire = Buffer.concat([sealFrames(send, [Buffer.from('ok')], 2), sealFrames(send, [data], data.length)])
      const first = 2 + 2 + 16
      const i = first * 8 + 16 + (bit % ((wire.length - first - 2) * 8)) // not in the second prefix
      wire[i >> 3] = (wire[i >> 3] as number) ^ (1 << (i & 7))
      const d = new TransportDecoder(new CipherState(key))
      const out: Buffer[] = []
      assert.throws(() => { for (const piece of split(wire, cuts)) d.decode(piece, out) }, code('ERR_DECRYPTION_FAILED'))
      assert.equal(Buffer.concat(out).toString(), 'ok')
      assert.throws(() => d.decode(Uint8Array.of(0), out), code('ERR_DECRYPTION_FAILED'))
    }))
  })

  it('rejects lengths too short for a tag, and garbage, with ERR_DECRYPTION_FAILED only', () => {
    const d = new TransportDecoder(new CipherState(key))
    assert.throws(() => d.decode(Uint8Array.of(0, 15), []), code('ERR_DECRYPTION_FAILED'))
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 500 }), fc.array(fc.nat(), { maxLength: 5 }), (garbage, cuts) => {
      try {
        const r = decodeAll(garbage, cuts)
        // Garbage either fails or is still waiting for the rest of a message.
        assert.equal(r.plaintext.length, 0)
        assert.equal(r.partial, true)
      } catch (err) {
        assert.ok(isLp2pError(err, 'ERR_DECRYPTION_FAILED'), String(err))
      }
    }))
  })

  it('accepts an empty message (tag only) and yields nothing for it', () => {
    const send = new CipherState(key)
    const c = send.nextCipher()
    c.final()
    const wire = Buffer.concat([Buffer.from([0, 16]), c.getAuthTag(), sealFrames(send, [Buffer.from('x')], 1)])
    assert.equal(decodeAll(wire, [1, 5]).plaintext.toString(), 'x')
  })
})

describe('handshake payload', () => {
  const arbPayload = fc.record({
    identityKey: fc.uint8Array({ maxLength: 100 }),
    identitySig: fc.uint8Array({ maxLength: 100 }),
    extensions: fc.option(fc.record({
      webtransportCerthashes: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 3 }),
      streamMuxers: fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 })
    }), { nil: undefined })
  })

  function normalise (p: NoiseHandshakePayload): unknown {
    return {
      identityKey: Buffer.from(p.identityKey).toString('hex'),
      identitySig: Buffer.from(p.identitySig).toString('hex'),
      extensions: p.extensions === undefined
        ? undefined
        : {
            webtransportCerthashes: p.extensions.webtransportCerthashes.map((c) => Buffer.from(c).toString('hex')),
            streamMuxers: p.extensions.streamMuxers.map((s) => Buffer.from(s, 'utf8').toString('utf8'))
          }
    }
  }

  it('round-trips', () => {
    fc.assert(fc.property(arbPayload, (p) => {
      const payload: NoiseHandshakePayload = { identityKey: p.identityKey, identitySig: p.identitySig }
      if (p.extensions !== undefined) payload.extensions = p.extensions
      assert.deepEqual(normalise(decodeHandshakePayload(encodeHandshakePayload(payload))), normalise(payload))
    }))
  })

  it('matches the encoding of the spec schema field by field', () => {
    const bytes = encodeHandshakePayload({
      identityKey: Uint8Array.of(1, 2),
      identitySig: Uint8Array.of(3),
      extensions: { webtransportCerthashes: [], streamMuxers: ['/yamux/1.0.0'] }
    })
    // 0a 02 0102 | 12 01 03 | 22 0e (12 0c "/yamux/1.0.0")
    assert.equal(Buffer.from(bytes).toString('hex'), '0a020102120103220e120c' + Buffer.from('/yamux/1.0.0').toString('hex'))
  })

  it('skips unknown fields, keeps the last singular value and merges extensions', () => {
    const bytes = new ProtobufWriter()
      .bytes(1, Uint8Array.of(9))
      .uint(3, 77)
      .bytes(1, Uint8Array.of(1))
      .message(4, new ProtobufWriter().string(2, '/a').uint(1025, 5))
      .message(4, new ProtobufWriter().string(2, '/b').bytes(1, Uint8Array.of(0x12)))
      .bytes(99, Uint8Array.of(1, 2, 3))
      .finish()
    const p = decodeHandshakePayload(bytes)
    assert.deepEqual([...p.identityKey], [1])
    assert.equal(p.identitySig.length, 0)
    assert.deepEqual(p.extensions?.streamMuxers, ['/a', '/b'])
    assert.equal(p.extensions?.webtransportCerthashes.length, 1)
  })

  it('enforces its limits', () => {
    const many = new ProtobufWriter().repeatedString(2, Array.from({ length: MAX_STREAM_MUXERS + 1 }, (_, i) => `/m/${i}`))
    assert.throws(() => decodeHandshakePayload(new ProtobufWriter().message(4, many).finish()), code('ERR_MESSAGE_TOO_LARGE'))
    const long = new ProtobufWriter().string(2, 'x'.repeat(1024))
    assert.throws(() => decodeHandshakePayload(new ProtobufWriter().message(4, long).finish()), code('ERR_MESSAGE_TOO_LARGE'))
    assert.throws(() => decodeHandshakePayload(new ProtobufWriter().bytes(1, new Uint8Array(2049)).finish()), code('ERR_MESSAGE_TOO_LARGE'))
    assert.throws(() => decodeHandshakePayload(new ProtobufWriter().bytes(2, new Uint8Array(1025)).finish()), code('ERR_MESSAGE_TOO_LARGE'))
    assert.throws(() => decodeHandshakePayload(new ProtobufWriter().bytes(1, new Uint8Array(10)).finish(), {
      maxIdentityKeyLength: 9, maxIdentitySigLength: 10, maxStreamMuxers: 1, maxStreamMuxerLength: 1, maxCerthashes: 1, maxCerthashLength: 1
    }), code('ERR_MESSAGE_TOO_LARGE'))
    const certs = new ProtobufWriter().repeatedBytes(1, Array.from({ length: 17 }, () => new Uint8Array(34)))
    assert.throws(() => decodeHandshakePayload(new ProtobufWriter().message(4, certs).finish()), code('ERR_MESSAGE_TOO_LARGE'))
  })

  it('rejects garbage, truncation and bad UTF-8 with ERR_INVALID_MESSAGE, never anything else', () => {
    const valid = encodeHandshakePayload({
      identityKey: new Uint8Array(36).fill(1),
      identitySig: new Uint8Array(64).fill(2),
      extensions: { webtransportCerthashes: [], streamMuxers: ['/yamux/1.0.0', '/mplex/6.7.0'] }
    })
    for (let n = 1; n < valid.length; n++) {
      // Every proper prefix cut inside a field is malformed; a cut between fields is valid.
      try { decodeHandshakePayload(valid.subarray(0, n)) } catch (err) { assert.ok(isLp2pError(err, 'ERR_INVALID_MESSAGE'), String(err)) }
    }
    assert.throws(() => decodeHandshakePayload(new ProtobufWriter().message(4, new ProtobufWriter().bytes(2, Uint8Array.of(0xff, 0xfe))).finish()), code('ERR_INVALID_MESSAGE'))
    assert.throws(() => decodeHandshakePayload(Uint8Array.of(0x08, 0x01)), code('ERR_INVALID_MESSAGE')) // field 1 as a varint
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (garbage) => {
      try {
        decodeHandshakePayload(garbage)
      } catch (err) {
        assert.ok(isLp2pError(err, 'ERR_INVALID_MESSAGE') || isLp2pError(err, 'ERR_MESSAGE_TOO_LARGE'), String(err))
      }
    }))
  })
})
