import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodePrefix, encodeFrame, Flag, FrameDecoder, MAX_STREAM_ID, prefixLength,
  SPEC_MAX_MESSAGE_SIZE, sentByInitiator, type FrameHeader
} from '../../../src/muxer/mplex/frame.js'
import { OutputQueue } from '../../../src/muxer/mplex/output.js'
import { codes, isLp2pError } from '../../../src/errors.js'
import { split } from '../../helpers/chunks.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'))
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s)

interface Frame { flag: number, streamId: number, body: Uint8Array }

/** Decodes everything in `chunks`, reassembling bodies; `maxPiece` bounds each piece. */
function decodeAll (chunks: Uint8Array[], maxMessageSize = SPEC_MAX_MESSAGE_SIZE, maxPiece = Infinity): Frame[] {
  const d = new FrameDecoder(maxMessageSize)
  const frames: Frame[] = []
  let current: { header: FrameHeader, parts: Uint8Array[] } | undefined
  const finish = (): void => {
    if (current === undefined) return
    frames.push({ flag: current.header.flag, streamId: current.header.streamId, body: Buffer.concat(current.parts) })
    current = undefined
  }
  for (const c of chunks) {
    d.push(c)
    for (let ev = d.next(maxPiece); ev !== undefined; ev = d.next(maxPiece)) {
      if (ev instanceof Uint8Array) {
        assert.ok(ev.byteLength > 0 && ev.byteLength <= maxPiece, `piece of ${ev.byteLength} bytes`)
        current?.parts.push(ev)
        if (d.bodyRemaining === 0) finish()
      } else {
        assert.equal(current, undefined, 'a header only after the previous body')
        current = { header: ev, parts: [] }
        if (ev.length === 0) finish()
      }
    }
  }
  assert.equal(d.bodyRemaining, 0, 'no partial body left')
  assert.equal(d.bufferedBytes, 0, 'no bytes left')
  return frames
}

const encodeAll = (frames: Frame[]): Uint8Array => Buffer.concat(frames.map((f) => encodeFrame(f.flag, f.streamId, f.body)))

const frameArb: fc.Arbitrary<Frame> = fc.record({
  flag: fc.integer({ min: 0, max: 6 }),
  streamId: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: MAX_STREAM_ID })),
  body: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 400 }))
})

function throwsCode (fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => isLp2pError(e) && e.code === code, `expected ${code}`)
}

