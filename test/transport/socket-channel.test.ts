import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { multiaddr } from '@multiformats/multiaddr'
import { CORK_LIMIT, SocketChannel } from '../../src/transport/socket-channel.js'
import { collect } from '../helpers/channel.js'

async function socketPair (): Promise<[net.Socket, net.Socket, net.Server]> {
  const server = net.createServer({ allowHalfOpen: true })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  const accepted = once(server, 'connection')
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  await once(client, 'connect')
  const [srv] = await accepted as [net.Socket]
  return [client, srv, server]
}

describe('SocketChannel', () => {
  it('carries bytes both ways, half-closes and closes', async () => {
    const [c, s, server] = await socketPair()
    const ma = multiaddr('/ip4/127.0.0.1/tcp/1')
    const cc = new SocketChannel(c, ma)
    const sc = new SocketChannel(s, ma)
    const fromServer = collect(cc)
    const fromClient = collect(sc)
    cc.writev([Buffer.from('ping'), Buffer.from('!')])
    assert.equal((await fromClient.waitFor(5)).toString(), 'ping!')
    const ended = new Promise<void>((resolve) => {
      const onEnd = fromClient.onEnd
      fromClient.onEnd = () => { onEnd(); resolve() }
    })
    cc.end()
    await ended
    assert.equal(fromClient.ended, true)
    sc.write(Buffer.from('pong'))
    assert.equal((await fromServer.waitFor(4)).toString(), 'pong')
    sc.end()
    await Promise.all([fromClient.closedP, fromServer.closedP])
    server.close()
  })

  it('reports a reset as ERR_CONNECTION_CLOSED with the socket error as cause', async () => {
    const [c, s, server] = await socketPair()
    const ma = multiaddr('/ip4/127.0.0.1/tcp/1')
    const cc = new SocketChannel(c, ma)
    const got = collect(cc)
    s.resetAndDestroy()
    const err = await got.closedP
    assert.equal((err as { code?: string } | undefined)?.code, 'ERR_CONNECTION_CLOSED')
    server.close()
  })

  describe('auto-cork', () => {
    /** Counts what reaches the socket's write implementation: one entry per call, the chunk count of each. */
    function spyWrites (socket: net.Socket): number[][] {
      const calls: number[][] = []
      const s = socket as unknown as {
        _write: (chunk: Buffer, enc: string, cb: () => void) => void
        _writev: (chunks: Array<{ chunk: Buffer }>, cb: () => void) => void
      }
      const write = s._write.bind(socket)
      const writev = s._writev.bind(socket)
      s._write = (chunk, enc, cb) => { calls.push([chunk.byteLength]); write(chunk, enc, cb) }
      s._writev = (chunks, cb) => { calls.push(chunks.map((c) => c.chunk.byteLength)); writev(chunks, cb) }
      return calls
    }

    async function pair (): Promise<{ cc: SocketChannel, got: ReturnType<typeof collect>, calls: number[][], close: () => void }> {
      const [c, s, server] = await socketPair()
      const ma = multiaddr('/ip4/127.0.0.1/tcp/1')
      const cc = new SocketChannel(c, ma)
      const got = collect(new SocketChannel(s, ma))
      return { cc, got, calls: spyWrites(c), close: () => { c.destroy(); s.destroy(); server.close() } }
    }

    it('sends the small writes of one turn, promise reactions included, in one call', async () => {
      const { cc, got, calls, close } = await pair()
      cc.write(Buffer.from('a'))
      cc.writev([Buffer.from('bb'), Buffer.from('ccc')])
      await Promise.resolve()
      await Promise.resolve()
      cc.write(Buffer.from('dddd'))
      assert.deepEqual(calls, [], 'nothing leaves before the end of the turn')
      assert.equal((await got.waitFor(10)).toString(), 'abbcccdddd')
      assert.deepEqual(calls, [[1, 2, 3, 4]])
      // The next turn corks anew.
      cc.write(Buffer.from('e'))
      assert.equal((await got.waitFor(11)).toString(), 'abbcccdddde')
      assert.deepEqual(calls, [[1, 2, 3, 4], [1]])
      close()
    })

    it(`sends a write of ${CORK_LIMIT} bytes or more at once, behind the corked ones`, async () => {
      const { cc, got, calls, close } = await pair()
      cc.write(Buffer.from('hi'))
      const big = Buffer.alloc(CORK_LIMIT, 7)
      cc.write(big)
      assert.deepEqual(calls, [[2, CORK_LIMIT]], 'flushed within write()')
      cc.write(big)
      assert.deepEqual(calls.length, 2, 'uncorked: a large write goes straight out')
      const all = await got.waitFor(2 + 2 * CORK_LIMIT)
      assert.equal(all.subarray(0, 2).toString(), 'hi')
      assert.ok(all.subarray(2).every((b) => b === 7))
      close()
    })

    it('flush() sends now, and end() sends the corked bytes before the FIN', async () => {
      const { cc, got, calls, close } = await pair()
      cc.write(Buffer.from('x'))
      cc.flush()
      assert.deepEqual(calls, [[1]])
      cc.write(Buffer.from('yz'))
      cc.end()
      const ended = new Promise<void>((resolve) => {
        const onEnd = got.onEnd
        got.onEnd = () => { onEnd(); resolve() }
      })
      await ended
      assert.equal(got.bytes().toString(), 'xyz')
      close()
    })

    it('keeps the order of a mix of small and large writes, write and writev, across turns', async () => {
      const { cc, got, close } = await pair()
      const sizes = [1, 5, CORK_LIMIT - 1, CORK_LIMIT, 3, 2 * CORK_LIMIT, 1, 1, 700]
      let expected = Buffer.alloc(0)
      let fill = 0
      for (let round = 0; round < 3; round++) {
        for (const n of sizes) {
          const chunk = Buffer.alloc(n, ++fill)
          expected = Buffer.concat([expected, chunk])
          if (fill % 3 === 0) cc.writev([chunk.subarray(0, n >> 1), chunk.subarray(n >> 1)])
          else cc.write(chunk)
          if (fill % 4 === 0) await Promise.resolve()
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
      assert.deepEqual(await got.waitFor(expected.byteLength), expected)
      close()
    })
  })
})
