/**
 * Streams half-close: a handler may read the whole request with `for await` and then
 * answer with `end(reply)`; leaving the loop early resets the stream.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isLp2pError } from '../../src/errors.js'
import { mplex } from '../../src/muxer/mplex/index.js'
import { yamux } from '../../src/muxer/yamux/index.js'
import { withTimeout } from '../helpers/hostile.js'
import { memoryNode, readAll } from '../helpers/nodes.js'
import { closedWith } from '../muxer/stream-io.js'

for (const [name, muxer] of [['yamux', yamux], ['mplex', mplex]] as const) {
  describe(`request/response over ${name} streams`, () => {
    it('for await reads the request to its end, then end(reply) answers', async () => {
      const a = await memoryNode({ streamMuxers: [muxer()] })
      const b = await memoryNode({ streamMuxers: [muxer()] })
      try {
        b.handle('/upper/1.0.0', async (stream) => {
          const parts: Buffer[] = []
          for await (const chunk of stream) parts.push(chunk as Buffer)
          stream.end(Buffer.concat(parts).toString().toUpperCase())
        })
        const s = await a.dialProtocol(b.getMultiaddrs()[0] as Multiaddr, '/upper/1.0.0')
        s.write('hello ')
        s.end('world')
        assert.equal((await withTimeout(readAll(s), 5000, 'the reply')).toString(), 'HELLO WORLD')
      } finally {
        await Promise.all([a.stop(), b.stop()])
      }
    })

    it('leaving the loop early resets the stream', async () => {
      const a = await memoryNode({ streamMuxers: [muxer()] })
      const b = await memoryNode({ streamMuxers: [muxer()] })
      try {
        b.handle('/first/1.0.0', async (stream) => {
          for await (const chunk of stream) {
            if (chunk.length > 0) break
          }
        })
        const s = await a.dialProtocol(b.getMultiaddrs()[0] as Multiaddr, '/first/1.0.0')
        s.write('x')
        // The error the stream closes with (undefined: it closed cleanly, not reset).
        const closed = closedWith(s)
        s.resume()
        const err = await withTimeout(closed, 5000, 'the stream to close')
        assert.ok(isLp2pError(err, 'ERR_STREAM_RESET'), String(err))
      } finally {
        await Promise.all([a.stop(), b.stop()])
      }
    })
  })
}
