import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { generateKeyPair, peerIdFromPrivateKey, privateKeyFromProtobuf, publicKeyFromProtobuf } from '../../src/identity/index.js'
import { rfc6979Nonces, SECP256K1_N } from '../../src/identity/secp256k1.js'
import { bigIntToBytes, bytesToBigInt, decodeDerSignature, encodeDerSignature } from '../../src/identity/ecdsa-signature.js'
import { code, flip, hex, toHex, utf8 } from './helpers.js'
import { createHash } from 'node:crypto'

const HALF_N = SECP256K1_N >> 1n
const privOf = (d: string): Uint8Array => hex('08021220' + d)
const ONE = '00'.repeat(31) + '01'

// Deterministic low-S secp256k1 signatures (RFC 6979, SHA-256 of the UTF-8 message), the
// dataset of https://bitcointalk.org/index.php?topic=285142.msg3299061 as used by
// bitcoin libraries' test suites.
const RFC6979_VECTORS: Array<[string, string, string]> = [
  [ONE, 'Satoshi Nakamoto', '3045022100934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d802202442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5'],
  [ONE, 'Everything should be made as simple as possible, but not simpler.', '3044022033a69cd2065432a30f3d1ce4eb0d59b8ab58c74f27c41a7fdb5696ad4e6108c902206f807982866f785d3f6418d24163ddae117b7db4d5fdf0071de069fa54342262'],
  [ONE, 'All those moments will be lost in time, like tears in rain. Time to die...', '30450221008600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b0220547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21'],
  ['fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140', 'Satoshi Nakamoto', '3045022100fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d002206b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5'],
  ['f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181', 'Alan Turing', '304402207063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c022058dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea'],
  ['e91671c46231f833a6406ccbea0e3e392c76c167bac1cb013f6f1013980455c2', "There is a computer disease that anybody who works with computers knows about. It's a very serious disease and it interferes completely with the work. The trouble with computers is that you 'play' with them!", '3045022100b552edd27580141f3b2a5463048cb7cd3e047b97c9f98076c32dbdf85a68718b0220279fa72dd19bfae05577e06c7c0c1900c371fcd5893f7e1d56a37d30174671f6']
]

