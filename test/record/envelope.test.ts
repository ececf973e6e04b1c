import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isLp2pError } from '../../src/errors.js'
import { generateKeyPair, type KeyType } from '../../src/identity/index.js'
import {
  decodeEnvelope, encodeEnvelope, envelopeSignatureData, openEnvelope, sealEnvelope,
  MAX_ENVELOPE_BYTES, MAX_SIGNATURE_BYTES
} from '../../src/record/envelope.js'
import { ProtobufWriter } from '../../src/wire/protobuf.js'
import { outcomeOf } from './helpers.js'
import { flip, hex, toHex, utf8 } from '../identity/helpers.js'

const DOMAIN = 'lp2p-test-domain'
const TYPE = Uint8Array.of(0x03, 0x01)
const KEY_TYPES: KeyType[] = ['Ed25519', 'secp256k1', 'ECDSA', 'RSA']
const ed = generateKeyPair('Ed25519')


describe('signed envelope (RFC 0002)', () => {
  it('signs uvarint(len) domain uvarint(len) type uvarint(len) payload', () => {
    const payload = new Uint8Array(200).fill(7)
    const data = envelopeSignatureData('ab', TYPE, payload)
    // 2 "ab" | 2 03 01 | 200 = c8 01 | payload
    assert.equal(toHex(data.subarray(0, 8)), '026162020301c801')
    assert.equal(data.length, 8 + 200)
    assert.deepEqual(data.subarray(8), payload)
  })

  for (const type of KEY_TYPES) {
    it(`${type}: seal, encode, decode and open round-trip`, () => {
      const key = type === 'Ed25519' ? ed : generateKeyPair(type)
      const { envelope, bytes } = sealEnvelope(key, DOMAIN, TYPE, utf8('hello'))
      assert.deepEqual(bytes, encodeEnvelope(envelope))
      const opened = openEnvelope(bytes, DOMAIN)
      assert.ok(opened.publicKey.equals(key.publicKey))
      assert.deepEqual(opened.payloadType, TYPE)
      assert.deepEqual(opened.payload, utf8('hello'))
      assert.deepEqual(opened.signature, envelope.signature)
    })
  }

  it('another domain does not verify (domain separation): ERR_INVALID_SIGNATURE', () => {
    const { bytes } = sealEnvelope(ed, DOMAIN, TYPE, utf8('x'))
    assert.throws(() => openEnvelope(bytes, `${DOMAIN}!`), (e) => isLp2pError(e, 'ERR_INVALID_SIGNATURE'))
  })

  it('a changed payload, payload type or signature does not verify', () => {
    const { envelope } = sealEnvelope(ed, DOMAIN, TYPE, utf8('payload'))
    for (const changed of [
      { ...envelope, payload: utf8('payloaD') },
      { ...envelope, payloadType: Uint8Array.of(0x03, 0x02) },
      { ...envelope, signature: flip(envelope.signature, 9) }
    ]) {
      assert.throws(() => openEnvelope(encodeEnvelope(changed), DOMAIN), (e) => isLp2pError(e, 'ERR_INVALID_SIGNATURE'))
    }
  })

  it('an empty payload type and payload are allowed (RFC 0002: "may be left empty")', () => {
    const { bytes } = sealEnvelope(ed, DOMAIN, new Uint8Array(0), new Uint8Array(0))
    const opened = openEnvelope(bytes, DOMAIN)
    assert.equal(opened.payload.length, 0)
    assert.equal(opened.payloadType.length, 0)
  })

  it('needs a key and a signature: ERR_INVALID_MESSAGE', () => {
    const { envelope } = sealEnvelope(ed, DOMAIN, TYPE, utf8('x'))
    const noKey = new ProtobufWriter().bytes(2, TYPE).bytes(3, envelope.payload).bytes(5, envelope.signature).finish()
    const noSig = new ProtobufWriter().bytes(1, ed.publicKey.bytes).bytes(2, TYPE).bytes(3, envelope.payload).finish()
    for (const b of [noKey, noSig, new Uint8Array(0)]) {
      assert.throws(() => decodeEnvelope(b), (e) => isLp2pError(e, 'ERR_INVALID_MESSAGE'))
    }
  })

  it('a field given twice is rejected, not merged: ERR_INVALID_MESSAGE', () => {
    const { bytes } = sealEnvelope(ed, DOMAIN, TYPE, utf8('x'))
    for (const field of [1, 2, 3, 5]) {
      const twice = new Uint8Array([...bytes, ...new ProtobufWriter().bytes(field, utf8('y')).finish()])
      assert.throws(() => decodeEnvelope(twice), (e) => isLp2pError(e, 'ERR_INVALID_MESSAGE'), `field ${field}`)
    }
  })

  it('unknown fields are skipped', () => {
    const { bytes } = sealEnvelope(ed, DOMAIN, TYPE, utf8('x'))
    const extra = new Uint8Array([...bytes, ...new ProtobufWriter().bytes(4, utf8('?')).uint(9, 3).finish()])
    assert.deepEqual(openEnvelope(extra, DOMAIN).payload, utf8('x'))
  })

  it(`bounds: the envelope (${MAX_ENVELOPE_BYTES} bytes), the signature (${MAX_SIGNATURE_BYTES}), the payload type, the key`, () => {
    const big = sealEnvelope(ed, DOMAIN, TYPE, new Uint8Array(MAX_ENVELOPE_BYTES)).bytes
    assert.throws(() => decodeEnvelope(big), (e) => isLp2pError(e, 'ERR_MESSAGE_TOO_LARGE'))
    assert.equal(decodeEnvelope(big, { maxSize: 2 * MAX_ENVELOPE_BYTES }).payload.length, MAX_ENVELOPE_BYTES)
    const { envelope } = sealEnvelope(ed, DOMAIN, TYPE, utf8('x'))
    for (const e of [
      { ...envelope, signature: new Uint8Array(MAX_SIGNATURE_BYTES + 1) },
      { ...envelope, payloadType: new Uint8Array(65) }
    ]) assert.throws(() => decodeEnvelope(encodeEnvelope(e)), (err) => isLp2pError(err, 'ERR_MESSAGE_TOO_LARGE'))
    const hugeKey = new ProtobufWriter().bytes(1, new Uint8Array(4096)).bytes(5, utf8('s')).finish()
    assert.throws(() => decodeEnvelope(hugeKey), (err) => isLp2pError(err, 'ERR_MESSAGE_TOO_LARGE'))
  })

  it('a key that does not parse is a typed key error', () => {
    const bad = new ProtobufWriter().bytes(1, hex('0801120400000000')).bytes(5, utf8('s')).finish()
    assert.ok(['ERR_INVALID_KEY', 'ERR_UNSUPPORTED_KEY_TYPE'].includes(outcomeOf(() => decodeEnvelope(bad))))
  })

  it('decoded fields are copies, not views of the input', () => {
    const { bytes } = sealEnvelope(ed, DOMAIN, TYPE, utf8('payload'))
    const copy = Uint8Array.from(bytes)
    const env = decodeEnvelope(copy)
    copy.fill(0)
    assert.deepEqual(env.payload, utf8('payload'))
  })

  it('property: any bytes give an envelope or a typed error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
      outcomeOf(() => openEnvelope(b, DOMAIN))
    }), { numRuns: 2000 })
  })

  it('property: every truncation, and any bit flip, of a sealed envelope gives a typed error or the same payload', () => {
    const payload = utf8('a payload of some length, signed once')
    const { bytes } = sealEnvelope(ed, DOMAIN, TYPE, payload)
    for (let n = 0; n < bytes.length; n++) {
      const outcome = outcomeOf(() => openEnvelope(bytes.subarray(0, n), DOMAIN))
      assert.notEqual(outcome, 'value', `a prefix of ${n} bytes opened`)
    }
    fc.assert(fc.property(fc.nat({ max: bytes.length * 8 - 1 }), (bit) => {
      const changed = flip(bytes, bit)
      let opened
      try { opened = openEnvelope(changed, DOMAIN) } catch (err) { assert.ok(isLp2pError(err), String(err)); return }
      assert.deepEqual(opened.payload, payload, 'a flip that still opens must not change what was signed')
      assert.deepEqual(opened.payloadType, TYPE)
    }), { numRuns: 1000 })
  })
})
