/**
 * Every fuzz target (`fuzz/targets/`) replayed over its corpus (`fuzz/corpus/<name>/`,
 * seeded from real traffic) and over every input that once broke it
 * (`fuzz/regressions/<name>/`): each must end in a value or a typed lp2p error,
 * within the target's allocation limit (`fuzz/lib/target.ts`). A crash that
 * `npm run fuzz` finds is written to the regressions folder, so it fails here until
 * it is fixed. Also: the property check itself can fail.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { check, chunks, defineTarget, FuzzFinding, invariant, type FuzzTarget } from '../../fuzz/lib/target.js'
import { Lp2pError, codes } from '../../src/errors.js'

const FUZZ = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fuzz')
const names = readdirSync(path.join(FUZZ, 'targets')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort()

function inputs (folder: string, name: string): Array<[string, Buffer]> {
  const dir = path.join(FUZZ, folder, name)
  if (!existsSync(dir)) return []
  return readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f))])
}

describe('fuzz targets: corpus and regressions replayed', () => {
  it('there is a target for every decoder the fuzz README lists', () => {
    assert.ok(names.length >= 18, `targets: ${names.join(', ')}`)
  })

  for (const name of names) {
    it(`${name}: every corpus and regression input ends in a value or a typed error`, async () => {
      const target = (await import(path.join(FUZZ, 'targets', `${name}.ts`)) as { default: FuzzTarget }).default
      assert.equal(target.name, name, 'the target is named after its file')
      const corpus = inputs('corpus', name)
      assert.ok(corpus.length > 0, `fuzz/corpus/${name}/ has seeds (fuzz/record.ts)`)
      for (const [file, data] of [...corpus, ...inputs('regressions', name)]) {
        try {
          check(target, data)
        } catch (err) {
          assert.fail(`${name}/${file}: ${(err as Error).message}`)
        }
      }
    })
  }
})

describe('fuzz property check', () => {
  const typed = defineTarget({ name: 'typed', description: '', run () { throw new Lp2pError(codes.ERR_INVALID_MESSAGE, 'no') } })
  const untyped = defineTarget({ name: 'untyped', description: '', run () { throw new TypeError('x is undefined') } })
  const violated = defineTarget({ name: 'violated', description: '', run () { invariant(false, 'round trip') } })
  const greedy = defineTarget({ name: 'greedy', description: '', maxAllocation: 1024 * 1024, run (d) { globalThis.__fuzzKeep = new Uint8Array(8 * 1024 * 1024 + d.byteLength) } })

  it('accepts a value or a typed lp2p error', () => {
    check(typed, new Uint8Array(1))
  })

  it('reports any other exception, a broken invariant and an allocation over the limit', () => {
    assert.throws(() => { check(untyped, new Uint8Array(1)) }, FuzzFinding)
    assert.throws(() => { check(violated, new Uint8Array(1)) }, FuzzFinding)
    assert.throws(() => { check(greedy, new Uint8Array(1)) }, /allocated/)
    delete globalThis.__fuzzKeep
  })

  it('cuts inputs into chunks that cover every byte after the first, whatever the seed', () => {
    for (let seed = 0; seed < 256; seed++) {
      const data = Uint8Array.from({ length: 1000 }, (_, i) => i === 0 ? seed : i & 0xff)
      assert.deepEqual(Buffer.concat(chunks(data)), Buffer.from(data.subarray(1)))
    }
  })

  it('refuses a target name that cannot name a folder', () => {
    assert.throws(() => defineTarget({ name: 'Not Kebab', description: '', run () {} }), TypeError)
  })
})

declare global {
  // eslint-disable-next-line no-var
  var __fuzzKeep: Uint8Array | undefined
}
