import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { defaultLimits, resolveLimits, type LimitsOptions } from '../../src/connection-manager/limits.js'
import { ConnectionScope, describeDenial, isDenial, ResourceManager, StreamScope } from '../../src/connection-manager/resource-manager.js'
import { IpSet, sourceKey } from '../../src/connection-manager/ip.js'

const machine = { totalMemory: 8 * 2 ** 30, fileDescriptors: 1024 }
const rm = (options: LimitsOptions = {}): ResourceManager => new ResourceManager(resolveLimits(machine, { address: { allow: [] }, ...options }))
const conn = (x: ConnectionScope | ReturnType<ResourceManager['openOutbound']>): ConnectionScope => {
  assert.ok(x instanceof ConnectionScope, isDenial(x) ? describeDenial(x) : 'not a scope')
  return x
}

describe('limits from the machine', () => {
  it('half the file descriptors for connections, an eighth of memory (at most 4 GiB)', () => {
    const l = defaultLimits(machine)
    assert.equal(l.node.connections, 512)
    assert.equal(l.node.memory, 2 ** 30)
    assert.equal(defaultLimits({ totalMemory: 2 ** 40, fileDescriptors: 10 }).node.memory, 4 * 2 ** 30)
    assert.equal(defaultLimits({ totalMemory: 2 ** 40, fileDescriptors: 10 }).node.connections, 64)
    assert.equal(resolveLimits(machine, { node: { connections: 50_000 } }).node.connections, 50_000)
    assert.deepEqual(resolveLimits(machine, { protocol: { '/x': { streams: 2 } } }).protocol['/x'], { streams: 2 })
  })
})