describe('mplex frame codec', () => {
  it('encodes the vectors of js-libp2p-mplex\'s coder tests', () => {
    // NewStream, id 17, named "17": header 17 << 3 | 0 = 136 = varint 88 01.
    assert.equal(hex(encodeFrame(Flag.NewStream, 17, ascii('17'))), '8801023137')
    assert.equal(hex(encodeFrame(Flag.NewStream, 17)), '880100')
    const three = Buffer.concat([17, 19, 21].map((id) => encodeFrame(Flag.NewStream, id, ascii(String(id)))))
    assert.equal(hex(three), '88010231379801023139a801023231')
  })

  it('puts the flag in the low three bits and the id above them (mplex.md, "Message format")', () => {
    assert.equal(hex(encodeFrame(Flag.NewStream, 0, ascii('0'))), '000130')
    assert.equal(hex(encodeFrame(Flag.MessageInitiator, 0, ascii('hi'))), '02026869')
    assert.equal(hex(encodeFrame(Flag.MessageReceiver, 17, ascii('x'))), '890101' + '78')
    assert.equal(hex(encodeFrame(Flag.CloseInitiator, 1)), '0c00')
    assert.equal(hex(encodeFrame(Flag.CloseReceiver, 1)), '0b00')
    assert.equal(hex(encodeFrame(Flag.ResetInitiator, 1)), '0e00')
    // 1000 << 3 | 5 = 8005 = 0x1f45: varint c5 3e.
    assert.equal(hex(encodeFrame(Flag.ResetReceiver, 1000)), 'c53e00')
    // A 200-byte body: length varint c8 01.
    assert.equal(hex(encodeFrame(Flag.MessageInitiator, 3, new Uint8Array(200)).subarray(0, 3)), '1ac801')
    // The largest id: header 2^53 - 8 + 6, eight bytes.
    const big = encodeFrame(Flag.ResetInitiator, MAX_STREAM_ID)
    assert.equal(big.byteLength, 9)
    assert.equal(prefixLength(MAX_STREAM_ID, 0), 9)
  })

  it('decodes the vectors back', () => {
    assert.deepEqual(decodeAll([fromHex('88010231379801023139a801023231')]).map((f) => [f.flag, f.streamId, Buffer.from(f.body).toString()]),
      [[0, 17, '17'], [0, 19, '19'], [0, 21, '21']])
    assert.deepEqual(decodeAll([fromHex('c53e00')]), [{ flag: Flag.ResetReceiver, streamId: 1000, body: Buffer.alloc(0) }])
    const big = decodeAll([encodeFrame(Flag.MessageReceiver, MAX_STREAM_ID, ascii('z'))])
    assert.equal(big[0]?.streamId, MAX_STREAM_ID)
    assert.equal(big[0]?.flag, Flag.MessageReceiver)
  })

  it('tells initiator flags from receiver flags', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((f) => sentByInitiator(f as Flag)), [true, false, true, false, true, false, true])
  })

  it('refuses to encode a bad flag or id', () => {
    assert.throws(() => encodeFrame(7, 0), RangeError)
    assert.throws(() => encodeFrame(0, -1), RangeError)
    assert.throws(() => encodeFrame(0, MAX_STREAM_ID + 1), RangeError)
  })

  it('round-trips any sequence of messages, however the input is split (fast-check)', () => {
    fc.assert(fc.property(fc.array(frameArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
      const bytes = encodeAll(frames)
      const decoded = decodeAll(split(bytes, cuts))
      assert.deepEqual(decoded.map((f) => [f.flag, f.streamId, hex(f.body)]), frames.map((f) => [f.flag, f.streamId, hex(f.body)]))
    }), { numRuns: 300 })
  })

  it('round-trips with bodies handed out in bounded pieces, byte by byte included (fast-check)', () => {
    fc.assert(fc.property(fc.array(frameArb, { maxLength: 10 }), fc.integer({ min: 1, max: 50 }), (frames, maxPiece) => {
      const bytes = encodeAll(frames)
      const oneByOne = Array.from(bytes, (b) => Uint8Array.of(b))
      for (const chunks of [[bytes], oneByOne]) {
        const decoded = decodeAll(chunks, SPEC_MAX_MESSAGE_SIZE, maxPiece)
        assert.deepEqual(decoded.map((f) => hex(f.body)), frames.map((f) => hex(f.body)))
      }
    }), { numRuns: 100 })
  })

  it('hands out views of the pushed chunks, never copies', () => {
    const body = new Uint8Array(1000).fill(7)
    const bytes = encodeFrame(Flag.MessageInitiator, 1, body)
    const d = new FrameDecoder(SPEC_MAX_MESSAGE_SIZE)
    d.push(bytes)
    assert.ok(!((d.next()) instanceof Uint8Array))
    const piece = d.next() as Uint8Array
    assert.equal(piece.buffer, bytes.buffer)
    assert.equal(piece.byteLength, 1000)
  })

  it('waits on truncated input, never throws, and holds only what it was given', () => {
    const bytes = encodeFrame(Flag.MessageInitiator, 123456, new Uint8Array(300))
    for (let n = 0; n < bytes.byteLength; n++) {
      const d = new FrameDecoder(SPEC_MAX_MESSAGE_SIZE)
      d.push(bytes.subarray(0, n))
      let got = 0
      for (let ev = d.next(); ev !== undefined; ev = d.next()) if (ev instanceof Uint8Array) got += ev.byteLength
      assert.ok(d.bufferedBytes <= n)
      assert.ok(got <= 300)
    }
  })

  it('accepts a body of exactly the limit and rejects one byte more, as soon as the length is read', () => {
    const ok = new FrameDecoder(SPEC_MAX_MESSAGE_SIZE)
    ok.push(fromHex('02 80 80 40')) // MessageInitiator id 0, length 2^20, no body yet
    assert.equal((ok.next() as FrameHeader).length, SPEC_MAX_MESSAGE_SIZE)
    const d = new FrameDecoder(SPEC_MAX_MESSAGE_SIZE)
    d.push(fromHex('02 81 80 40')) // length 2^20 + 1
    throwsCode(() => d.next(), codes.ERR_MESSAGE_TOO_LARGE)
    // Split across chunks, the same.
    const s = new FrameDecoder(1024)
    s.push(fromHex('02'))
    assert.equal(s.next(), undefined)
    s.push(fromHex('81'))
    assert.equal(s.next(), undefined)
    s.push(fromHex('08'))
    throwsCode(() => s.next(), codes.ERR_MESSAGE_TOO_LARGE)
  })

  it('rejects flag 7 as soon as the header is read, before any length', () => {
    const d = new FrameDecoder(SPEC_MAX_MESSAGE_SIZE)
    d.push(fromHex('0f'))
    throwsCode(() => d.next(), codes.ERR_MUXER_PROTOCOL)
    throwsCode(() => decodePrefix(fromHex('ff 01'), 0, 2, 1024), codes.ERR_MUXER_PROTOCOL)
  })

  it('rejects malformed varints: too long, not minimal, beyond 2^53', () => {
    for (const h of [
      'ff ff ff ff ff ff ff ff ff 01 00', // header of 10 bytes
      '82 00 00', // header not minimally encoded
      '02 80 00', // length not minimally encoded
      'fe ff ff ff ff ff ff ff 01 00' // header 2^57 - 2: beyond the safe integers
    ]) {
      const d = new FrameDecoder(SPEC_MAX_MESSAGE_SIZE)
      for (const b of fromHex(h)) d.push(Uint8Array.of(b))
      throwsCode(() => { while (d.next() !== undefined); }, codes.ERR_INVALID_VARINT)
    }
  })

  it('stays failed after an error and drops its input', () => {
    const d = new FrameDecoder(SPEC_MAX_MESSAGE_SIZE)
    d.push(fromHex('0f 00 02 01 41'))
    throwsCode(() => d.next(), codes.ERR_MUXER_PROTOCOL)
    d.push(encodeFrame(Flag.NewStream, 1))
    throwsCode(() => d.next(), codes.ERR_MUXER_PROTOCOL)
    assert.equal(d.bufferedBytes, 0)
  })

  it('never throws anything but an Lp2pError on garbage, and holds at most the input (fast-check)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 10 }), (garbage, cuts) => {
      const d = new FrameDecoder(64)
      try {
        for (const c of split(garbage, cuts)) {
          d.push(c)
          for (let ev = d.next(); ev !== undefined; ev = d.next()) {
            if (!(ev instanceof Uint8Array)) assert.ok(ev.length <= 64 && ev.flag <= 6 && ev.streamId <= MAX_STREAM_ID)
          }
        }
      } catch (err) {
        assert.ok(isLp2pError(err), String(err))
      }
      assert.ok(d.bufferedBytes <= garbage.byteLength)
    }), { numRuns: 500 })
  })
})

