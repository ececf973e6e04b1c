import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeUvarint, encodeUvarint, uvarintLength, writeUvarint, MAX_VARINT_BYTES } from '../../src/wire/varint.js'
import { isLp2pError } from '../../src/errors.js'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))

describe('unsigned varint', () => {
  // Examples from specs/unsigned-varint.md
  const vectors: Array<[number, string]> = [
    [1, '01'], [127, '7f'], [128, '8001'], [255, 'ff01'], [300, 'ac02'], [16384, '808001']
  ]
  for (const [value, encoded] of vectors) {
    it(`encodes and decodes the spec example ${value}`, () => {
      assert.equal(Buffer.from(encodeUvarint(value)).toString('hex'), encoded)
      assert.deepEqual(decodeUvarint(hex(encoded)), { value, length: encoded.length / 2 })
    })
  }

  it('round-trips every safe integer (property)', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (n) => {
      const enc = encodeUvarint(n)
      assert.equal(enc.length, uvarintLength(n))
      assert.deepEqual(decodeUvarint(enc), { value: n, length: enc.length })
    }))
  })

  it('returns undefined on every strict prefix (needs more bytes, never throws)', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (n) => {
      const enc = encodeUvarint(n)
      for (let i = 0; i < enc.length; i++) assert.equal(decodeUvarint(enc.subarray(0, i)), undefined)
    }))
  })

  it('decodes at an offset inside a larger buffer', () => {
    const buf = new Uint8Array(8)
    const n = writeUvarint(300, buf, 3)
    assert.equal(n, 2)
    assert.deepEqual(decodeUvarint(buf, 3), { value: 300, length: 2 })
  })

  it('rejects non-minimal encodings', () => {
    for (const s of ['8000', '810000', 'ff8000']) {
      assert.throws(() => decodeUvarint(hex(s)), (e: unknown) => isLp2pError(e, 'ERR_INVALID_VARINT'))
    }
  })

  it('rejects varints longer than the maximum (hostile continuation bytes)', () => {
    const long = new Uint8Array(MAX_VARINT_BYTES).fill(0x80)
    assert.throws(() => decodeUvarint(long), (e: unknown) => isLp2pError(e, 'ERR_INVALID_VARINT'))
    assert.throws(() => decodeUvarint(hex('808080'), 0, 2), (e: unknown) => isLp2pError(e, 'ERR_INVALID_VARINT'))
    // a short prefix of a too-long varint still only asks for more bytes
    assert.equal(decodeUvarint(hex('8080'), 0, 3), undefined)
  })

  it('rejects values above the largest safe integer', () => {
    // 2^53 = 0x20000000000000 encodes as 8 bytes
    const enc = hex('8080808080808010')
    assert.throws(() => decodeUvarint(enc), (e: unknown) => isLp2pError(e, 'ERR_INVALID_VARINT'))
  })

  it('refuses to encode invalid values', () => {
    assert.throws(() => encodeUvarint(-1), RangeError)
    assert.throws(() => encodeUvarint(1.5), RangeError)
    assert.throws(() => encodeUvarint(2 ** 53), RangeError)
  })
})