describe('resource manager', () => {
  it('refuses the connection past the node limit, naming the scope and the limit', () => {
    const r = rm({ node: { connections: 2 } })
    conn(r.openInbound('10.0.0.1', 0))
    conn(r.openOutbound())
    const d = r.openInbound('10.0.0.2', 0)
    assert.ok(isDenial(d))
    assert.deepEqual(d, { scope: 'node', limit: 'connections', max: 2 })
    assert.equal(describeDenial(d), 'node limit reached: 2 connections')
    assert.ok(isDenial(r.openOutbound()), 'outbound dials count too')
  })

  it('per address: pending, connections, rate; loopback allow-listed by default; deny list', () => {
    const r = rm({ address: { allow: [], pendingInbound: 2, connections: 3, burst: 100 } })
    const a = conn(r.openInbound('10.0.0.1', 0))
    conn(r.openInbound('10.0.0.1', 0))
    assert.deepEqual(r.openInbound('10.0.0.1', 0), { scope: 'address', limit: 'pendingInbound', max: 2, key: sourceKey('10.0.0.1') })
    a.upgraded()
    conn(r.openInbound('10.0.0.1', 0))
    assert.equal((r.openInbound('10.0.0.1', 0) as { limit: string }).limit, 'pendingInbound')
    conn(r.openInbound('10.0.0.2', 0))

    const rate = rm({ address: { allow: [], burst: 2, rate: 1, pendingInbound: 100, connections: 100 } })
    conn(rate.openInbound('10.0.0.1', 0)).close(0)
    conn(rate.openInbound('10.0.0.1', 0)).close(0)
    assert.equal((rate.openInbound('10.0.0.1', 0) as { limit: string }).limit, 'rate')
    conn(rate.openInbound('10.0.0.1', 1000))

    const dflt = new ResourceManager(defaultLimits(machine))
    for (let i = 0; i < 60; i++) conn(dflt.openInbound('127.0.0.1', 0))
    const deny = rm({ address: { deny: ['192.168.0.0/16'] } })
    assert.deepEqual(deny.openInbound('192.168.3.4', 0), { scope: 'address', limit: 'deny', max: 0, key: '192.168.3.4' })
  })

  it('IPv6 addresses of one /64 share a scope', () => {
    const r = rm({ address: { allow: [], connections: 2, pendingInbound: 10 } })
    conn(r.openInbound('2001:db8::1', 0))
    conn(r.openInbound('2001:db8::ffff:2', 0))
    assert.equal((r.openInbound('2001:db8::3', 0) as { limit: string }).limit, 'connections')
    conn(r.openInbound('2001:db8:0:1::1', 0))
  })

  it('peer scope after the handshake; stream scopes per connection, peer, protocol, node', () => {
    const r = rm({ peer: { connections: 1 }, connection: { streams: 2 }, protocol: { '/p': { streams: 1 } } })
    const c = conn(r.openInbound('10.0.0.1', 0))
    assert.equal(c.setPeer('P'), undefined)
    const c2 = conn(r.openOutbound())
    assert.deepEqual(c2.setPeer('P'), { scope: 'peer', limit: 'connections', max: 1, key: 'P' })
    const s1 = c.openStream('inbound')
    assert.ok(s1 instanceof StreamScope)
    assert.equal(s1.setProtocol('/p'), undefined)
    const s2 = c.openStream('outbound') as StreamScope
    assert.deepEqual(s2.setProtocol('/p'), { scope: 'protocol', limit: 'streams', max: 1, key: '/p' })
    assert.deepEqual(c.openStream('inbound'), { scope: 'connection', limit: 'streams', max: 2 })
    s1.close()
    s1.close()
    assert.equal(s2.setProtocol('/p'), undefined)
    assert.ok(c.openStream('inbound') instanceof StreamScope, 'the closed stream freed its slot')
    assert.equal(r.used.streams, 2)
  })

  it('memory is reserved against connection, peer and node; released on close', () => {
    const r = rm({ connection: { memory: 100 }, peer: { memory: 150 }, node: { memory: 1000 } })
    const a = conn(r.openOutbound())
    a.setPeer('P')
    const b = conn(r.openOutbound())
    b.setPeer('P')
    assert.equal(a.reserveMemory(100), undefined)
    assert.deepEqual(a.reserveMemory(1), { scope: 'connection', limit: 'memory', max: 100 })
    assert.deepEqual(b.reserveMemory(60), { scope: 'peer', limit: 'memory', max: 150, key: 'P' })
    a.releaseMemory(40)
    assert.equal(b.reserveMemory(60), undefined)
    a.close(0)
    assert.equal(r.used.memory, 60)
    assert.equal(r.peerUsage('P').memory, 60)
  })

  it('property: any sequence of opens, upgrades, streams and closes returns every counter to zero', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('in' as const), ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '::1', '2001:db8::1') }),
      fc.record({ t: fc.constant('out' as const) }),
      fc.record({ t: fc.constant('peer' as const), i: fc.nat(), p: fc.constantFrom('A', 'B') }),
      fc.record({ t: fc.constant('up' as const), i: fc.nat() }),
      fc.record({ t: fc.constant('stream' as const), i: fc.nat(), p: fc.constantFrom('/a', '/b') }),
      fc.record({ t: fc.constant('mem' as const), i: fc.nat(), n: fc.integer({ min: 1, max: 5000 }) }),
      fc.record({ t: fc.constant('close' as const), i: fc.nat() })
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const r = rm({ node: { connections: 10, memory: 20_000, streams: 15 }, peer: { connections: 3 }, address: { allow: [], burst: 1000 } })
      const conns: ConnectionScope[] = []
      const streams: StreamScope[] = []
      for (const o of ops) {
        const c = conns.length > 0 && 'i' in o ? conns[o.i % conns.length] : undefined
        if (o.t === 'in') { const x = r.openInbound(o.ip, 0); if (x instanceof ConnectionScope) conns.push(x) }
        if (o.t === 'out') { const x = r.openOutbound(); if (x instanceof ConnectionScope) conns.push(x) }
        if (o.t === 'peer') c?.setPeer(o.p)
        if (o.t === 'up') c?.upgraded()
        if (o.t === 'stream' && c !== undefined) { const s = c.openStream('inbound'); if (s instanceof StreamScope) { s.setProtocol(o.p); streams.push(s) } }
        if (o.t === 'mem') c?.reserveMemory(o.n)
        if (o.t === 'close') c?.close(0)
        assert.ok(r.used.connections <= 10 && r.used.memory <= 20_000 && r.used.streams <= 15)
      }
      for (const s of streams) s.close()
      for (const c of conns) c.close(1e9)
      r.sweep(1e9)
      assert.deepEqual(Object.values(r.used), [0, 0, 0, 0, 0, 0, 0, 0])
      assert.equal(r.addressScopes, 0)
    }))
  })
})

describe('IP sets', () => {
  it('addresses and prefixes, IPv4-mapped IPv6 as IPv4, bad entries refused', () => {
    const s = new IpSet(['127.0.0.0/8', '::1', '2001:db8::/32'])
    assert.ok(s.has('127.1.2.3') && s.has('::ffff:127.0.0.1') && s.has('::1') && s.has('2001:db8:1::5'))
    assert.ok(!s.has('128.0.0.1') && !s.has('::2') && !s.has('2001:db9::1') && !s.has('garbage'))
    assert.throws(() => new IpSet(['10.0.0.0/33']), RangeError)
    assert.throws(() => new IpSet(['nope']), RangeError)
  })
})
