import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  generateKeyPair, loadKeyFile, peerIdFromPrivateKey, saveKeyFile, MAX_KEY_FILE_BYTES, type KeyType
} from '../../src/identity/index.js'
import { code, hex } from './helpers.js'

const invalidFile = code('ERR_INVALID_KEY_FILE')
const ED_PRIV = '080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e'

describe('key files', () => {
  let dir = ''
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'lp2p-keyfile-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('saves and loads a key: same bytes, same peer id, mode 0600, no temp file left', async () => {
    const key = generateKeyPair()
    const path = join(dir, 'ed.key')
    await saveKeyFile(path, key)
    const loaded = await loadKeyFile(path)
    assert.deepEqual(loaded.bytes, key.bytes)
    assert.ok(peerIdFromPrivateKey(loaded).equals(peerIdFromPrivateKey(key)))
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    const doc = JSON.parse(await readFile(path, 'utf8'))
    assert.deepEqual(Object.keys(doc), ['version', 'type', 'peerId', 'privateKey'])
    assert.equal(doc.version, 1)
    assert.equal(doc.type, 'Ed25519')
    assert.equal(doc.peerId, peerIdFromPrivateKey(key).toString())
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [])
  })

  it('overwrites atomically by default and refuses when overwrite is false', async () => {
    const path = join(dir, 'over.key')
    await saveKeyFile(path, generateKeyPair())
    const second = generateKeyPair()
    await saveKeyFile(path, second)
    assert.deepEqual((await loadKeyFile(path)).bytes, second.bytes)
    await assert.rejects(saveKeyFile(path, generateKeyPair(), { overwrite: false }),
      (e: unknown) => invalidFile(e) && (e as Error & { cause: { code: string } }).cause.code === 'EEXIST')
    assert.deepEqual((await loadKeyFile(path)).bytes, second.bytes)
    const fresh = join(dir, 'fresh.key')
    await saveKeyFile(fresh, second, { overwrite: false })
    assert.deepEqual((await loadKeyFile(fresh)).bytes, second.bytes)
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [])
  })

  it('loads a raw binary protobuf PrivateKey file (go-libp2p style)', async () => {
    const path = join(dir, 'raw.key')
    await writeFile(path, hex(ED_PRIV))
    const key = await loadKeyFile(path)
    assert.equal(peerIdFromPrivateKey(key).toString(), '12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq')
  })

  it('rejects a file whose peerId does not match the key', async () => {
    const path = join(dir, 'wrong-id.key')
    const key = generateKeyPair()
    const doc = { version: 1, type: 'Ed25519', peerId: peerIdFromPrivateKey(generateKeyPair()).toString(), privateKey: Buffer.from(key.bytes).toString('base64') }
    await writeFile(path, JSON.stringify(doc))
    await assert.rejects(loadKeyFile(path), (e: unknown) => invalidFile(e) && /does not match/.test((e as Error).message))
  })

  const bad: Array<[string, string | Uint8Array]> = [
    ['garbage bytes', hex('deadbeef')],
    ['garbage text', 'hello'],
    ['truncated JSON', '{"version":1,'],
    ['a JSON array', '[1]'],
    ['an unknown version', '{"version":2,"type":"Ed25519","peerId":"x","privateKey":"AA=="}'],
    ['a missing peerId', `{"version":1,"type":"Ed25519","privateKey":"${Buffer.from(hex(ED_PRIV)).toString('base64')}"}`],
    ['a wrong type', `{"version":1,"type":"RSA","peerId":"12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq","privateKey":"${Buffer.from(hex(ED_PRIV)).toString('base64')}"}`],
    ['non-base64 key', '{"version":1,"type":"Ed25519","peerId":"x","privateKey":"!!!!"}'],
    ['a key that is not a key', `{"version":1,"type":"Ed25519","peerId":"x","privateKey":"${Buffer.from('nonsense').toString('base64')}"}`],
    ['an empty file', ''],
    ['a truncated protobuf key', hex(ED_PRIV.slice(0, 40))]
  ]
  for (const [name, content] of bad) {
    it(`rejects ${name} with ERR_INVALID_KEY_FILE`, async () => {
      const path = join(dir, 'bad.key')
      await writeFile(path, content)
      await assert.rejects(loadKeyFile(path), invalidFile)
    })
  }

  it('rejects a missing file and an oversized file before reading it', async () => {
    await assert.rejects(loadKeyFile(join(dir, 'missing.key')),
      (e: unknown) => invalidFile(e) && (e as Error & { cause: { code: string } }).cause.code === 'ENOENT')
    const big = join(dir, 'big.key')
    await writeFile(big, Buffer.alloc(MAX_KEY_FILE_BYTES + 1, 0x20))
    await assert.rejects(loadKeyFile(big), (e: unknown) => invalidFile(e) && /larger/.test((e as Error).message))
  })

  it('round-trips every key type', async () => {
    for (const type of ['Ed25519', 'secp256k1', 'ECDSA', 'RSA'] as KeyType[]) {
      const key = generateKeyPair(type)
      const path = join(dir, `${type}.key`)
      await saveKeyFile(path, key)
      assert.deepEqual((await loadKeyFile(path)).bytes, key.bytes, type)
    }
  })
})
