/**
 * The pure perf parts: the 8-byte header, the server state machine (with arbitrary
 * chunking, truncation, oversize requests and garbage) and the client's accounting.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isLp2pError } from '../../src/errors.js'
import {
  DEFAULT_MAX_RESPONSE_BYTES, encodePerfHeader, PERF_HEADER_LENGTH, PERF_MAX_U64, PerfDownloadAccount,
  PerfServerMachine
} from '../../src/protocols/perf-machine.js'
import { split } from '../helpers/chunks.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** Feeds `chunks` then the half-close; returns the final state. */
function serve (machine: PerfServerMachine, chunks: Uint8Array[]): ReturnType<PerfServerMachine['receiveEnd']> {
  for (const c of chunks) {
    const s = machine.receive(c)
    if (s.phase === 'failed') return s
  }
  return machine.receiveEnd()
}

/** Drains the machine with `take(block)`; returns the total handed out. */
function drain (machine: PerfServerMachine, block: number, cap = Number.MAX_SAFE_INTEGER): number {
  let total = 0
  for (let n = machine.take(block); n > 0 && total < cap; n = machine.take(block)) total += n
  return total
}

describe('perf header', () => {
  it('is a big-endian uint64 (spec: "a single big-endian uint64 number")', () => {
    assert.equal(hex(encodePerfHeader(0)), '0000000000000000')
    assert.equal(hex(encodePerfHeader(1)), '0000000000000001')
    assert.equal(hex(encodePerfHeader(0x0102030405)), '0000000102030405')
    assert.equal(hex(encodePerfHeader(PERF_MAX_U64)), 'ffffffffffffffff')
  })

  it('rejects what is not a uint64', () => {
    assert.throws(() => encodePerfHeader(-1), RangeError)
    assert.throws(() => encodePerfHeader(1.5), RangeError)
    assert.throws(() => encodePerfHeader(2 ** 60), RangeError) // not a safe integer: pass a bigint
    assert.throws(() => encodePerfHeader(PERF_MAX_U64 + 1n), RangeError)
    assert.throws(() => encodePerfHeader(-1n), RangeError)
  })
})

