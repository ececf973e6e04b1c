import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DerReader, MAX_DER_DEPTH, Tag, decodeOid } from '../../../src/security/tls/der.js'
import {
  encodeBitString,
  encodeBoolean,
  encodeInteger,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeTime,
  tlv
} from '../../../src/security/tls/der-encode.js'
import { isLp2pError } from '../../../src/errors.js'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

function assertInvalid (fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isLp2pError(err, 'ERR_INVALID_MESSAGE'), `expected ERR_INVALID_MESSAGE, got ${String(err)}`)
    if (pattern !== undefined) assert.match((err as Error).message, pattern)
    return true
  })
}

describe('DER encoding', () => {
  it('encodes the libp2p extension OID and the certificate times of the tls.md vectors', () => {
    assert.equal(toHex(encodeOid('1.3.6.1.4.1.53594.1.1')), '060a2b0601040183a25a0101')
    // 1975-01-01T13:00:00Z is a UTCTime, 4096-01-01T13:00:00Z a GeneralizedTime.
    assert.equal(toHex(encodeTime(Date.UTC(1975, 0, 1, 13))), '170d3735303130313133303030305a')
    assert.equal(toHex(encodeTime(Date.UTC(4096, 0, 1, 13))), '180f34303936303130313133303030305a')
    // RFC 5280 4.1.2.5: 2049 is still UTCTime, 2050 is GeneralizedTime.
    assert.equal(encodeTime(Date.UTC(2049, 11, 31, 23, 59, 59))[0], Tag.UTC_TIME)
    assert.equal(encodeTime(Date.UTC(2050, 0, 1))[0], Tag.GENERALIZED_TIME)
  })

  it('encodes integers minimally, with a zero octet before a set top bit', () => {
    assert.equal(toHex(encodeInteger(0n)), '020100')
    assert.equal(toHex(encodeInteger(127n)), '02017f')
    assert.equal(toHex(encodeInteger(128n)), '02020080')
    assert.equal(toHex(encodeInteger(0x499602d2n)), '0204499602d2')
    assert.equal(toHex(encodeInteger(hex('000080'))), '02020080')
  })

  it('uses the long length form from 128 bytes on', () => {
    assert.equal(toHex(tlv(0x04, new Uint8Array(127)).subarray(0, 2)), '047f')
    assert.equal(toHex(tlv(0x04, new Uint8Array(128)).subarray(0, 3)), '048180')
    assert.equal(toHex(tlv(0x04, new Uint8Array(300)).subarray(0, 4)), '0482012c')
  })

  it('round-trips integers, OIDs, octet strings, booleans and times (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 200n) }), (n) => {
      const r = new DerReader(encodeInteger(n))
      assert.equal(BigInt('0x' + (toHex(r.integer('i')) || '0')), n)
      r.end('i')
    }))
    const oid = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { maxLength: 8 }))
      .map(([a, b, rest]) => [a, b, ...rest].join('.'))
    fc.assert(fc.property(oid, (s) => {
      assert.equal(new DerReader(encodeOid(s)).oid('o'), s)
    }))
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, flag) => {
      const r = new DerReader(encodeSequence(encodeOctetString(bytes), encodeBitString(bytes), encodeBoolean(flag)))
      const s = r.sequence('s')
      assert.deepEqual(s.octetString('o'), bytes)
      assert.deepEqual(s.bitString('b'), bytes)
      assert.equal(s.boolean('f'), flag)
      s.end('s')
      r.end('top')
    }))
    fc.assert(fc.property(fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59) }), (ms) => {
      const whole = Math.floor(ms / 1000) * 1000
      assert.equal(new DerReader(encodeTime(ms)).time('t'), whole)
    }))
  })
})

