import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ProtobufReader, ProtobufWriter, WireType, MAX_FIELD_NUMBER, DEFAULT_MAX_MESSAGE_BYTES, utf8Length } from '../../src/wire/protobuf.js'
import { isLp2pError } from '../../src/errors.js'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const isInvalid = (e: unknown): boolean => isLp2pError(e, 'ERR_INVALID_MESSAGE')

type Field =
  | { field: number, kind: 'uint', value: number }
  | { field: number, kind: 'uint64', value: bigint }
  | { field: number, kind: 'fixed32', value: number }
  | { field: number, kind: 'fixed64', value: bigint }
  | { field: number, kind: 'bytes', value: Uint8Array }
  | { field: number, kind: 'string', value: string }

const fieldNumber = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: MAX_FIELD_NUMBER }))
const fieldArb: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ field: fieldNumber, kind: fc.constant('uint' as const), value: fc.maxSafeNat() }),
  fc.record({ field: fieldNumber, kind: fc.constant('uint64' as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
  fc.record({ field: fieldNumber, kind: fc.constant('fixed32' as const), value: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ field: fieldNumber, kind: fc.constant('fixed64' as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
  fc.record({ field: fieldNumber, kind: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ field: fieldNumber, kind: fc.constant('string' as const), value: fc.string({ unit: 'grapheme', maxLength: 40 }) })
)

function encode (fields: Field[]): Uint8Array {
  const w = new ProtobufWriter()
  for (const f of fields) {
    switch (f.kind) {
      case 'uint': w.uint(f.field, f.value); break
      case 'uint64': w.uint64(f.field, f.value); break
      case 'fixed32': w.fixed32(f.field, f.value); break
      case 'fixed64': w.fixed64(f.field, f.value); break
      case 'bytes': w.bytes(f.field, f.value); break
      case 'string': w.string(f.field, f.value); break
    }
  }
  const out = w.finish()
  assert.equal(out.length, w.byteLength)
  return out
}

/** Reads a field list back the way the test wrote it (the kind tells the accessor). */
function decodeAs (buf: Uint8Array, fields: Field[]): void {
  const r = new ProtobufReader(buf)
  for (const f of fields) {
    assert.equal(r.next(), f.field)
    switch (f.kind) {
      case 'uint': assert.equal(r.uint(), f.value); break
      case 'uint64': assert.equal(r.uint64(), f.value); break
      case 'fixed32': assert.equal(r.fixed32(), f.value); break
      case 'fixed64': assert.equal(r.fixed64(), f.value); break
      case 'bytes': assert.deepEqual(r.bytes(), f.value); break
      case 'string': assert.equal(r.string(), f.value); break
    }
  }
  assert.equal(r.next(), 0)
}

/** Walks any message generically by wire type; returns the field count. */
function walk (buf: Uint8Array): number {
  const r = new ProtobufReader(buf)
  let n = 0
  for (let f = r.next(); f !== 0; f = r.next()) {
    n++
    switch (r.wireType) {
      case WireType.VARINT: r.uint64(); break
      case WireType.FIXED64: r.fixed64(); break
      case WireType.FIXED32: r.fixed32(); break
      default: r.bytes(); break
    }
  }
  return n
}

describe('protobuf writer: known encodings (protobuf encoding guide)', () => {
  it('encodes the guide examples', () => {
    assert.equal(toHex(new ProtobufWriter().uint(1, 150).finish()), '089601')
    assert.equal(toHex(new ProtobufWriter().string(2, 'testing').finish()), '120774657374696e67')
    const inner = new ProtobufWriter().uint(1, 150)
    assert.equal(toHex(new ProtobufWriter().message(3, inner).finish()), '1a03089601')
    assert.equal(toHex(new ProtobufWriter().fixed32(5, 1).finish()), '2d01000000')
    assert.equal(toHex(new ProtobufWriter().fixed64(1, 0x0102030405060708n).finish()), '090807060504030201')
  })

  it('writes proto2 zero values and preserves call order (peer-ids.md PublicKey)', () => {
    const raw = hex('1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e')
    assert.equal(toHex(new ProtobufWriter().uint(1, 1).bytes(2, raw).finish()), '08011220' + toHex(raw))
    assert.equal(toHex(new ProtobufWriter().uint(1, 0).finish()), '0800')
  })

  it('sign-extends negative int32 to 10 bytes and reads it back', () => {
    const enc = new ProtobufWriter().int32(1, -1).finish()
    assert.equal(toHex(enc), '08ffffffffffffffffff01')
    const r = new ProtobufReader(enc)
    r.next()
    assert.equal(r.int32(), -1)
  })

  it('encodes uint64 extremes', () => {
    const max = (1n << 64n) - 1n
    const enc = new ProtobufWriter().uint64(1, max).finish()
    assert.equal(toHex(enc), '08ffffffffffffffffff01')
    const r = new ProtobufReader(enc)
    r.next()
    assert.equal(r.uint64(), max)
  })

  it('writes repeated fields in order and embedded writers', () => {
    const sub = new ProtobufWriter().string(1, 'a').string(1, 'bé')
    const enc = new ProtobufWriter().repeatedBytes(1, [hex('01'), hex('0203')]).repeatedString(2, ['x', 'y']).message(3, sub).finish()
    const r = new ProtobufReader(enc)
    const seen: string[] = []
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 3) {
        const m = r.message()
        for (let g = m.next(); g !== 0; g = m.next()) seen.push(`3.${g}:${m.string()}`)
      } else if (f === 1) seen.push(`1:${toHex(r.bytes())}`)
      else seen.push(`2:${r.string()}`)
    }
    assert.deepEqual(seen, ['1:01', '1:0203', '2:x', '2:y', '3.1:a', '3.1:bé'])
  })

  it('counts UTF-8 like TextEncoder, lone surrogates included', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (s) => {
      assert.equal(utf8Length(s), new TextEncoder().encode(s).length)
      const r = new ProtobufReader(new ProtobufWriter().string(1, s).finish())
      r.next()
      assert.equal(r.string(), new TextDecoder().decode(new TextEncoder().encode(s)))
    }))
  })

  it('rejects bad arguments with RangeError/TypeError', () => {
    const w = new ProtobufWriter()
    assert.throws(() => w.uint(0, 1), RangeError)
    assert.throws(() => w.uint(MAX_FIELD_NUMBER + 1, 1), RangeError)
    assert.throws(() => w.uint(1, -1), RangeError)
    assert.throws(() => w.uint(1, 2 ** 53), RangeError)
    assert.throws(() => w.uint64(1, 1n << 64n), RangeError)
    assert.throws(() => w.fixed32(1, 2 ** 32), RangeError)
    assert.throws(() => w.int32(1, 2 ** 31), RangeError)
    assert.throws(() => w.bytes(1, 'x' as unknown as Uint8Array), TypeError)
    assert.throws(() => w.message(1, w), RangeError)
  })
})

