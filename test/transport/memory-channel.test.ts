import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryChannel } from '../../src/transport/memory-channel.js'
import { collect, tick } from '../helpers/channel.js'

const b = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('MemoryChannel', () => {
  it('delivers writes in order, asynchronously', async () => {
    const [a, z] = MemoryChannel.pair()
    const got = collect(z)
    a.write(b('hello '))
    a.writev([b('wor'), b('ld')])
    assert.equal(got.chunks.length, 0, 'nothing is delivered synchronously')
    assert.equal((await got.waitFor(11)).toString(), 'hello world')
  })

  it('holds data while detached and redelivers unshifted bytes first', async () => {
    const [a, z] = MemoryChannel.pair()
    const first = collect(z)
    a.write(b('abcdef'))
    await first.waitFor(6)
    z.detach()
    z.unshift(b('def'))
    a.write(b('ghi'))
    await tick()
    const second = collect(z)
    assert.equal((await second.waitFor(6)).toString(), 'defghi')
  })

  it('signals backpressure and drains when the reader takes the bytes', async () => {
    const [a, z] = MemoryChannel.pair({ highWaterMark: 10 })
    const writer = collect(a)
    const reader = collect()
    z.pause()
    z.attach(reader)
    assert.equal(a.write(new Uint8Array(6)), true)
    assert.equal(a.write(new Uint8Array(6)), false)
    await tick()
    assert.equal(writer.drains, 0, 'no drain while the reader is paused')
    z.resume()
    await reader.waitFor(12)
    await tick()
    assert.equal(writer.drains, 1)
  })

  it('propagates half-close, then closes when both sides ended', async () => {
    const [a, z] = MemoryChannel.pair()
    const ca = collect(a)
    const cz = collect(z)
    a.write(b('x'))
    a.end()
    await tick()
    assert.equal(cz.ended, true)
    assert.equal(cz.bytes().toString(), 'x')
    assert.equal(cz.closed, false, 'half-closed, still open for z to write')
    z.write(b('y'))
    z.end()
    await Promise.all([ca.closedP, cz.closedP])
    assert.equal(ca.bytes().toString(), 'y')
    assert.equal(ca.ended, true)
  })

  it('destroy closes both ends, the remote with an error', async () => {
    const [a, z] = MemoryChannel.pair()
    const ca = collect(a)
    const cz = collect(z)
    const cause = new Error('boom')
    a.destroy(cause)
    assert.equal(await ca.closedP, cause)
    const err = await cz.closedP
    assert.equal((err as { code?: string }).code, 'ERR_CONNECTION_CLOSED')
    assert.equal(a.write(b('late')), true, 'writes after close are ignored')
  })

  it('re-splits writes when asked to (arbitrary chunking)', async () => {
    const [a, z] = MemoryChannel.pair({ chunking: (n) => Array.from({ length: n }, () => 1) })
    const got = collect(z)
    a.write(b('abc'))
    await got.waitFor(3)
    assert.equal(got.chunks.length, 3)
  })
})
