import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { generateKeyPair, parseKeyType, privateKeyFromProtobuf, publicKeyFromProtobuf, MAX_PUBLIC_KEY_BYTES, MAX_PRIVATE_KEY_BYTES } from '../../src/identity/index.js'
import { decodeKeyMessage, encodeKeyMessage } from '../../src/identity/key-protobuf.js'
import { ProtobufWriter } from '../../src/wire/protobuf.js'
import { code, hex, toHex } from './helpers.js'

const invalid = code('ERR_INVALID_KEY')
const unsupported = code('ERR_UNSUPPORTED_KEY_TYPE')
const ED_PUB = '080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e'
const ED_RAW = ED_PUB.slice(8)

describe('PublicKey / PrivateKey protobuf', () => {
  it('encodes deterministically: Type then Data, minimal varints, Type 0 written', () => {
    assert.equal(toHex(encodeKeyMessage('Ed25519', hex(ED_RAW))), ED_PUB)
    assert.equal(toHex(encodeKeyMessage('RSA', hex('00'))), '0800120100')
    assert.equal(toHex(encodeKeyMessage('ECDSA', new Uint8Array(200))).slice(0, 10), '080312c801')
  })

  it('decodes fields in any order (the canonical form is re-encoded)', () => {
    const swapped = new ProtobufWriter().bytes(2, hex(ED_RAW)).uint(1, 1).finish()
    assert.equal(toHex(publicKeyFromProtobuf(swapped).bytes), ED_PUB)
  })

  const rejects: Array<[string, string, (e: unknown) => boolean]> = [
    ['an empty message', '', invalid],
    ['a missing Type', '1220' + ED_RAW, invalid],
    ['a missing Data', '0801', invalid],
    ['a repeated Type', '08010801' + ED_PUB.slice(4), invalid],
    ['a repeated Data', ED_PUB + '1220' + ED_RAW, invalid],
    ['an unknown field', ED_PUB + '1801', invalid],
    ['Data with the wrong wire type', '08011001', invalid],
    ['a truncated Data', ED_PUB.slice(0, -2), invalid],
    ['Type 4', '08041220' + ED_RAW, unsupported],
    ['Type -1 (a 10-byte varint)', '08ffffffffffffffffff011220' + ED_RAW, unsupported],
    ['Type 2^32', '08808080801012' + '20' + ED_RAW, unsupported]
  ]
  for (const [name, h, check] of rejects) {
    it(`rejects ${name}`, () => {
      assert.throws(() => publicKeyFromProtobuf(hex(h)), check)
      assert.throws(() => privateKeyFromProtobuf(hex(h)), (e: unknown) => invalid(e) || unsupported(e))
    })
  }

  it('refuses oversized messages before parsing', () => {
    const big = encodeKeyMessage('RSA', new Uint8Array(MAX_PUBLIC_KEY_BYTES))
    assert.throws(() => publicKeyFromProtobuf(big), (e: unknown) => invalid(e) && /exceeds the limit/.test((e as Error).message))
    assert.throws(() => privateKeyFromProtobuf(encodeKeyMessage('RSA', new Uint8Array(MAX_PRIVATE_KEY_BYTES))), invalid)
    assert.throws(() => decodeKeyMessage(new Uint8Array(10), 5, 'PublicKey'), invalid)
  })

  it('truncation at every byte of every key type gives ERR_INVALID_KEY, nothing else', () => {
    for (const type of ['Ed25519', 'secp256k1', 'ECDSA'] as const) {
      const k = generateKeyPair(type)
      for (const [bytes, fn] of [[k.bytes, privateKeyFromProtobuf], [k.publicKey.bytes, publicKeyFromProtobuf]] as const) {
        for (let cut = 0; cut < bytes.length; cut++) {
          assert.throws(() => fn(bytes.subarray(0, cut)), invalid, `${type} cut at ${cut}`)
        }
      }
    }
  })

  it('arbitrary bytes never throw anything but ERR_INVALID_KEY / ERR_UNSUPPORTED_KEY_TYPE (property)', () => {
    const ok = (e: unknown): boolean => invalid(e) || unsupported(e)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 5 }), (data, type) => {
      for (const bytes of [data, new ProtobufWriter().uint(1, type).bytes(2, data).finish()]) {
        try { publicKeyFromProtobuf(bytes) } catch (e) { assert.ok(ok(e), String(e)) }
        try { privateKeyFromProtobuf(bytes) } catch (e) { assert.ok(ok(e), String(e)) }
      }
    }), { numRuns: 1000 })
  })

  it('rejects a non-Uint8Array with a TypeError', () => {
    assert.throws(() => publicKeyFromProtobuf('0801' as unknown as Uint8Array), TypeError)
  })
})

describe('parseKeyType', () => {
  it('maps names case-insensitively', () => {
    assert.equal(parseKeyType('ed25519'), 'Ed25519')
    assert.equal(parseKeyType('ED25519'), 'Ed25519')
    assert.equal(parseKeyType('Secp256k1'), 'secp256k1')
    assert.equal(parseKeyType('ecdsa'), 'ECDSA')
    assert.equal(parseKeyType('RSA'), 'RSA')
  })
  it('throws RangeError otherwise', () => {
    for (const bad of ['', 'dsa', 'ed448', ' rsa', 'p256']) assert.throws(() => parseKeyType(bad), RangeError)
    assert.throws(() => parseKeyType(1 as unknown as string), RangeError)
  })
})
