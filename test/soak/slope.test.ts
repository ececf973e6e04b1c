/** The soak's verdict (`soak/slope.ts`): slopes per hour and growth against a bound. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { judge, slopePerHour } from '../../soak/slope.js'

const H = 3_600_000

describe('soak slopes', () => {
  it('fits the slope of a line exactly, per hour', () => {
    const line = Array.from({ length: 10 }, (_, i) => ({ t: i * 60_000, value: 100 + 5 * i }))
    assert.ok(Math.abs(slopePerHour(line) - 300) < 1e-9)
    assert.equal(slopePerHour([{ t: 0, value: 1 }]), 0)
    assert.equal(slopePerHour([{ t: 5, value: 1 }, { t: 5, value: 9 }]), 0)
  })

  it('a flat series with noise passes; a steady leak fails once it outgrows the floor', () => {
    const noisy = Array.from({ length: 60 }, (_, i) => ({ t: i * 30_000, value: 1000 + (i % 3) }))
    assert.equal(judge(noisy, { perHour: 10, floor: 5 }).ok, true)
    // One unit a minute for 30 minutes: 60/h against 10/h, growth 29 > floor 5.
    const leak = Array.from({ length: 30 }, (_, i) => ({ t: i * 60_000, value: 1000 + i }))
    const v = judge(leak, { perHour: 10, floor: 5 })
    assert.equal(v.ok, false)
    assert.ok(Math.abs(v.slopePerHour - 60) < 1e-9)
    // The same leak over two minutes stays under the floor: short runs judge growth, not slope.
    assert.equal(judge(leak.slice(0, 3), { perHour: 10, floor: 5 }).ok, true)
    assert.equal(judge(leak, { perHour: 10, floor: 5 }).allowed, 5)
    assert.equal(judge(Array.from({ length: 3 }, (_, i) => ({ t: i * H, value: 0 })), { perHour: 10, floor: 5 }).allowed, 20)
  })
})
