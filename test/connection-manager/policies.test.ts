import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { TokenBucket } from '../../src/connection-manager/token-bucket.js'
import { DEFAULT_TRIM_CONFIG, selectForTrim, TrimSchedule, type TrimCandidate } from '../../src/connection-manager/trim.js'

describe('token bucket', () => {
  it('a full burst, then one token per 1/rate seconds', () => {
    const b = new TokenBucket(0.2, 16, 0)
    for (let i = 0; i < 16; i++) assert.equal(b.take(0), true)
    assert.equal(b.take(0), false)
    assert.equal(b.waitTime(0), 5000)
    assert.equal(b.take(4999), false)
    assert.equal(b.take(5000), true)
    assert.equal(b.take(5000), false)
    assert.equal(b.isFull(5000 + 16 * 5000), true)
  })

  it('property: never more than burst + rate x elapsed tokens taken', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 200 }), (gaps) => {
      const b = new TokenBucket(2, 5, 0)
      let now = 0
      let taken = 0
      for (const g of gaps) {
        now += g
        if (b.take(now)) taken++
      }
      assert.ok(taken <= 5 + (now / 1000) * 2 + 1e-9)
    }))
  })

  it('a clock going backwards adds nothing', () => {
    const b = new TokenBucket(1, 1, 1000)
    assert.equal(b.take(1000), true)
    assert.equal(b.take(0), false)
    assert.equal(b.take(1500), false)
    assert.equal(b.take(2000), true)
  })
})

describe('trim decision', () => {
  const conn = (id: number, peer: string, extra: Partial<TrimCandidate> = {}): TrimCandidate =>
    ({ id: String(id), peer, direction: 'inbound', opened: 0, streams: 0, ...extra })
  const config = { ...DEFAULT_TRIM_CONFIG, lowWater: 2, highWater: 4 }
  const ids = (cs: TrimCandidate[]): string[] => cs.map((c) => c.id)

  it('nothing at or below the high mark; down to the low mark above it', () => {
    const four = [1, 2, 3, 4].map((i) => conn(i, `p${i}`))
    assert.deepEqual(selectForTrim({ connections: four, tagValue: () => 0, isProtected: () => false, now: 100_000 }, config), [])
    const five = [1, 2, 3, 4, 5].map((i) => conn(i, `p${i}`))
    assert.equal(selectForTrim({ connections: five, tagValue: () => 0, isProtected: () => false, now: 100_000 }, config).length, 3)
  })

  it('order: tag value, then streams, then inbound first, then youngest; protected and new ones stay', () => {
    const cs = [
      conn(1, 'tagged', { opened: 0 }),
      conn(2, 'busy', { streams: 3 }),
      conn(3, 'out', { direction: 'outbound' }),
      conn(4, 'old', { opened: 0 }),
      conn(5, 'young', { opened: 30_000 }),
      conn(6, 'protected'),
      conn(7, 'new', { opened: 90_000 })
    ]
    const tags: Record<string, number> = { tagged: 10 }
    const out = selectForTrim({
      connections: cs,
      tagValue: (p) => tags[p] ?? 0,
      isProtected: (p) => p === 'protected',
      now: 100_000
    }, config)
    assert.deepEqual(ids(out), ['5', '4', '3', '2', '1'])
  })

  it('200 connections with watermarks 150/100: 100 go, protected and high-tag peers kept', () => {
    const cs = Array.from({ length: 200 }, (_, i) => conn(i, `p${i}`, { opened: i }))
    const out = selectForTrim({
      connections: cs,
      tagValue: (p) => (p === 'p7' ? 100 : 0),
      isProtected: (p) => p === 'p3',
      now: 1_000_000
    }, { ...config, lowWater: 100, highWater: 150 })
    assert.equal(out.length, 100)
    assert.ok(!ids(out).includes('3') && !ids(out).includes('7'))
  })

  it('schedule: above the high mark at most once per silence period', () => {
    const s = new TrimSchedule(config)
    assert.equal(s.shouldTrim(4, 0), false)
    assert.equal(s.shouldTrim(5, 0), true)
    assert.equal(s.shouldTrim(5, 9_999), false)
    assert.equal(s.nextAllowed, 10_000)
    assert.equal(s.shouldTrim(5, 10_000), true)
  })
})
