/**
 * Every hex vector of specs/peer-ids.md ("Test vectors", read from the spec file itself)
 * and the go-libp2p fixtures of specs/test-vectors/go-libp2p-crypto.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { peerIdFromPublicKey, peerIdFromString, privateKeyFromProtobuf, publicKeyFromProtobuf, type KeyType } from '../../src/identity/index.js'
import { decodeDerSignature } from '../../src/identity/ecdsa-signature.js'
import { toHex, utf8 } from './helpers.js'

const SPECS = '/work/shared/specs'
const spec = readFileSync(join(SPECS, 'peer-ids.md'), 'utf8')

/** The `bytes` cell of the vector table row whose first cell is `name`. */
function vector (name: string): string {
  const row = spec.split('\n').find((l) => l.split('|')[1]?.trim() === name)
  assert.ok(row !== undefined, `no row "${name}" in peer-ids.md`)
  return (row.split('|')[2] as string).trim().toLowerCase()
}

// Peer ids computed from the vectors (cross-checked against js-libp2p in js-interop.test.ts).
const SPEC_VECTORS: Array<{ row: string, type: KeyType, id: string }> = [
  { row: 'ED25519', type: 'Ed25519', id: '12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq' },
  { row: 'secp256k1', type: 'secp256k1', id: '16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY' },
  { row: 'ECDSA', type: 'ECDSA', id: 'QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk' },
  { row: 'rsa', type: 'RSA', id: 'QmaeANgBs1DTSxWSrPPtobgQuxW8XTfsS4ydbK4rCHzqxG' }
]

describe('peer-ids.md test vectors', () => {
  it('the spec table has exactly the eight vectors we test', () => {
    const rows = spec.split('\n').filter((l) => /^\|\s*(ECDSA|ED25519|secp256k1|rsa) (private|public) key/.test(l))
    assert.equal(rows.length, 8)
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
  const dir = join(SPECS, 'test-vectors/go-libp2p-crypto')
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

  it('the ECDSA fixture is a high-S signature, which ECDSA verification must accept', () => {
    const rs = decodeDerSignature(readFileSync(join(dir, '3.sig')))
    const p256n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
    assert.ok(rs !== undefined && rs.s > p256n / 2n)
  })
})
