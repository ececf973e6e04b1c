import { strict as assert } from 'node:assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  allCombos, CHECKS, KEY_TYPES, MUXERS, planMatrix, planPair, planPairs, referenceCapabilities, SECURITY, TRANSPORTS,
  type Capabilities, type Implementation, type UnsupportedEntry
} from '../driver/matrix.js'
import { INTEROP_DIR } from '../driver/peers.js'

const FULL: Capabilities = { transports: [...TRANSPORTS], security: [...SECURITY], muxers: [...MUXERS], keyTypes: [...KEY_TYPES], checks: [...CHECKS] }

function ref (name: string, unsupported: UnsupportedEntry[] = []): Implementation {
  return { name, isLp2p: false, capabilities: referenceCapabilities(unsupported), unsupported }
}

function lp2p (caps: Partial<Capabilities> = {}): Implementation {
  return { name: 'lp2p', isLp2p: true, capabilities: { ...FULL, ...caps }, unsupported: [] }
}

describe('interop matrix planning', () => {
  it('has 8 combinations, 3 key columns and the peer-record check per pair', () => {
    assert.equal(allCombos().length, 8)
    const cases = planPair(ref('a'), ref('b'))
    assert.deepEqual(cases.map((c) => c.column), [
      'tcp/noise/yamux', 'tcp/noise/mplex', 'tcp/tls/yamux', 'tcp/tls/mplex',
      'ws/noise/yamux', 'ws/noise/mplex', 'ws/tls/yamux', 'ws/tls/mplex',
      'key:secp256k1', 'key:ecdsa', 'key:rsa', 'peer-record'
    ])
    assert.ok(cases.every((c) => c.skip === undefined))
    const check = cases.find((c) => c.column === 'peer-record')
    assert.deepEqual([check?.check, check?.combo, check?.dialerKey, check?.listenerKey],
      ['peer-record', { transport: 'tcp', security: 'noise', muxer: 'yamux' }, 'ed25519', 'ed25519'])
    assert.ok(cases.filter((c) => c.column !== 'peer-record').every((c) => c.check === undefined))
  })

  it('a check entry applies to its check column only; an lp2p without the check is lp2p-unsupported', () => {
    const rust = ref('rust', [{ check: 'peer-record', role: 'dialer', reason: 'legacy records only' }])
    const find = (d: Implementation, l: Implementation, col: string): string | undefined => planPair(d, l).find((c) => c.column === col)?.skip?.kind
    assert.equal(find(rust, lp2p(), 'peer-record'), 'unsupported')
    assert.equal(find(rust, lp2p(), 'tcp/noise/yamux'), undefined)
    assert.equal(find(lp2p(), rust, 'peer-record'), undefined, 'rust as listener is not ruled out')
    assert.equal(find(lp2p({ checks: [] }), rust, 'peer-record'), 'lp2p-unsupported')
    assert.deepEqual(rust.capabilities.checks, ['peer-record'])
  })

  it('runs lp2p against every reference in both directions and against itself', () => {
    const pairs = planPairs([lp2p(), ref('go'), ref('rust')], 'lp2p').map(([d, l]) => `${d.name}>${l.name}`)
    assert.deepEqual(pairs, ['lp2p>go', 'go>lp2p', 'lp2p>rust', 'rust>lp2p', 'lp2p>lp2p'])
    const refPairs = planPairs([lp2p(), ref('go'), ref('rust')], 'reference').map(([d, l]) => `${d.name}>${l.name}`)
    assert.deepEqual(refPairs, ['go>rust', 'rust>go'])
  })

  it('marks what lp2p lacks as lp2p-unsupported and what a reference lacks as unsupported', () => {
    const go = ref('go', [{ muxer: 'mplex', reason: 'no mplex' }])
    const cases = planPair(lp2p({ transports: ['tcp'], security: ['noise'], muxers: ['yamux', 'mplex'] }), go)
    const byColumn = new Map(cases.map((c) => [c.column, c]))
    assert.equal(byColumn.get('tcp/noise/yamux')?.skip, undefined)
    assert.equal(byColumn.get('tcp/noise/mplex')?.skip?.kind, 'unsupported')
    assert.equal(byColumn.get('tcp/tls/yamux')?.skip?.kind, 'lp2p-unsupported')
    assert.equal(byColumn.get('ws/noise/yamux')?.skip?.kind, 'lp2p-unsupported')
  })

  it('uses Ed25519 for a side that cannot make the column key, and skips a side that rejects it', () => {
    const rust = ref('rust', [{ keyType: 'rsa', scope: 'host-key', reason: 'cannot generate' }])
    const js = ref('js', [{ keyType: 'ecdsa', reason: 'rejects' }])
    const rsa = planPair(lp2p(), rust).find((c) => c.column === 'key:rsa')
    assert.equal(rsa?.skip, undefined)
    assert.equal(rsa?.dialerKey, 'rsa')
    assert.equal(rsa?.listenerKey, 'ed25519')
    const ecdsa = planPair(js, lp2p()).find((c) => c.column === 'key:ecdsa')
    assert.equal(ecdsa?.skip?.kind, 'unsupported')
    const lp2pNoRsa = planPair(lp2p({ keyTypes: ['ed25519'] }), rust).find((c) => c.column === 'key:rsa')
    assert.equal(lp2pNoRsa?.skip?.kind, 'lp2p-unsupported')
  })

  it('limits peer- and role-scoped entries to those cases', () => {
    const py = ref('python', [{ security: 'tls', peer: ['js'], reason: 'tls mismatch' }, { muxer: 'mplex', role: 'dialer', peer: 'js', reason: 'stall' }])
    assert.deepEqual(py.capabilities.security, ['noise', 'tls'])
    const js = ref('js'); const go = ref('go')
    const find = (d: Implementation, l: Implementation, col: string): string | undefined => planPair(d, l).find((c) => c.column === col)?.skip?.kind
    assert.equal(find(py, js, 'tcp/tls/yamux'), 'unsupported')
    assert.equal(find(js, py, 'tcp/tls/yamux'), 'unsupported')
    assert.equal(find(py, go, 'tcp/tls/yamux'), undefined)
    assert.equal(find(py, js, 'tcp/noise/mplex'), 'unsupported')
    assert.equal(find(js, py, 'tcp/noise/mplex'), undefined)
  })

  it('never runs a case one side cannot do (property)', () => {
    const subset = (all: readonly string[]): fc.Arbitrary<string[]> => fc.subarray([...all])
    const caps = fc.record({ transports: subset(TRANSPORTS), security: subset(SECURITY), muxers: subset(MUXERS), keyTypes: subset(KEY_TYPES) })
    fc.assert(fc.property(caps, caps, (a, b) => {
      const impls: Implementation[] = [
        { name: 'lp2p', isLp2p: true, capabilities: a, unsupported: [] },
        { name: 'x', isLp2p: false, capabilities: b, unsupported: [] }
      ]
      for (const c of planMatrix(impls, 'all')) {
        if (c.skip !== undefined) continue
        for (const [name, key] of [[c.dialer, c.dialerKey], [c.listener, c.listenerKey]] as const) {
          const cap = name === 'lp2p' ? a : b
          assert.ok(cap.transports.includes(c.combo.transport) && cap.security.includes(c.combo.security) &&
            cap.muxers.includes(c.combo.muxer) && cap.keyTypes.includes(key), `${c.id} runs without support`)
        }
      }
    }))
  })

  it('reads the committed unsupported.json: every entry has a reason and known fields', () => {
    const raw = JSON.parse(readFileSync(join(INTEROP_DIR, 'unsupported.json'), 'utf8')) as Record<string, unknown>
    const fields = new Set(['transport', 'security', 'muxer', 'role', 'peer', 'keyType', 'scope', 'check', 'reason'])
    for (const [name, entries] of Object.entries(raw)) {
      if (name.startsWith('$')) continue
      assert.ok(Array.isArray(entries), name)
      for (const e of entries as Array<Record<string, unknown>>) {
        assert.equal(typeof e.reason, 'string', `${name} entry without reason`)
        for (const k of Object.keys(e)) assert.ok(fields.has(k), `${name}: unknown field ${k}`)
      }
    }
  })
})
