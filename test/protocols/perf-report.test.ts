/**
 * Perf progress reports with a simulated clock: intermediary reports per interval,
 * summing to the final totals, in the runner's JSON shape.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bitsPerSecond, formatBytes, formatRate, PerfProgress } from '../../src/protocols/perf-report.js'

describe('perf progress', () => {
  it('reports per interval, not cumulatively, and only when an interval has passed', () => {
    const p = new PerfProgress(500, 1000)
    p.upload(100)
    assert.equal(p.poll(1499), undefined)
    assert.deepEqual(p.poll(1500), { type: 'intermediary', timeSeconds: 1, uploadBytes: 100, downloadBytes: 0 })
    p.download(300)
    assert.equal(p.poll(2000), undefined)
    assert.equal(p.dueIn(2000), 500)
    assert.deepEqual(p.poll(2750), { type: 'intermediary', timeSeconds: 1.25, uploadBytes: 0, downloadBytes: 300 })
    assert.deepEqual(p.final(3000), { type: 'final', timeSeconds: 2.5, uploadBytes: 100, downloadBytes: 300 })
  })

  it('intermediary reports sum to the final totals (property)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: 3000 }), fc.nat({ max: 1e6 }), fc.boolean()), { maxLength: 40 }), (events) => {
      const p = new PerfProgress(0)
      let now = 0
      let up = 0
      let down = 0
      let time = 0
      for (const [dt, n, isUpload] of events) {
        now += dt
        if (isUpload) p.upload(n)
        else p.download(n)
        const r = p.poll(now)
        if (r !== undefined) {
          assert.ok(r.timeSeconds >= 1)
          up += r.uploadBytes
          down += r.downloadBytes
          time += r.timeSeconds
        }
      }
      const f = p.final(now)
      assert.ok(up <= f.uploadBytes && down <= f.downloadBytes)
      assert.ok(time <= now / 1000 + 1e-9, 'intervals do not overlap')
      const last = p.poll(now + 1000)
      assert.equal(up + (last?.uploadBytes ?? 0), f.uploadBytes)
      assert.equal(down + (last?.downloadBytes ?? 0), f.downloadBytes)
    }))
  })

  it('rejects a bad clock or interval', () => {
    assert.throws(() => new PerfProgress(Number.NaN), RangeError)
    assert.throws(() => new PerfProgress(0, 0), RangeError)
  })

  it('formats rates and sizes', () => {
    assert.equal(bitsPerSecond(1e9 / 8, 1), 1e9)
    assert.equal(bitsPerSecond(10, 0), 0)
    assert.equal(formatRate(5.42e9), '5.42 Gbit/s')
    assert.equal(formatRate(812e6), '812 Mbit/s')
    assert.equal(formatBytes(1 << 30), '1.00 GiB')
    assert.equal(formatBytes(512), '512 B')
  })
})
