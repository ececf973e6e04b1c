import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { DEFAULT_SCHEDULE_CONFIG, scheduleDials, type DialCandidate } from '../../src/dialer/schedule.js'
import { classifyAddress } from '../../src/dialer/address-class.js'

const c = (s: string, extra: Partial<DialCandidate> = {}): DialCandidate => ({ addr: multiaddr(s), ...extra })
const plan = (cands: DialCandidate[], config = DEFAULT_SCHEDULE_CONFIG): Array<[string, number]> =>
  scheduleDials(cands, config).map((s) => [s.addr.toString(), s.delay])

describe('address classes', () => {
  it('tells tiers, families and locality apart', () => {
    assert.deepEqual(classifyAddress(multiaddr('/ip4/1.2.3.4/udp/1/quic-v1')), { tier: 'quic', family: 'ip4', local: false, relay: false })
    assert.deepEqual(classifyAddress(multiaddr('/ip6/::1/tcp/1')), { tier: 'tcp', family: 'ip6', local: true, relay: false })
    assert.deepEqual(classifyAddress(multiaddr('/ip4/10.1.2.3/tcp/1/ws')), { tier: 'ws', family: 'ip4', local: true, relay: false })
    assert.deepEqual(classifyAddress(multiaddr('/dns4/example.com/tcp/443/wss')), { tier: 'ws', family: 'dns', local: false, relay: false })
    assert.equal(classifyAddress(multiaddr('/ip4/1.2.3.4/tcp/1/p2p/12D3KooWBJTpUVKmSL4tMEY8gzQmHpmWBNhDuqbh8a3WqkWaV5CE/p2p-circuit')).relay, true)
    for (const local of ['127.0.0.1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.1.1', '100.64.0.1']) {
      assert.equal(classifyAddress(multiaddr(`/ip4/${local}/tcp/1`)).local, true, local)
    }
    for (const pub of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '192.169.0.1']) {
      assert.equal(classifyAddress(multiaddr(`/ip4/${pub}/tcp/1`)).local, false, pub)
    }
    for (const local of ['fd00::1', 'fc12::1', 'fe80::1', '::ffff:10.0.0.1']) {
      assert.equal(classifyAddress(multiaddr(`/ip6/${local}/tcp/1`)).local, true, local)
    }
    assert.equal(classifyAddress(multiaddr('/ip6/2001:db8::1/tcp/1')).local, false)
  })
})