describe('perf server machine', () => {
  it('reads the header and upload in any chunking, then sends exactly the request (property)', () => {
    fc.assert(fc.property(
      fc.nat({ max: 300_000 }), fc.nat({ max: 5000 }), fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 1, max: 70_000 }),
      (requested, uploaded, cuts, blockSize) => {
        const wire = Buffer.concat([encodePerfHeader(requested), Buffer.alloc(uploaded, 7)])
        const m = new PerfServerMachine()
        assert.equal(m.take(blockSize), 0, 'nothing to send before the half-close')
        const s = serve(m, split(wire, cuts))
        assert.equal(s.phase, requested === 0 ? 'done' : 'download')
        assert.equal(m.uploaded, uploaded)
        assert.equal(drain(m, blockSize), requested)
        assert.equal(m.sent, requested)
        assert.equal(m.state.phase, 'done')
        assert.equal(m.take(blockSize), 0)
      }))
  })

  it('fails on a truncated header at every length (ERR_PROTOCOL_VIOLATION)', () => {
    const header = encodePerfHeader(1234)
    for (let n = 0; n < PERF_HEADER_LENGTH; n++) {
      const m = new PerfServerMachine()
      const s = serve(m, [header.subarray(0, n)])
      assert.equal(s.phase, 'failed')
      assert.ok(s.phase === 'failed' && isLp2pError(s.error, 'ERR_PROTOCOL_VIOLATION'), `after ${n} bytes`)
      assert.equal(m.take(65536), 0, 'sends nothing')
    }
  })

  it('refuses a request above maxResponseBytes before the upload (ERR_MESSAGE_TOO_LARGE)', () => {
    const m = new PerfServerMachine({ maxResponseBytes: 1000n })
    assert.equal(m.receive(encodePerfHeader(1000)).phase, 'upload', 'the limit itself is allowed')
    const over = new PerfServerMachine({ maxResponseBytes: 1000n })
    const s = over.receive(Buffer.concat([encodePerfHeader(1001), Buffer.alloc(10)]))
    assert.ok(s.phase === 'failed' && isLp2pError(s.error, 'ERR_MESSAGE_TOO_LARGE'))
    assert.equal(over.receiveEnd().phase, 'failed', 'stays failed')
    assert.equal(over.take(100), 0)
  })

  it('bounds the request by default at DEFAULT_MAX_RESPONSE_BYTES (1 TiB)', () => {
    const ok = new PerfServerMachine()
    assert.equal(ok.receive(encodePerfHeader(DEFAULT_MAX_RESPONSE_BYTES)).phase, 'upload')
    for (const huge of [DEFAULT_MAX_RESPONSE_BYTES + 1n, 1n << 62n, PERF_MAX_U64]) {
      const s = new PerfServerMachine().receive(encodePerfHeader(huge))
      assert.ok(s.phase === 'failed' && isLp2pError(s.error, 'ERR_MESSAGE_TOO_LARGE'), String(huge))
    }
  })

  it('with the limit raised to 2^64 - 1, serves the spec\'s "max uint64" as a send-until-reset', () => {
    const m = new PerfServerMachine({ maxResponseBytes: PERF_MAX_U64 })
    const s = serve(m, [encodePerfHeader(PERF_MAX_U64)])
    assert.ok(s.phase === 'download' && s.remaining === Infinity && s.requested === PERF_MAX_U64)
    assert.equal(drain(m, 1 << 20, 64 << 20), 64 << 20, 'keeps giving blocks')
    assert.equal(m.state.phase, 'download')
  })

  it('treats any 8 bytes as a size and garbage after them as upload (fuzz)', () => {
    // Half the cases start with a plausible size near the limit, half are random bytes.
    const plausible = fc.tuple(fc.nat({ max: (1 << 20) + 16 }), fc.uint8Array({ maxLength: 56 }))
      .map(([n, rest]) => Uint8Array.from([...encodePerfHeader(n), ...rest]))
    const input = fc.oneof(plausible, fc.uint8Array({ minLength: 0, maxLength: 64 }))
    fc.assert(fc.property(input, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const m = new PerfServerMachine({ maxResponseBytes: 1n << 20n })
      const s = serve(m, split(bytes, cuts))
      if (bytes.length < PERF_HEADER_LENGTH) {
        assert.equal(s.phase, 'failed')
        return
      }
      const requested = Buffer.from(bytes).readBigUInt64BE(0)
      if (requested > 1n << 20n) {
        assert.ok(s.phase === 'failed' && isLp2pError(s.error, 'ERR_MESSAGE_TOO_LARGE'))
      } else {
        assert.equal(m.uploaded, bytes.length - PERF_HEADER_LENGTH)
        assert.equal(drain(m, 4096), Number(requested))
      }
    }))
  })

  it('validates its options', () => {
    assert.throws(() => new PerfServerMachine({ maxResponseBytes: -1n }), RangeError)
    assert.throws(() => new PerfServerMachine({ maxResponseBytes: PERF_MAX_U64 + 1n }), RangeError)
    assert.throws(() => new PerfServerMachine({ maxResponseBytes: 5 as unknown as bigint }), RangeError)
  })
})

describe('perf download account', () => {
  it('accepts exactly the request in any chunking (property)', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 100_000 }), { maxLength: 20 }), (sizes) => {
      const total = sizes.reduce((a, b) => a + b, 0)
      const acc = new PerfDownloadAccount(total)
      for (const n of sizes) acc.add(n)
      acc.end()
      assert.equal(acc.received, total)
    }))
  })

  it('fails as soon as the server sends more than asked', () => {
    const acc = new PerfDownloadAccount(100)
    acc.add(60)
    assert.throws(() => { acc.add(41) }, (e) => isLp2pError(e, 'ERR_PROTOCOL_VIOLATION'))
  })

  it('fails at the end when bytes are missing', () => {
    const acc = new PerfDownloadAccount(100)
    acc.add(99)
    assert.throws(() => { acc.end() }, (e) => isLp2pError(e, 'ERR_PROTOCOL_VIOLATION'))
    assert.throws(() => new PerfDownloadAccount(-1), RangeError)
  })
})
