import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeHeader, encodeHeader, Flag, FrameDecoder, FrameType, HEADER_LENGTH, MAX_UINT32, type FrameHeader
} from '../../../src/muxer/yamux/frame.js'
import { OutputQueue } from '../../../src/muxer/yamux/output.js'
import { codes, isLp2pError } from '../../../src/errors.js'
import { split } from '../../helpers/chunks.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'))

interface Frame { header: FrameHeader, payload: Uint8Array }

/** Decodes everything in `chunks`, reassembling Data payloads. */
function decodeAll (chunks: Uint8Array[], maxDataLength = 16 * 1024 * 1024): Frame[] {
  const d = new FrameDecoder({ maxDataLength })
  const frames: Frame[] = []
  let current: { header: FrameHeader, parts: Uint8Array[] } | undefined
  const finish = (): void => {
    if (current === undefined) return
    frames.push({ header: current.header, payload: Buffer.concat(current.parts) })
    current = undefined
  }
  for (const c of chunks) {
    d.push(c)
    for (let ev = d.next(); ev !== undefined; ev = d.next()) {
      if (ev instanceof Uint8Array) {
        current?.parts.push(ev)
        if (d.payloadRemaining === 0) finish()
      } else {
        current = { header: ev, parts: [] }
        if (ev.type !== FrameType.Data || ev.length === 0) finish()
      }
    }
  }
  assert.equal(d.payloadRemaining, 0, 'no partial frame left')
  assert.equal(d.bufferedBytes, 0, 'no bytes left')
  return frames
}

function encodeFrames (frames: Frame[]): Uint8Array {
  return Buffer.concat(frames.flatMap((f) => [encodeHeader(f.header), f.payload]))
}

const headerArb = fc.record({
  type: fc.constantFrom(FrameType.WindowUpdate, FrameType.Ping, FrameType.GoAway),
  flags: fc.integer({ min: 0, max: 0xffff }),
  streamId: fc.integer({ min: 0, max: MAX_UINT32 }),
  length: fc.integer({ min: 0, max: MAX_UINT32 })
})
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  headerArb.map((h) => ({ header: { ...h } as FrameHeader, payload: new Uint8Array(0) })),
  fc.record({
    flags: fc.integer({ min: 0, max: 0xffff }),
    streamId: fc.integer({ min: 0, max: MAX_UINT32 }),
    payload: fc.uint8Array({ maxLength: 300 })
  }).map(({ flags, streamId, payload }) => ({
    header: { type: FrameType.Data, flags, streamId, length: payload.byteLength },
    payload
  }))
)