describe('secp256k1 keys', () => {
  it('derives the RFC 6979 nonces of the published examples', () => {
    const h = (m: string): Uint8Array => createHash('sha256').update(m).digest()
    assert.equal(toHex(rfc6979Nonces(hex(ONE), h('Satoshi Nakamoto')).next()), '8f8a276c19f4149656b280621e358cce24f5f52542772691ee69063b74f15d15')
    assert.equal(toHex(rfc6979Nonces(hex(ONE), h('All those moments will be lost in time, like tears in rain. Time to die...')).next()),
      '38aa22d72376b4dbc472e06c3ba403ee0a394da63fc58d88686c611aba98d6b3')
  })

  for (const [d, msg, sig] of RFC6979_VECTORS) {
    it(`signs deterministically and low-S: "${msg.slice(0, 24)}..." (d=${d.slice(0, 8)}...)`, () => {
      const key = privateKeyFromProtobuf(privOf(d))
      assert.equal(toHex(key.sign(utf8(msg))), sig)
      assert.ok(key.publicKey.verify(utf8(msg), hex(sig)))
    })
  }

  it('always returns low-S signatures (s <= n/2) that verify (property)', () => {
    const key = generateKeyPair('secp256k1')
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (msg) => {
      const sig = key.sign(msg)
      const rs = decodeDerSignature(sig)
      assert.ok(rs !== undefined)
      assert.ok(rs.s <= HALF_N, 'high S')
      assert.deepEqual(encodeDerSignature(rs.r, rs.s), sig) // minimal DER
      assert.ok(key.publicKey.verify(msg, sig))
    }), { numRuns: 300 })
  })

  it('accepts high-S signatures on verify (go-libp2p and OpenSSL do)', () => {
    const key = generateKeyPair('secp256k1')
    const msg = utf8('malleable')
    const { r, s } = decodeDerSignature(key.sign(msg))!
    const high = encodeDerSignature(r, SECP256K1_N - s)
    assert.ok(key.publicKey.verify(msg, high))
  })

  it('rejects tampered signatures, other keys, other messages and out-of-range r or s', () => {
    const key = generateKeyPair('secp256k1')
    const other = generateKeyPair('secp256k1')
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (msg, bit) => {
      const sig = key.sign(msg)
      assert.equal(key.publicKey.verify(msg, flip(sig, bit)), false)
      assert.equal(key.publicKey.verify(flip(msg, bit), sig), false)
      assert.equal(other.publicKey.verify(msg, sig), false)
    }), { numRuns: 100 })
    const msg = utf8('x')
    const { r, s } = decodeDerSignature(key.sign(msg))!
    assert.equal(key.publicKey.verify(msg, encodeDerSignature(r + SECP256K1_N, s)), false)
    assert.equal(key.publicKey.verify(msg, encodeDerSignature(r, s + SECP256K1_N)), false)
    assert.equal(key.publicKey.verify(msg, encodeDerSignature(0n, s)), false)
    assert.equal(key.publicKey.verify(msg, new Uint8Array(0)), false)
  })

  it('accepts an uncompressed public key and re-encodes it compressed', async () => {
    const key = generateKeyPair('secp256k1')
    const { ECDH } = await import('node:crypto')
    const uncompressed = ECDH.convertKey(key.publicKey.raw, 'secp256k1', undefined, undefined, 'uncompressed') as Buffer
    const pub = publicKeyFromProtobuf(hex('08021241' + uncompressed.toString('hex')))
    assert.deepEqual(pub.raw, key.publicKey.raw)
    assert.deepEqual(pub.bytes, key.publicKey.bytes)
    assert.ok(pub.equals(key.publicKey))
  })

  it('makes 16Uiu2 identity peer ids from 37-byte encodings', () => {
    const key = generateKeyPair('secp256k1')
    assert.equal(key.publicKey.bytes.length, 37)
    const id = peerIdFromPrivateKey(key)
    assert.ok(id.toString().startsWith('16Uiu2'))
    assert.equal(id.type, 'secp256k1')
  })

  it('rejects invalid keys with ERR_INVALID_KEY', () => {
    const invalid = code('ERR_INVALID_KEY')
    const n = SECP256K1_N.toString(16)
    for (const d of ['00'.repeat(32), n, (SECP256K1_N + 1n).toString(16), 'ff'.repeat(32)]) {
      assert.throws(() => privateKeyFromProtobuf(privOf(d)), invalid, d)
    }
    assert.throws(() => privateKeyFromProtobuf(hex('0802121f' + '01'.repeat(31))), invalid)
    assert.throws(() => privateKeyFromProtobuf(hex('08021221' + '00' + ONE)), invalid)
    const good = toHex(generateKeyPair('secp256k1').publicKey.raw)
    for (const raw of [
      '04' + good.slice(2), // compressed length with the uncompressed prefix
      '05' + good.slice(2),
      '02' + 'ff'.repeat(32), // x >= p
      good.slice(0, 64), // 32 bytes
      '04' + '11'.repeat(64) // uncompressed, off the curve
    ]) {
      assert.throws(() => publicKeyFromProtobuf(hex('080212' + (raw.length / 2).toString(16) + raw)), invalid, raw)
    }
  })

  it('keeps the private key scalar intact across encodings', () => {
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }), (d) => {
      const raw = bigIntToBytes(d, 32)
      const key = privateKeyFromProtobuf(privOf(toHex(raw)))
      assert.equal(bytesToBigInt(key.raw), d)
      assert.deepEqual(privateKeyFromProtobuf(key.bytes).publicKey.raw, key.publicKey.raw)
    }), { numRuns: 50 })
  })
})
