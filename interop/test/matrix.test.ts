import { strict as assert } from 'node:assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  allCombos, CHECKS, KEY_TYPES, MUXERS, planMatrix, planPair, planPairs, referenceCapabilities, SECURITY, TRANSPORTS,
  type Capabilities, type Implementation, type PlannedCase, type UnsupportedEntry
} from '../driver/matrix.js'
import { casePsks, judgeRefusal } from '../driver/run-case.js'
import { INTEROP_DIR } from '../driver/peers.js'

const FULL: Capabilities = { transports: [...TRANSPORTS], security: [...SECURITY, 'secio', 'plaintext'], muxers: [...MUXERS], keyTypes: [...KEY_TYPES], pnet: true, checks: [...CHECKS] }

function ref (name: string, unsupported: UnsupportedEntry[] = []): Implementation {
  return { name, isLp2p: false, capabilities: referenceCapabilities(unsupported), unsupported }
}

function lp2p (caps: Partial<Capabilities> = {}): Implementation {
  return { name: 'lp2p', isLp2p: true, capabilities: { ...FULL, ...caps }, unsupported: [] }
}

describe('interop matrix planning', () => {
  it('has 9 combinations (QUIC is one: its security and muxer are built in), key columns, SECIO, plaintext, 2 private network columns and the peer-record check per pair', () => {
    assert.equal(allCombos().length, 9)
    const cases = planPair(ref('a'), ref('b'))
    assert.deepEqual(cases.map((c) => c.column), [
      'tcp/noise/yamux', 'tcp/noise/mplex', 'tcp/tls/yamux', 'tcp/tls/mplex',
      'ws/noise/yamux', 'ws/noise/mplex', 'ws/tls/yamux', 'ws/tls/mplex', 'quic-v1',
      'key:secp256k1', 'key:ecdsa', 'key:rsa', 'quic-v1 key:secp256k1', 'quic-v1 key:ecdsa', 'quic-v1 key:rsa',
      'tcp/secio/yamux', 'tcp/plaintext/yamux', 'pnet:shared', 'pnet:wrong-psk', 'peer-record'
    ])
    assert.ok(cases.every((c) => c.skip === undefined))
    const check = cases.find((c) => c.column === 'peer-record')
    assert.deepEqual([check?.check, check?.combo, check?.dialerKey, check?.listenerKey],
      ['peer-record', { transport: 'tcp', security: 'noise', muxer: 'yamux' }, 'ed25519', 'ed25519'])
    assert.ok(cases.filter((c) => c.column !== 'peer-record').every((c) => c.check === undefined))
    assert.deepEqual(cases.filter((c) => c.pnet !== undefined).map((c) => [c.pnet, c.combo.security]), [['shared', 'noise'], ['wrong-psk', 'noise']])
  })

  it('skips private network cases for an implementation without them, and only those', () => {
    const cases = planPair(ref('a', [{ pnet: true, reason: 'none' }]), ref('b'))
    assert.deepEqual(cases.filter((c) => c.skip !== undefined).map((c) => c.column), ['pnet:shared', 'pnet:wrong-psk'])
    const lp = planPair(lp2p({ pnet: false }), ref('b'))
    assert.deepEqual(lp.filter((c) => c.skip?.kind === 'lp2p-unsupported').map((c) => c.column), ['pnet:shared', 'pnet:wrong-psk'])
    const noSecio = planPair(ref('a', [{ security: 'secio', reason: 'gone' }]), ref('b'))
    assert.deepEqual(noSecio.filter((c) => c.skip !== undefined).map((c) => c.column), ['tcp/secio/yamux'])
  })

  it('a wrong-PSK case passes only when the dialer failed, and lp2p must say ERR_PNET_MISMATCH', () => {
    const c = planPair(lp2p(), ref('b')).find((x) => x.pnet === 'wrong-psk') as PlannedCase
    assert.equal(judgeRefusal(c, 1, '', 'lp2p: ERR_PNET_MISMATCH: ...'), undefined)
    assert.match(judgeRefusal(c, 1, '', 'some other error') ?? '', /ERR_PNET_MISMATCH/)
    assert.match(judgeRefusal(c, 0, '{"echoOk": true}', '') ?? '', /connected/)
    const [l, d] = casePsks(c)
    assert.ok(l !== undefined && d !== undefined && l !== d && l.length === 64)
    const shared = planPair(lp2p(), ref('b')).find((x) => x.pnet === 'shared') as PlannedCase
    const [sl, sd] = casePsks(shared)
    assert.equal(sl, sd)
  })

  it('runs QUIC whatever security and muxers a side lists, and skips it for a side without QUIC', () => {
    const js = ref('js', [{ transport: 'quic-v1', reason: 'no QUIC' }])
    const quicCase = (d: Implementation, l: Implementation, col = 'quic-v1'): string | undefined => planPair(d, l).find((c) => c.column === col)?.skip?.kind
    assert.equal(quicCase(lp2p({ security: ['noise'], muxers: ['yamux'] }), ref('go')), undefined)
    assert.equal(quicCase(lp2p(), js), 'unsupported')
    assert.equal(quicCase(lp2p({ transports: ['tcp', 'ws'] }), ref('go')), 'lp2p-unsupported')
    const noEcdsaOverQuic: Implementation = { ...lp2p(), unsupported: [{ transport: 'quic-v1', keyType: 'ecdsa', reason: 'engine' }] }
    assert.equal(quicCase(noEcdsaOverQuic, ref('go'), 'quic-v1 key:ecdsa'), 'lp2p-unsupported')
    assert.equal(quicCase(noEcdsaOverQuic, ref('go'), 'key:ecdsa'), undefined)
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
    assert.deepEqual(py.capabilities.security, ['noise', 'tls', 'secio', 'plaintext'])
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
          const builtIn = c.combo.transport === 'quic-v1'
          assert.ok(cap.transports.includes(c.combo.transport) && (builtIn || cap.security.includes(c.combo.security)) &&
            (builtIn || cap.muxers.includes(c.combo.muxer)) && cap.keyTypes.includes(key), `${c.id} runs without support`)
        }
      }
    }))
  })

  it('reads the committed unsupported.json: every entry has a reason and known fields', () => {
    const raw = JSON.parse(readFileSync(join(INTEROP_DIR, 'unsupported.json'), 'utf8')) as Record<string, unknown>
    const fields = new Set(['transport', 'security', 'muxer', 'role', 'peer', 'keyType', 'scope', 'pnet', 'check', 'reason'])
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