describe('yamux frame codec', () => {
  it('encodes the spec layout: version, type, flags, stream id, length, big-endian', () => {
    // Window Update + SYN on stream 1 (how go-yamux opens a stream), then its ACK.
    assert.equal(hex(encodeHeader({ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 1, length: 0 })), '000100010000000100000000')
    assert.equal(hex(encodeHeader({ type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 1, length: 0 })), '000100020000000100000000')
    // Data, stream 1, 38 bytes of payload.
    assert.equal(hex(encodeHeader({ type: FrameType.Data, flags: 0, streamId: 1, length: 0x26 })), '000000000000000100000026')
    // Data with SYN and 5 bytes.
    assert.equal(hex(encodeHeader({ type: FrameType.Data, flags: Flag.SYN, streamId: 1, length: 5 })), '000000010000000100000005')
    // FIN|ACK on a window update granting 256 KiB more, stream 2.
    assert.equal(hex(encodeHeader({ type: FrameType.WindowUpdate, flags: Flag.ACK | Flag.FIN, streamId: 2, length: 256 * 1024 })), '000100060000000200040000')
    // RST.
    assert.equal(hex(encodeHeader({ type: FrameType.WindowUpdate, flags: Flag.RST, streamId: 0xfffffffe, length: 0 })), '00010008fffffffe00000000')
    // Ping request / answer with opaque value 0xdeadbeef; GoAway protocol error.
    assert.equal(hex(encodeHeader({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 0xdeadbeef })), '0002000100000000deadbeef')
    assert.equal(hex(encodeHeader({ type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: 0xdeadbeef })), '0002000200000000deadbeef')
    assert.equal(hex(encodeHeader({ type: FrameType.GoAway, flags: 0, streamId: 0, length: 1 })), '000300000000000000000001')
  })

  it('decodes 32-bit fields above 2^31 as unsigned', () => {
    const h = decodeHeader(fromHex('0001ffff ffffffff ffffffff'))
    assert.deepEqual(h, { type: 1, flags: 0xffff, streamId: MAX_UINT32, length: MAX_UINT32 })
  })

  it('rejects out-of-range fields when encoding', () => {
    assert.throws(() => encodeHeader({ type: 1, flags: 0x10000, streamId: 1, length: 0 }), RangeError)
    assert.throws(() => encodeHeader({ type: 1, flags: 0, streamId: MAX_UINT32 + 1, length: 0 }), RangeError)
    assert.throws(() => encodeHeader({ type: 1, flags: 0, streamId: 1, length: -1 }), RangeError)
    assert.throws(() => encodeHeader({ type: 1, flags: 0, streamId: 1.5, length: 0 }), RangeError)
  })

  it('round-trips any header (property)', () => {
    fc.assert(fc.property(headerArb, (h) => {
      assert.deepEqual(decodeHeader(encodeHeader(h as FrameHeader)), { ...h })
    }))
  })

  it('decodes any frame sequence cut at arbitrary points, payloads as views (property)', () => {
    fc.assert(fc.property(fc.array(frameArb, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
      const wire = encodeFrames(frames)
      const got = decodeAll(split(wire, cuts))
      assert.equal(got.length, frames.length)
      for (let i = 0; i < frames.length; i++) {
        assert.deepEqual(got[i]?.header, frames[i]?.header)
        assert.equal(hex(got[i]?.payload as Uint8Array), hex(frames[i]?.payload as Uint8Array))
      }
    }), { numRuns: 300 })
  })

  it('decodes one byte at a time', () => {
    const frames: Frame[] = [
      { header: { type: FrameType.Data, flags: Flag.SYN, streamId: 3, length: 3 }, payload: Uint8Array.of(1, 2, 3) },
      { header: { type: FrameType.WindowUpdate, flags: Flag.FIN, streamId: 3, length: 9 }, payload: new Uint8Array(0) },
      { header: { type: FrameType.Data, flags: 0, streamId: 3, length: 0 }, payload: new Uint8Array(0) }
    ]
    const wire = encodeFrames(frames)
    const got = decodeAll([...wire].map((b) => Uint8Array.of(b)))
    assert.deepEqual(got.map((f) => f.header), frames.map((f) => f.header))
  })

  it('hands out payload without copying when a frame is inside one chunk', () => {
    const payload = Uint8Array.of(9, 8, 7, 6)
    const wire = encodeFrames([{ header: { type: FrameType.Data, flags: 0, streamId: 1, length: 4 }, payload }])
    const d = new FrameDecoder({ maxDataLength: 100 })
    d.push(wire)
    d.next()
    const piece = d.next() as Uint8Array
    assert.equal(piece.buffer, wire.buffer, 'a view of the pushed chunk')
  })

  it('needs more bytes on truncated input, never throws', () => {
    fc.assert(fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), fc.nat(), (frames, cut) => {
      const wire = encodeFrames(frames)
      const n = cut % wire.byteLength
      const d = new FrameDecoder({ maxDataLength: 1 << 20 })
      d.push(wire.subarray(0, n))
      let count = 0
      for (let ev = d.next(); ev !== undefined; ev = d.next()) count++
      assert.ok(count <= frames.length * 2)
    }))
  })

  it('rejects a bad version, an unknown type, and stays failed', () => {
    for (const bad of ['01 00 0000 00000001 00000000', 'ff 01 0000 00000001 00000000']) {
      const d = new FrameDecoder({ maxDataLength: 100 })
      d.push(fromHex(bad))
      assert.throws(() => d.next(), (e: unknown) => isLp2pError(e, codes.ERR_MUXER_PROTOCOL))
      assert.throws(() => d.next(), (e: unknown) => isLp2pError(e, codes.ERR_MUXER_PROTOCOL), 'still failed')
    }
    for (let type = 4; type <= 255; type += 17) {
      const d = new FrameDecoder({ maxDataLength: 100 })
      d.push(Uint8Array.of(0, type, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0))
      assert.throws(() => d.next(), (e: unknown) => isLp2pError(e, codes.ERR_MUXER_PROTOCOL) && /type/.test((e as Error).message))
    }
  })

  it('rejects a Data length over the limit as soon as the header is read', () => {
    const d = new FrameDecoder({ maxDataLength: 1000 })
    d.push(encodeHeader({ type: FrameType.Data, flags: 0, streamId: 1, length: 1001 }))
    assert.throws(() => d.next(), (e: unknown) => isLp2pError(e, codes.ERR_MESSAGE_TOO_LARGE))
    // The same length is fine for a Window Update (a delta, not a payload).
    const ok = new FrameDecoder({ maxDataLength: 1000 })
    ok.push(encodeHeader({ type: FrameType.WindowUpdate, flags: 0, streamId: 1, length: MAX_UINT32 }))
    assert.equal((ok.next() as FrameHeader).length, MAX_UINT32)
    const atLimit = new FrameDecoder({ maxDataLength: 1000 })
    atLimit.push(encodeHeader({ type: FrameType.Data, flags: 0, streamId: 1, length: 1000 }))
    assert.equal((atLimit.next() as FrameHeader).length, 1000)
    assert.equal(atLimit.payloadRemaining, 1000)
  })

  it('only ever throws Lp2pError on garbage (fuzz)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), (garbage, cuts) => {
      const d = new FrameDecoder({ maxDataLength: 1 << 16 })
      try {
        for (const c of split(garbage, cuts)) {
          d.push(c)
          for (let ev = d.next(); ev !== undefined; ev = d.next()) { /* drain */ }
        }
      } catch (e) {
        assert.ok(isLp2pError(e), `unexpected ${String(e)}`)
      }
    }), { numRuns: 500 })
  })
})