describe('DER decoding of hostile input', () => {
  it('reports truncation at every cut of a nested structure', () => {
    const full = encodeSequence(encodeInteger(1n << 100n), encodeSequence(encodeOid('1.2.840.10045.4.3.2'), encodeOctetString(new Uint8Array(200))))
    for (let n = 0; n < full.length; n++) {
      assertInvalid(() => {
        const r = new DerReader(full.subarray(0, n))
        const s = r.sequence('s')
        s.integer('i')
        const inner = s.sequence('inner')
        inner.oid('o')
        inner.octetString('x')
      })
    }
  })

  it('never throws anything but ERR_INVALID_MESSAGE on random bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
      try {
        const r = new DerReader(junk)
        const s = r.sequence('s')
        while (!s.done) {
          const t = s.peekTag()
          if (t === Tag.OID) s.oid('o')
          else if (t === Tag.UTC_TIME || t === Tag.GENERALIZED_TIME) s.time('t')
          else if (t === Tag.INTEGER) s.integer('i')
          else if (t === Tag.BOOLEAN) s.boolean('b')
          else if (t === Tag.BIT_STRING) s.bitString('b')
          else if (t === Tag.SEQUENCE) s.sequence('q')
          else s.next('x')
        }
      } catch (err) {
        assert.ok(isLp2pError(err, 'ERR_INVALID_MESSAGE'), String(err))
      }
    }), { numRuns: 2000 })
  })

  it('rejects oversize lengths without reading or allocating them', () => {
    assertInvalid(() => new DerReader(hex('3084ffffffff00')).next('x'), /truncated/)
    assertInvalid(() => new DerReader(hex('3085010000000000')).next('x'), /length of 5 octets/)
    assertInvalid(() => new DerReader(hex('0482ffff' + '00'.repeat(10))).next('x'), /truncated/)
  })

  it('rejects the BER forms DER forbids', () => {
    assertInvalid(() => new DerReader(hex('30800000')).next('x'), /indefinite/)
    assertInvalid(() => new DerReader(hex('04810100')).next('x'), /non-minimal length/)
    assertInvalid(() => new DerReader(hex('0482000100')).next('x'), /non-minimal length/)
    assertInvalid(() => new DerReader(hex('02020001')).integer('x'), /non-minimal INTEGER/)
    assertInvalid(() => new DerReader(hex('0202ff80')).integer('x'), /non-minimal INTEGER/)
    assertInvalid(() => new DerReader(hex('0200')).integer('x'), /empty INTEGER/)
    assertInvalid(() => new DerReader(hex('010101')).boolean('x'), /invalid BOOLEAN/)
    assertInvalid(() => new DerReader(hex('03020700')).bitString('x'), /unused bits/)
    assertInvalid(() => new DerReader(hex('1f0100')).next('x'), /high tag/)
    assertInvalid(() => new DerReader(hex('050100')).null('x'), /NULL with contents/)
    assertInvalid(() => new DerReader(hex('0500ff')).end('x'), /trailing/)
  })

  it('rejects malformed OIDs', () => {
    assertInvalid(() => decodeOid(new Uint8Array(0)), /empty/)
    assertInvalid(() => decodeOid(hex('2a86')), /truncated/)
    assertInvalid(() => decodeOid(hex('2a8001')), /non-minimal/)
    assertInvalid(() => decodeOid(new Uint8Array(65).fill(1)), /longer than/)
    assertInvalid(() => decodeOid(hex('2affffffffffffffff7f')), /too large/)
  })

  it('rejects times that are not RFC 5280 UTC times or not real dates', () => {
    const utc = (s: string): Uint8Array => tlv(Tag.UTC_TIME, new TextEncoder().encode(s))
    const gen = (s: string): Uint8Array => tlv(Tag.GENERALIZED_TIME, new TextEncoder().encode(s))
    assert.equal(new DerReader(utc('491231235959Z')).time('t'), Date.UTC(2049, 11, 31, 23, 59, 59))
    assert.equal(new DerReader(utc('500101000000Z')).time('t'), Date.UTC(1950, 0, 1))
    assert.equal(new DerReader(gen('20240229120000Z')).time('t'), Date.UTC(2024, 1, 29, 12))
    for (const bad of ['9901011200Z', '990101120000', '990101120000+0100', '991301120000Z', '990230120000Z', '990101240000Z', '99010112000aZ', '990101 20000Z']) {
      assertInvalid(() => new DerReader(utc(bad)).time('t'))
    }
    for (const bad of ['20230229120000Z', '20240101120000.5Z', '2024010112000Z', '00500101000000Z']) {
      assertInvalid(() => new DerReader(gen(bad)).time('t'))
    }
    assertInvalid(() => new DerReader(encodeInteger(5n)).time('t'), /expected a time/)
  })

  it(`bounds nesting at ${MAX_DER_DEPTH} levels`, () => {
    let nested = encodeSequence()
    for (let i = 0; i < MAX_DER_DEPTH + 2; i++) nested = encodeSequence(nested)
    assertInvalid(() => {
      let r = new DerReader(nested)
      for (;;) r = r.sequence('s')
    }, /nesting deeper/)
  })
})