describe('protobuf reader', () => {
  it('round-trips arbitrary field lists (property)', () => {
    fc.assert(fc.property(fc.array(fieldArb, { maxLength: 12 }), (fields) => {
      const enc = encode(fields)
      decodeAs(enc, fields)
      assert.equal(walk(enc), fields.length)
    }), { numRuns: 300 })
  })

  it('truncation at every byte gives ERR_INVALID_MESSAGE or a clean prefix of the fields (property)', () => {
    fc.assert(fc.property(fc.array(fieldArb, { minLength: 1, maxLength: 6 }), (fields) => {
      const enc = encode(fields)
      // field boundaries: where each prefix of the field list ends
      const boundaries = new Set<number>()
      for (let k = 0; k <= fields.length; k++) boundaries.add(encode(fields.slice(0, k)).length)
      for (let cut = 0; cut < enc.length; cut++) {
        const part = enc.subarray(0, cut)
        if (boundaries.has(cut)) {
          const k = [...Array(fields.length + 1).keys()].find((i) => encode(fields.slice(0, i)).length === cut) as number
          decodeAs(part, fields.slice(0, k))
        } else {
          assert.throws(() => walk(part), isInvalid, `cut at ${cut} of ${toHex(enc)}`)
        }
      }
    }), { numRuns: 150 })
  })

  it('never throws anything but ERR_INVALID_MESSAGE on garbage (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        walk(bytes)
      } catch (e) {
        assert.ok(isInvalid(e), String(e))
      }
    }), { numRuns: 2000 })
  })

  it('skips unknown and unread fields of every wire type', () => {
    const enc = new ProtobufWriter().uint(7, 300).fixed64(8, 5n).bytes(9, hex('abcd')).fixed32(10, 9).uint(2, 42).finish()
    const r = new ProtobufReader(enc)
    let got: number | undefined
    for (let f = r.next(); f !== 0; f = r.next()) if (f === 2) got = r.uint()
    assert.equal(got, 42)
  })

  it('accepts non-minimal varints (legal protobuf) for values and lengths', () => {
    const r = new ProtobufReader(hex('08968000' + '12810041'))
    assert.equal(r.next(), 1)
    assert.equal(r.uint(), 22)
    assert.equal(r.next(), 2)
    assert.deepEqual(r.bytes(), hex('41'))
  })

  it('rejects groups, unknown wire types, field 0, long and overflowing varints', () => {
    for (const bad of [
      '0b', '0c', // field 1, wire types 3 and 4 (groups)
      '0e', '0f', // wire types 6, 7
      '0001', // field number 0
      '08' + '80'.repeat(10) + '00', // 11-byte varint
      '08' + 'ff'.repeat(9) + '02', // 10th byte above 1: overflows 64 bits
      '8080808080808080800108', // tag over 5 bytes
      '12', '1205aabb', '0d0102', '09010203' // truncated length, bytes, fixed32, fixed64
    ]) {
      assert.throws(() => walk(hex(bad)), isInvalid, bad)
    }
  })

  it('rejects a length that runs past the end, even a huge one', () => {
    assert.throws(() => walk(hex('12ffffffff0f')), isInvalid)
    assert.throws(() => walk(hex('12ffffffffffffff0f')), isInvalid) // 2^53-ish length
  })

  it('uint() refuses values beyond 2^53 - 1 but uint64() reads them', () => {
    const enc = new ProtobufWriter().uint64(1, 1n << 53n).finish()
    const r = new ProtobufReader(enc)
    r.next()
    assert.throws(() => r.uint(), isInvalid)
    const r2 = new ProtobufReader(enc)
    r2.next()
    assert.equal(r2.uint64(), 1n << 53n)
  })

  it('rejects a wrong wire type for the accessor and a double read', () => {
    const r = new ProtobufReader(hex('0801'))
    r.next()
    assert.throws(() => r.bytes(), isInvalid)
    const r2 = new ProtobufReader(hex('0801'))
    assert.throws(() => r2.uint(), isInvalid) // before next()
    r2.next()
    r2.uint()
    assert.throws(() => r2.uint(), isInvalid)
  })

  it('rejects invalid UTF-8 in a string field', () => {
    const r = new ProtobufReader(hex('0a02c328'))
    r.next()
    assert.throws(() => r.string(), isInvalid)
  })

  it('enforces the maximum message size', () => {
    const enc = new ProtobufWriter().bytes(1, new Uint8Array(100)).finish()
    assert.throws(() => new ProtobufReader(enc, { maxSize: enc.length - 1 }), (e: unknown) => isLp2pError(e, 'ERR_MESSAGE_TOO_LARGE'))
    assert.doesNotThrow(() => new ProtobufReader(enc, { maxSize: enc.length }))
    assert.throws(() => new ProtobufReader(new Uint8Array(DEFAULT_MAX_MESSAGE_BYTES + 1)), (e: unknown) => isLp2pError(e, 'ERR_MESSAGE_TOO_LARGE'))
    assert.throws(() => new ProtobufReader(enc, { maxSize: -1 }), RangeError)
  })

  it('bytes() is a zero-copy view of the input', () => {
    const enc = hex('0a03010203')
    const r = new ProtobufReader(enc)
    r.next()
    const b = r.bytes()
    assert.equal(b.buffer, enc.buffer)
    assert.equal(b.byteOffset, 2)
  })
})