describe('yamux output queue', () => {
  it('joins consecutive headers into one buffer and keeps payload views', () => {
    const q = new OutputQueue()
    q.pushHeader(FrameType.WindowUpdate, Flag.ACK, 2, 0)
    q.pushHeader(FrameType.Ping, Flag.ACK, 0, 7)
    const payload = Uint8Array.of(1, 2, 3)
    q.pushHeader(FrameType.Data, 0, 1, 3)
    q.pushPayload(payload)
    q.pushHeader(FrameType.GoAway, 0, 0, 0)
    assert.equal(q.frames, 4)
    assert.equal(q.dataBytes, 3)
    const out = q.take() as Uint8Array[]
    assert.equal(out.length, 3, 'headers, payload, header')
    assert.equal(out[0]?.byteLength, 36)
    assert.equal(out[1], payload)
    const frames = decodeAll(out)
    assert.deepEqual(frames.map((f) => [f.header.type, f.header.flags, f.header.streamId]), [
      [FrameType.WindowUpdate, Flag.ACK, 2], [FrameType.Ping, Flag.ACK, 0], [FrameType.Data, 0, 1], [FrameType.GoAway, 0, 0]
    ])
    assert.equal(q.take(), undefined)
  })

  it('never rewrites memory it handed out, across many arenas', () => {
    const q = new OutputQueue()
    const taken: Array<{ chunks: Uint8Array[], ids: number[] }> = []
    let id = 0
    for (let round = 0; round < 20; round++) {
      const ids: number[] = []
      for (let i = 0; i < 1 + (round * 13) % 200; i++) {
        q.pushHeader(FrameType.WindowUpdate, 0, ++id, round)
        ids.push(id)
      }
      taken.push({ chunks: q.take() as Uint8Array[], ids })
    }
    for (const t of taken) {
      assert.deepEqual(decodeAll(t.chunks).map((f) => f.header.streamId), t.ids)
    }
    assert.equal(HEADER_LENGTH, 12)
  })
})