describe('dial schedule', () => {
  it('public: QUIC first (IPv6 then IPv4 one step later), TCP after, WebSocket last, 250 ms steps', () => {
    assert.deepEqual(plan([
      c('/ip4/1.1.1.1/tcp/1/ws'),
      c('/ip4/1.1.1.1/tcp/1'),
      c('/ip6/2001:db8::1/tcp/1'),
      c('/ip4/1.1.1.1/udp/1/quic-v1'),
      c('/ip6/2001:db8::1/udp/1/quic-v1'),
      c('/ip4/1.1.1.2/udp/1/quic-v1')
    ]), [
      ['/ip6/2001:db8::1/udp/1/quic-v1', 0],
      ['/ip4/1.1.1.1/udp/1/quic-v1', 250],
      ['/ip4/1.1.1.2/udp/1/quic-v1', 500],
      ['/ip6/2001:db8::1/tcp/1', 750],
      ['/ip4/1.1.1.1/tcp/1', 1000],
      ['/ip4/1.1.1.1/tcp/1/ws', 1250]
    ])
  })

  it('local addresses use 30 ms steps and start alongside public ones', () => {
    assert.deepEqual(plan([
      c('/ip4/8.8.8.8/tcp/1'),
      c('/ip4/127.0.0.1/tcp/1'),
      c('/ip4/127.0.0.1/tcp/2'),
      c('/ip4/127.0.0.1/tcp/3')
    ]), [
      ['/ip4/127.0.0.1/tcp/1', 0],
      ['/ip4/8.8.8.8/tcp/1', 0],
      ['/ip4/127.0.0.1/tcp/2', 30],
      ['/ip4/127.0.0.1/tcp/3', 30]
    ])
  })

  it('an address that worked last time leads its tier; failed ones go last; certified before uncertified', () => {
    assert.deepEqual(plan([
      c('/ip4/127.0.0.1/tcp/1', { lastDial: { at: 10, ok: false } }),
      c('/ip4/127.0.0.1/tcp/2'),
      c('/ip4/127.0.0.1/tcp/3', { certified: true }),
      c('/ip6/::1/tcp/4', { lastDial: { at: 5, ok: false } }),
      c('/ip4/127.0.0.1/tcp/5', { lastDial: { at: 20, ok: true } })
    ]), [
      ['/ip4/127.0.0.1/tcp/5', 0],
      ['/ip6/::1/tcp/4', 30],
      ['/ip4/127.0.0.1/tcp/3', 60],
      ['/ip4/127.0.0.1/tcp/2', 60],
      ['/ip4/127.0.0.1/tcp/1', 60]
    ])
  })

  it('local QUIC first, local TCP one step (30 ms) later: a peer with both reaches QUIC first', () => {
    assert.deepEqual(plan([c('/ip4/127.0.0.1/tcp/2'), c('/ip4/127.0.0.1/udp/3/quic-v1'), c('/ip4/127.0.0.1/tcp/2/ws')]), [
      ['/ip4/127.0.0.1/udp/3/quic-v1', 0], ['/ip4/127.0.0.1/tcp/2', 30], ['/ip4/127.0.0.1/tcp/2/ws', 60]
    ])
  })

  it('relayed addresses wait relayDelay behind direct ones, and not when alone', () => {
    const relay = '/ip4/1.2.3.4/tcp/1/p2p/12D3KooWBJTpUVKmSL4tMEY8gzQmHpmWBNhDuqbh8a3WqkWaV5CE/p2p-circuit'
    assert.deepEqual(plan([c(relay), c('/ip4/5.6.7.8/tcp/1')]), [['/ip4/5.6.7.8/tcp/1', 0], [relay, 500]])
    assert.deepEqual(plan([c(relay)]), [[relay, 0]])
  })

  it('drops duplicates and caps the number of addresses', () => {
    const many = Array.from({ length: 40 }, (_, i) => c(`/ip4/127.0.0.1/tcp/${1000 + (i % 30)}`))
    const s = scheduleDials(many)
    assert.equal(s.length, 25)
    assert.equal(new Set(s.map((x) => x.addr.toString())).size, 25)
    assert.equal(scheduleDials(many, { ...DEFAULT_SCHEDULE_CONFIG, maxAddresses: 3 }).length, 3)
  })

  it('property: a permutation of the input, sorted by delay, every delay within the steps a schedule can take', () => {
    const hosts = ['127.0.0.1', '::1', '10.0.0.1', '1.2.3.4', '2001:db8::1', '8.8.4.4']
    const suffixes = ['tcp/1', 'tcp/2/ws', 'udp/3/quic-v1']
    const arb = fc.array(fc.tuple(fc.constantFrom(...hosts), fc.constantFrom(...suffixes)), { maxLength: 30 })
    fc.assert(fc.property(arb, (pairs) => {
      const cands = pairs.map(([h, s]) => c(`/${h.includes(':') ? 'ip6' : 'ip4'}/${h}/${s}`))
      const out = scheduleDials(cands)
      const unique = new Set(cands.map((x) => x.addr.toString()))
      assert.equal(out.length, Math.min(unique.size, 25))
      for (let i = 1; i < out.length; i++) assert.ok((out[i]?.delay ?? 0) >= (out[i - 1]?.delay ?? 0))
      // At most 3 steps per tier and 3 tiers per partition.
      for (const s of out) assert.ok(s.delay <= 9 * DEFAULT_SCHEDULE_CONFIG.publicStepDelay)
      // The earliest address starts at once.
      if (out.length > 0) assert.equal(out[0]?.delay, 0)
    }))
  })
})
