import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bigIntToBytes, bytesToBigInt, decodeDerSignature, encodeDerSignature, toP1363 } from '../../src/identity/ecdsa-signature.js'
import { hex, toHex } from './helpers.js'

const scalar = fc.bigInt({ min: 1n, max: (1n << 528n) - 1n }) // up to P-521 sizes

describe('ECDSA DER signatures', () => {
  it('round-trips (r, s) through minimal DER (property)', () => {
    fc.assert(fc.property(scalar, scalar, (r, s) => {
      const der = encodeDerSignature(r, s)
      assert.deepEqual(decodeDerSignature(der), { r, s })
    }), { numRuns: 500 })
  })

  it('encodes known values', () => {
    assert.equal(toHex(encodeDerSignature(1n, 0x80n)), '3007020101020200' + '80')
    // the go-libp2p secp256k1 fixture
    const sig = '3044022031a7d633c2f3e45a16128d43751afaa8dc9ba24092c5f5b3cad2c8fe4cf388f2022049ea8d219f458683d24775d543ea8fb290704347fb35493c403bc2c259b29d9e'
    const rs = decodeDerSignature(hex(sig))!
    assert.equal(toHex(encodeDerSignature(rs.r, rs.s)), sig)
    assert.equal(toHex(toP1363(rs, 32)), sig.slice(8, 72) + sig.slice(76))
  })

  it('uses the long length form only from 128 content bytes (P-521)', () => {
    const big = (1n << 520n) + 1n
    const der = encodeDerSignature(big, big)
    assert.equal(der[1], 0x81)
    assert.deepEqual(decodeDerSignature(der), { r: big, s: big })
  })

  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['not a SEQUENCE', '3106020101020101'],
    ['trailing byte', '3006020101020101' + '00'],
    ['length too long', '3007020101020101'],
    ['non-minimal long length', '308106020101020101'],
    ['indefinite length', '3080020101020101' + '0000'],
    ['negative r', '3006020181020101'],
    ['r with a needless 0x00', '300702020001020101'],
    ['empty r', '30050200020101'],
    ['not an INTEGER', '3006030101020101'],
    ['a third INTEGER', '3009020101020101020101'],
    ['s runs past the end', '3006020101020201']
  ]
  for (const [name, h] of bad) {
    it(`rejects ${name}`, () => assert.equal(decodeDerSignature(hex(h)), undefined))
  }

  it('never throws on garbage, and accepts only what it re-encodes identically (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      const rs = decodeDerSignature(b)
      if (rs !== undefined) assert.deepEqual(encodeDerSignature(rs.r, rs.s), b)
    }), { numRuns: 3000 })
    fc.assert(fc.property(scalar, scalar, fc.nat(), fc.integer({ min: 0, max: 255 }), (r, s, at, v) => {
      const der = Uint8Array.from(encodeDerSignature(r, s))
      der[at % der.length] = v
      const rs = decodeDerSignature(der)
      if (rs !== undefined) assert.deepEqual(encodeDerSignature(rs.r, rs.s), der)
    }), { numRuns: 1000 })
  })

  it('converts big-endian bytes and bigints both ways', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 70 }), (b) => {
      assert.deepEqual(bigIntToBytes(bytesToBigInt(b), b.length), b)
    }))
    assert.throws(() => bigIntToBytes(256n, 1), RangeError)
  })
})