describe('mplex output queue', () => {
  it('writes prefixes and names into one buffer and keeps payloads as views', () => {
    const q = new OutputQueue()
    const payload = new Uint8Array(5000).fill(1)
    q.pushControl(Flag.NewStream, 0, ascii('0'))
    q.pushDataPrefix(Flag.MessageInitiator, 0, payload.byteLength)
    q.pushPayload(payload)
    q.pushControl(Flag.CloseInitiator, 0)
    assert.equal(q.frames, 3)
    assert.equal(q.controlFrames, 2)
    assert.equal(q.dataBytes, 5000)
    const out = q.take() as Uint8Array[]
    assert.equal(out.length, 3)
    assert.equal(hex(out[0] as Uint8Array), '000130' + '028827')
    assert.equal(out[1], payload)
    assert.equal(hex(out[2] as Uint8Array), '0400')
    assert.equal(q.take(), undefined)
    assert.equal(q.frames, 0)
  })

  it('decodes back what it queued, across many arenas (fast-check)', () => {
    fc.assert(fc.property(fc.array(frameArb, { maxLength: 200 }), (frames) => {
      const q = new OutputQueue()
      for (const f of frames) {
        if (f.flag === Flag.MessageInitiator || f.flag === Flag.MessageReceiver) {
          q.pushDataPrefix(f.flag as Flag, f.streamId, f.body.byteLength)
          if (f.body.byteLength > 0) q.pushPayload(f.body)
        } else {
          q.pushControl(f.flag as Flag, f.streamId, f.body.subarray(0, 64))
        }
      }
      const out = q.take() ?? []
      const expected = frames.map((f) => f.flag === Flag.MessageInitiator || f.flag === Flag.MessageReceiver ? f : { ...f, body: f.body.subarray(0, 64) })
      assert.deepEqual(decodeAll([Buffer.concat(out)]).map((f) => [f.flag, f.streamId, hex(f.body)]),
        expected.map((f) => [f.flag, f.streamId, hex(f.body)]))
    }), { numRuns: 100 })
  })
})
