import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bases } from 'multiformats/basics'
import { CID } from 'multiformats/cid'
import {
  generateKeyPair, isPeerId, peerIdFromBytes, peerIdFromPrivateKey, peerIdFromPublicKey, peerIdFromString,
  publicKeyFromProtobuf, MAX_PEER_ID_TEXT_LENGTH
} from '../../src/identity/index.js'
import { code, hex, toHex } from './helpers.js'

const invalidId = code('ERR_INVALID_PEER_ID')
const ED_PUB = '080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e'

describe('peer ids', () => {
  it('parses the spec examples in both forms, which name the same peer', () => {
    const cid = peerIdFromString('bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe')
    const b58 = peerIdFromString('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N')
    assert.ok(cid.equals(b58))
    assert.equal(cid.toString(), 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N')
    assert.equal(b58.toCID(), 'bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe')
    assert.equal(b58.type, undefined)
    assert.equal(b58.publicKey, undefined)
    const ed = peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')
    assert.equal(ed.type, 'Ed25519')
    assert.ok(ed.publicKey !== undefined)
    assert.ok(peerIdFromPublicKey(ed.publicKey).equals(ed))
    assert.equal(toHex(ed.bytes.subarray(0, 2)), '0024')
  })

  it('inlines keys of at most 42 bytes with the identity multihash', () => {
    const id = peerIdFromPublicKey(publicKeyFromProtobuf(hex(ED_PUB)))
    assert.equal(toHex(id.bytes), '0024' + ED_PUB)
    assert.equal(id.toString(), '12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq')
    assert.ok(id.toCID().startsWith('bafzaa'))
  })

  it('round-trips text and bytes forms of generated ids (property)', () => {
    fc.assert(fc.property(fc.constant(null), () => {
      const id = peerIdFromPrivateKey(generateKeyPair())
      for (const other of [peerIdFromString(id.toString()), peerIdFromString(id.toCID()), peerIdFromBytes(id.bytes)]) {
        assert.ok(other.equals(id))
        assert.ok(id.equals(other))
        assert.equal(other.toString(), id.toString())
        assert.equal(other.toCID(), id.toCID())
        assert.ok(other.publicKey?.equals(id.publicKey!))
      }
      assert.ok(id.equals(id.toString()) && id.equals(id.toCID()) && id.equals(id.bytes))
    }), { numRuns: 30 })
  })

  it('parses a CIDv1 in any multibase', () => {
    const id = peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')
    const cid = CID.parse(id.toCID())
    for (const base of Object.values(bases)) {
      if (base.name === 'identity') continue
      const text = cid.toString(base.encoder)
      if (text.length > MAX_PEER_ID_TEXT_LENGTH) continue
      assert.ok(peerIdFromString(text).equals(id), base.name)
    }
    assert.ok(peerIdFromString(id.toCID().toUpperCase().replace(/^B/, 'B')).equals(id)) // base32upper
  })

  it('equals() is false for other ids, unparsable strings and other types', () => {
    const a = peerIdFromPrivateKey(generateKeyPair())
    const b = peerIdFromPrivateKey(generateKeyPair())
    assert.equal(a.equals(b), false)
    assert.equal(a.equals(b.toString()), false)
    assert.equal(a.equals('not a peer id'), false)
    assert.equal(a.equals(new Uint8Array(0)), false)
    assert.equal(a.equals(42 as unknown as string), false)
  })

  it('isPeerId tells peer ids from look-alikes', () => {
    const id = peerIdFromPrivateKey(generateKeyPair())
    assert.ok(isPeerId(id))
    assert.equal(isPeerId({ bytes: id.bytes, toString: () => id.toString() }), false)
    assert.equal(isPeerId(id.toString()), false)
    assert.equal(isPeerId(null), false)
  })

  it('prints as base58btc in JSON and util.inspect', async () => {
    const id = peerIdFromPrivateKey(generateKeyPair())
    assert.equal(JSON.stringify({ id }), `{"id":"${id.toString()}"}`)
    const { inspect } = await import('node:util')
    assert.equal(inspect(id), `PeerId(${id.toString()})`)
  })

  describe('rejections (ERR_INVALID_PEER_ID)', () => {
    const sha = '1220' + '00'.repeat(32)
    const cases: Array<[string, string]> = [
      ['empty', ''],
      ['garbage text', 'hello world'],
      ['bad base58 character', 'Qm0000000000000000000000000000000000000000000l'],
      ['unknown multibase prefix', '~abc'],
      ['bad base32', 'b!!!!'],
      ['too long', 'b' + 'a'.repeat(MAX_PEER_ID_TEXT_LENGTH)],
      ['CID with the wrong codec (raw 0x55)', CID.createV1(0x55, CID.parse('bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe').multihash).toString()],
      ['CIDv0 with a multibase prefix', 'z' + 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'],
      ['base58 of a truncated multihash', bases.base58btc.baseEncode(hex(sha).subarray(0, 20))],
      ['base58 of an unsupported multihash (sha2-512)', bases.base58btc.baseEncode(hex('1340' + '00'.repeat(64)))]
    ]
    for (const [name, text] of cases) {
      it(`rejects ${name}`, () => assert.throws(() => peerIdFromString(text), invalidId))
    }

    const byteCases: Array<[string, string]> = [
      ['empty', ''],
      ['truncated header', '12'],
      ['sha2-256 with a short digest', '121f' + '00'.repeat(31)],
      ['sha2-256 with trailing bytes', sha + '00'],
      ['digest shorter than declared', '1221' + '00'.repeat(32)],
      ['non-minimal varint code', '9200' + '20' + '00'.repeat(32)],
      ['unsupported code (sha1)', '1114' + '00'.repeat(20)],
      ['identity over 42 bytes', '002b' + '00'.repeat(43)],
      ['identity holding garbage', '0004deadbeef'],
      ['identity holding an unknown key type', '00240809' + ED_PUB.slice(4)],
      ['identity holding a key with a bad length', '0023' + ED_PUB.slice(0, 6) + '1f' + ED_PUB.slice(8, 70)],
      ['identity holding an extra field', '0026' + ED_PUB + '1800']
    ]
    for (const [name, h] of byteCases) {
      it(`rejects multihash bytes: ${name}`, () => assert.throws(() => peerIdFromBytes(hex(h)), invalidId))
    }

    it('rejects an identity multihash holding a non-canonical key encoding', () => {
      const nonCanonical = '08' + '8100' + ED_PUB.slice(4) // Type as a 2-byte varint
      assert.doesNotThrow(() => publicKeyFromProtobuf(hex(nonCanonical)))
      assert.throws(() => peerIdFromBytes(hex('0025' + nonCanonical)), (e: unknown) => invalidId(e) && /non-canonical/.test((e as Error).message))
    })

    it('throws a TypeError for a non-string', () => {
      assert.throws(() => peerIdFromString(42 as unknown as string), TypeError)
    })

    it('never throws another error on arbitrary bytes or text (property)', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), (b) => {
        try { peerIdFromBytes(b) } catch (e) { assert.ok(invalidId(e), String(e)) }
        try { peerIdFromBytes(Uint8Array.of(0, b.length, ...b)) } catch (e) { assert.ok(invalidId(e), String(e)) }
      }), { numRuns: 1000 })
      fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => {
        for (const t of [s, '1' + s, 'Qm' + s, 'b' + s, 'z' + s]) {
          try { peerIdFromString(t) } catch (e) { assert.ok(invalidId(e), String(e)) }
        }
      }), { numRuns: 1000 })
    })
  })
})
