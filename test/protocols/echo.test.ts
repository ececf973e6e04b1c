/**
 * `/echo/1.0.0` (src/protocols/echo.ts): bytes come back in order and the half-close
 * follows; bytes buffered before the handler starts are echoed synchronously (so they
 * share the muxer's flush with the negotiation answer); backpressure stops the reading.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Duplex } from 'node:stream'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { ECHO_PROTOCOL, handleEcho } from '../../src/protocols/echo.js'
import { memoryNode, readAll } from '../helpers/nodes.js'

/** A Duplex whose writable side records writes and can hold their callbacks. */
class Probe extends Duplex {
  readonly written: Buffer[] = []
  readonly held: Array<() => void> = []
  hold = false
  constructor (writableHighWaterMark = 16) {
    super({ allowHalfOpen: true, writableHighWaterMark })
  }

  override _read (): void {}

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.written.push(chunk)
    if (this.hold) this.held.push(cb)
    else cb()
  }

  release (): void {
    this.hold = false
    for (const cb of this.held.splice(0)) cb()
  }
}

describe('echo', () => {
  it('echoes bytes already buffered before the handler starts, synchronously', () => {
    const s = new Probe()
    s.push(Buffer.from('abc'))
    s.push(Buffer.from('de'))
    handleEcho(s)
    assert.equal(Buffer.concat(s.written).toString(), 'abcde')
  })

  it('echoes what arrives later, then half-closes after the remote half-close', async () => {
    const s = new Probe()
    handleEcho(s)
    s.push(Buffer.from('x'))
    await new Promise((resolve) => setImmediate(resolve))
    s.push(Buffer.from('yz'))
    s.push(null)
    await new Promise((resolve) => s.once('finish', resolve))
    assert.equal(Buffer.concat(s.written).toString(), 'xyz')
    assert.equal(s.writableEnded, true)
  })

  it('stops reading while the write side is full, and goes on after drain', async () => {
    const s = new Probe(4)
    s.hold = true
    handleEcho(s)
    s.push(Buffer.alloc(4, 0))
    await new Promise((resolve) => setImmediate(resolve))
    for (let i = 1; i < 10; i++) s.push(Buffer.alloc(4, i))
    await new Promise((resolve) => setImmediate(resolve))
    // The first write reached the high-water mark: nothing more is taken.
    assert.equal(s.written.length, 1)
    assert.equal(s.readableLength, 36)
    s.release()
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(Buffer.concat(s.written).length, 40)
    assert.deepEqual([...Buffer.concat(s.written)], Array.from({ length: 40 }, (_, i) => i >> 2))
  })

  it('over two nodes: any payload, written in any pieces, comes back intact', async () => {
    const a = await memoryNode()
    const b = await memoryNode()
    b.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) })
    try {
      await fc.assert(fc.asyncProperty(
        fc.integer({ min: 0, max: 300_000 }), fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }),
        async (size, cuts) => {
          const data = randomBytes(size)
          const stream = await a.dialProtocol(b.getMultiaddrs()[0] as never, ECHO_PROTOCOL)
          const back = readAll(stream)
          let off = 0
          for (let i = 0; off < size; i++) {
            const n = cuts[i % cuts.length] as number
            stream.write(data.subarray(off, off + n))
            off += n
          }
          stream.end()
          assert.deepEqual(await back, data)
        }), { numRuns: 12 })
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
