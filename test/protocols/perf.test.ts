/**
 * The perf client and server over whole nodes on the memory transport (Noise + yamux):
 * exact byte counts both ways, reports, and hostile servers and clients.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isLp2pError } from '../../src/errors.js'
import { createNode, type Lp2pNode } from '../../src/node.js'
import type { Stream } from '../../src/interfaces/connection.js'
import {
  handlePerf, PERF_MAX_INBOUND_STREAMS, PERF_PROTOCOL, perfHandler, perfOnStream, runPerf, type PerfServerResult
} from '../../src/protocols/perf.js'
import { encodePerfHeader } from '../../src/protocols/perf-machine.js'
import type { PerfReport } from '../../src/protocols/perf-report.js'
import { memoryNode, readAll } from '../helpers/nodes.js'

describe('perf over memory nodes', () => {
  let server: Lp2pNode
  let client: Lp2pNode
  let addr: Multiaddr
  const served: PerfServerResult[] = []

  before(async () => {
    server = await memoryNode()
    client = await memoryNode()
    server.handle(PERF_PROTOCOL, async (stream) => { served.push(await handlePerf(stream, { maxResponseBytes: 1n << 30n })) }, { maxInboundStreams: PERF_MAX_INBOUND_STREAMS })
    addr = server.getMultiaddrs()[0] as Multiaddr
  })

  after(async () => {
    await Promise.all([client.stop(), server.stop()])
  })

  for (const [up, down] of [[0, 0], [1, 0], [0, 1], [3 * 1024 * 1024 + 17, 0], [0, 3 * 1024 * 1024 + 17], [1_000_003, 2_000_011]] as const) {
    it(`uploads ${up} and downloads ${down} bytes, counted exactly on both sides`, async () => {
      const conn = await client.dial(addr)
      const before = served.length
      const res = await runPerf(conn, { uploadBytes: up, downloadBytes: down, blockSize: 50_000 })
      assert.equal(res.uploadBytes, up)
      assert.equal(res.downloadBytes, down)
      assert.equal(res.final.type, 'final')
      assert.equal(res.final.uploadBytes, up)
      assert.equal(res.final.downloadBytes, down)
      assert.ok(res.streamSeconds >= res.uploadSeconds && res.uploadSeconds >= 0)
      assert.equal(res.firstByteSeconds === undefined, down === 0)
      // The server's result lands when its write side finishes, at about the same time.
      for (let i = 0; served.length === before && i < 100; i++) await new Promise((resolve) => setImmediate(resolve))
      assert.deepEqual(served.at(-1), { requested: BigInt(down), uploaded: up, sent: down })
    })
  }

  it('runs several perf streams on one connection at once', async () => {
    const conn = await client.dial(addr)
    const runs = await Promise.all([1, 2, 3, 4].map(async (i) => await runPerf(conn, { uploadBytes: i * 100_000, downloadBytes: i * 70_000 })))
    assert.deepEqual(runs.map((r) => [r.uploadBytes, r.downloadBytes]), [1, 2, 3, 4].map((i) => [i * 100_000, i * 70_000]))
  })

  it('emits intermediary reports over TCP that add up to the final totals', async () => {
    // Over TCP: the memory transport delivers in microtasks, which starve the report
    // timer during a bulk transfer.
    const a = createNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const b = createNode()
    a.handle(PERF_PROTOCOL, perfHandler())
    await Promise.all([a.start(), b.start()])
    try {
      const reports: PerfReport[] = []
      const conn = await b.dial(a.getMultiaddrs()[0] as Multiaddr)
      const res = await runPerf(conn, { uploadBytes: 32 << 20, downloadBytes: 32 << 20, reportInterval: 2, onProgress: (r) => { reports.push(r) } })
      assert.ok(reports.length >= 2, `${reports.length} reports`)
      assert.ok(reports.every((r) => r.type === 'intermediary' && r.timeSeconds >= 0.002))
      const up = reports.reduce((a, r) => a + r.uploadBytes, 0)
      const down = reports.reduce((a, r) => a + r.downloadBytes, 0)
      assert.ok(up + down > 0 && up <= res.uploadBytes && down <= res.downloadBytes, `${up} ${down}`)
      assert.deepEqual([res.final.uploadBytes, res.final.downloadBytes], [32 << 20, 32 << 20])
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('is refused with a reset when the request is over the server limit', async () => {
    const conn = await client.dial(addr)
    await assert.rejects(runPerf(conn, { uploadBytes: 10, downloadBytes: 2 ** 31 }), (e: unknown) => isLp2pError(e, 'ERR_STREAM_RESET'))
    // The connection survives a refused request.
    const ok = await runPerf(conn, { uploadBytes: 5, downloadBytes: 5 })
    assert.equal(ok.downloadBytes, 5)
  })

  it('rejects a server that sends more than asked, or less', async () => {
    const liar = await memoryNode()
    liar.handle('/perf-more', (s) => { s.resume(); s.once('end', () => { s.end(Buffer.alloc(11)) }) })
    liar.handle('/perf-less', (s) => { s.resume(); s.once('end', () => { s.end(Buffer.alloc(9)) }) })
    const conn = await client.dial(liar.getMultiaddrs()[0] as Multiaddr)
    for (const proto of ['/perf-more', '/perf-less']) {
      const stream = await conn.newStream(proto)
      await assert.rejects(perfOnStream(stream, { uploadBytes: 3, downloadBytes: 10 }), (e: unknown) => isLp2pError(e, 'ERR_PROTOCOL_VIOLATION'), proto)
    }
    await liar.stop()
  })

  it('the server resets a stream that ends inside the header', async () => {
    const stream = await client.dialProtocol(addr, PERF_PROTOCOL)
    stream.end(encodePerfHeader(5).subarray(0, 5))
    await assert.rejects(readAll(stream), (e: unknown) => isLp2pError(e, 'ERR_STREAM_RESET'))
  })

  it('perfHandler serves with the default limit and swallows a client\'s broken request', async () => {
    const node = await memoryNode()
    node.handle(PERF_PROTOCOL, perfHandler({ blockSize: 4096 }))
    const conn = await client.dial(node.getMultiaddrs()[0] as Multiaddr)
    const res = await runPerf(conn, { uploadBytes: 100_000, downloadBytes: 100_001 })
    assert.equal(res.downloadBytes, 100_001)
    const bad: Stream = await conn.newStream(PERF_PROTOCOL)
    bad.end(Buffer.alloc(3))
    await assert.rejects(readAll(bad))
    assert.throws(() => perfHandler({ blockSize: 0 }), RangeError)
    assert.throws(() => perfHandler({ maxResponseBytes: -1n }), RangeError)
    await node.stop()
  })

  it('aborts through its signal', async () => {
    const conn = await client.dial(addr)
    const ac = new AbortController()
    const stream = await conn.newStream(PERF_PROTOCOL)
    stream.once('data', () => { ac.abort() })
    await assert.rejects(perfOnStream(stream, { uploadBytes: 0, downloadBytes: 1 << 29, signal: ac.signal }), (e: unknown) => isLp2pError(e, 'ERR_ABORTED'))
    assert.ok(stream.destroyed)
    const pre = new AbortController()
    pre.abort()
    await assert.rejects(runPerf(conn, { uploadBytes: 1, downloadBytes: 1, signal: pre.signal }), (e: unknown) => isLp2pError(e, 'ERR_ABORTED'))
  })

  it('validates its arguments', async () => {
    const conn = await client.dial(addr)
    await assert.rejects(runPerf(conn, { uploadBytes: -1, downloadBytes: 0 }), RangeError)
    await assert.rejects(runPerf(conn, { uploadBytes: 0, downloadBytes: 0.5 }), RangeError)
  })
})
