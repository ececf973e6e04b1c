/**
 * Every hex vector of specs/peer-ids.md ("Test vectors") and the go-libp2p fixtures of
 * specs/test-vectors/go-libp2p-crypto, from test/fixtures/spec-vectors (checked against
 * the spec file itself when it is at hand).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { peerIdFromPublicKey, peerIdFromString, privateKeyFromProtobuf, publicKeyFromProtobuf, type KeyType } from '../../src/identity/index.js'
import { decodeDerSignature } from '../../src/identity/ecdsa-signature.js'
import { toHex, utf8 } from './helpers.js'
import { GO_CRYPTO_FIXTURES, GO_CRYPTO_SPEC_DIR, peerIdVectors, specMissing, specPath, specText } from '../helpers/spec-vectors.js'

const VECTORS = peerIdVectors()

/** The hex of the vector table row `name`. */
function vector (name: string): string {
  const hex = VECTORS[name]
  assert.ok(hex !== undefined, `no row "${name}" in the peer-ids.md vectors`)
  return hex
}

// Peer ids computed from the vectors (cross-checked against js-libp2p in js-interop.test.ts).
const SPEC_VECTORS: Array<{ row: string, type: KeyType, id: string }> = [
  { row: 'ED25519', type: 'Ed25519', id: '12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq' },
  { row: 'secp256k1', type: 'secp256k1', id: '16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY' },
  { row: 'ECDSA', type: 'ECDSA', id: 'QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk' },
  { row: 'rsa', type: 'RSA', id: 'QmaeANgBs1DTSxWSrPPtobgQuxW8XTfsS4ydbK4rCHzqxG' }
]

describe('peer-ids.md test vectors', () => {
  it('the fixture has exactly the eight vectors we test', () => {
    assert.equal(Object.keys(VECTORS).length, 8)
  })

  it('the fixture is the table of specs/peer-ids.md', { skip: specMissing('peer-ids.md') }, () => {
    const rows = (specText('peer-ids.md') as string).split('\n')
      .map((l) => l.split('|').map((c) => c.trim()))
      .filter((c) => /^(ECDSA|ED25519|secp256k1|rsa) (private|public) key$/.test(c[1] ?? ''))
    assert.deepEqual(Object.fromEntries(rows.map((c) => [c[1], (c[2] as string).toLowerCase()])), VECTORS)
  })

  for (const v of SPEC_VECTORS) {
    it(`${v.type}: decodes, re-encodes byte for byte, derives the public key and the peer id, signs and verifies`, () => {
      const privHex = vector(`${v.row} private key`)
      const pubHex = vector(`${v.row} public key`)
      const priv = privateKeyFromProtobuf(Buffer.from(privHex, 'hex'))
      const pub = publicKeyFromProtobuf(Buffer.from(pubHex, 'hex'))
      assert.equal(priv.type, v.type)
      assert.equal(pub.type, v.type)
      assert.equal(toHex(priv.bytes), privHex)
      assert.equal(toHex(pub.bytes), pubHex)
      assert.equal(toHex(priv.publicKey.bytes), pubHex, 'public key derived from the private key')
      assert.ok(pub.equals(priv.publicKey))
      const id = peerIdFromPublicKey(pub)
      assert.equal(id.toString(), v.id)
      assert.ok(peerIdFromString(id.toCID()).equals(id))
      const msg = utf8('peer-ids.md test vector')
      assert.ok(pub.verify(msg, priv.sign(msg)))
      assert.equal(pub.verify(utf8('another message'), priv.sign(msg)), false)
    })
  }
})

describe('go-libp2p fixtures (core/crypto/test_data)', () => {
  const dir = GO_CRYPTO_FIXTURES
  const message = utf8('Libp2p is the _best_!')
  const fixtures: Array<{ n: number, type: KeyType, deterministic: boolean }> = [
    { n: 0, type: 'RSA', deterministic: true },
    { n: 2, type: 'secp256k1', deterministic: true },
    { n: 3, type: 'ECDSA', deterministic: false }
  ]
  for (const f of fixtures) {
    it(`${f.type} (${f.n}.*): keys round-trip; ${f.deterministic ? 'our signature is byte-identical' : 'the signature verifies'}`, () => {
      const privBytes = readFileSync(join(dir, `${f.n}.priv`))
      const pubBytes = readFileSync(join(dir, `${f.n}.pub`))
      const sig = readFileSync(join(dir, `${f.n}.sig`))
      const priv = privateKeyFromProtobuf(privBytes)
      const pub = publicKeyFromProtobuf(pubBytes)
      assert.equal(priv.type, f.type)
      assert.equal(toHex(priv.bytes), privBytes.toString('hex'))
      assert.equal(toHex(pub.bytes), pubBytes.toString('hex'))
      assert.ok(priv.publicKey.equals(pub))
      assert.ok(pub.verify(message, sig))
      assert.equal(pub.verify(utf8('Libp2p is the _best_?'), sig), false)
      const ours = priv.sign(message)
      if (f.deterministic) assert.equal(toHex(ours), sig.toString('hex'))
      assert.ok(pub.verify(message, ours))
    })
  }

  it('the fixtures are the files of specs/test-vectors/go-libp2p-crypto, byte for byte', { skip: specMissing(GO_CRYPTO_SPEC_DIR) }, () => {
    const specDir = specPath(GO_CRYPTO_SPEC_DIR) as string
    const names = readdirSync(dir).sort()
    assert.deepEqual(names, fixtures.flatMap((f) => [`${f.n}.priv`, `${f.n}.pub`, `${f.n}.sig`]).sort(), 'the fixtures tested above')
    assert.deepEqual(readdirSync(specDir).sort(), names, 'the same files as the spec folder')
    for (const name of names) {
      assert.ok(readFileSync(join(dir, name)).equals(readFileSync(join(specDir, name))), `${name} differs from the spec's`)
    }
  })

  it('the ECDSA fixture is a high-S signature, which ECDSA verification must accept', () => {
    const rs = decodeDerSignature(readFileSync(join(dir, '3.sig')))
    const p256n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
    assert.ok(rs !== undefined && rs.s > p256n / 2n)
  })
})
