/**
 * A hostile or broken peer against the WebSocket listener and channel: raw TCP
 * clients that speak HTTP and RFC 6455 frames by hand, so that every malformed,
 * oversized, truncated or slow input can be produced.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'
import fc from 'fast-check'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { webSockets, type WebSocketOptions } from '../../src/transport/websocket.js'
import { DEFAULT_MAX_MESSAGE_SIZE, MAX_FRAGMENTS } from '../../src/transport/websocket-options.js'
import { isLp2pError } from '../../src/errors.js'
import { collect, tick } from '../helpers/channel.js'
import { portOf } from '../helpers/addr.js'
import { listenOn } from './listening.js'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

async function listening (options: WebSocketOptions = {}, addr = '/ip4/127.0.0.1/tcp/0/ws') {
  const l = await listenOn(webSockets(options), addr)
  return { ...l, port: portOf(l.listener.getAddrs()[0] as Multiaddr) }
}

/** A raw TCP connection that records everything it receives and when it closes. */
async function rawConnect (port: number) {
  const socket = net.connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve).once('error', reject) })
  const received: Buffer[] = []
  socket.on('data', (d: Buffer) => received.push(d))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => { resolve() }))
  return { socket, closed, text: () => Buffer.concat(received).toString('latin1'), bytes: () => Buffer.concat(received) }
}

function upgradeRequest (path = '/', key = randomBytes(16).toString('base64')): string {
  return `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
}

/** A raw client after a completed upgrade. */
async function rawWebSocket (port: number) {
  const raw = await rawConnect(port)
  const key = randomBytes(16).toString('base64')
  raw.socket.write(upgradeRequest('/', key))
  while (!raw.text().includes('\r\n\r\n')) await tick()
  const head = raw.text()
  assert.match(head, /^HTTP\/1\.1 101 /)
  const accept = createHash('sha1').update(key + GUID).digest('base64')
  assert.ok(head.includes(`Sec-WebSocket-Accept: ${accept}`))
  const headLength = head.indexOf('\r\n\r\n') + 4
  return { ...raw, frames: () => raw.bytes().subarray(headLength) }
}

/** One RFC 6455 frame (§5.2). */
function frame (payload: Uint8Array, { opcode = 2, fin = true, mask = true, rsv = 0, claimedLength }: { opcode?: number, fin?: boolean, mask?: boolean, rsv?: number, claimedLength?: number } = {}): Buffer {
  const length = claimedLength ?? payload.byteLength
  const header: number[] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode]
  const maskBit = mask ? 0x80 : 0
  if (length < 126) {
    header.push(maskBit | length)
  } else if (length < 65536) {
    header.push(maskBit | 126, length >> 8, length & 0xff)
  } else {
    const big = Buffer.alloc(8)
    big.writeBigUInt64BE(BigInt(length))
    header.push(maskBit | 127, ...big)
  }
  if (!mask) return Buffer.concat([Buffer.from(header), payload])
  const key = randomBytes(4)
  const masked = Buffer.from(payload)
  for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] as number) ^ (key[i & 3] as number)
  return Buffer.concat([Buffer.from(header), key, masked])
}

/** The close code in the first Close frame the server sent, if any. */
function serverCloseCode (frames: Buffer): number | undefined {
  let i = 0
  while (i + 2 <= frames.length) {
    const opcode = (frames[i] as number) & 0x0f
    let length = (frames[i + 1] as number) & 0x7f
    let offset = i + 2
    if (length === 126) { length = frames.readUInt16BE(offset); offset += 2 } else if (length === 127) { length = Number(frames.readBigUInt64BE(offset)); offset += 8 }
    if (opcode === 8) return length >= 2 ? frames.readUInt16BE(offset) : 1005
    i = offset + length
  }
  return undefined
}

describe('WebSocket listener and channel against hostile peers', () => {
  it('closes a connection whose peer sends a message larger than maxMessageSize (1009)', async () => {
    const { listener, next, port } = await listening()
    const ws = await rawWebSocket(port)
    const server = await next()
    const atServer = collect(server)
    // a header claiming 100 MB: rejected from the frame header, nothing is buffered
    ws.socket.write(frame(new Uint8Array(0), { claimedLength: 100 * 1024 * 1024 }).subarray(0, 14))
    await ws.closed
    const err = await atServer.closedP
    assert.ok(isLp2pError(err, 'ERR_CONNECTION_CLOSED'), String(err))
    assert.match(String((err as Error).cause), /Max payload size exceeded/)
    assert.equal(serverCloseCode(ws.frames()), 1009)
    assert.equal(atServer.chunks.length, 0)

    // a real message one byte over the limit, sent in two frames
    const ws2 = await rawWebSocket(port)
    const server2 = await next()
    const at2 = collect(server2)
    const half = DEFAULT_MAX_MESSAGE_SIZE / 2
    ws2.socket.write(frame(randomBytes(half), { fin: false }))
    ws2.socket.write(frame(randomBytes(half + 1), { opcode: 0 }))
    await ws2.closed
    assert.ok(isLp2pError(await at2.closedP, 'ERR_CONNECTION_CLOSED'))
    assert.equal(serverCloseCode(ws2.frames()), 1009)
    await listener.close()
  })

  it('accepts a message of exactly maxMessageSize', async () => {
    const { listener, next, port } = await listening()
    const ws = await rawWebSocket(port)
    const server = await next()
    const atServer = collect(server)
    const data = randomBytes(DEFAULT_MAX_MESSAGE_SIZE)
    ws.socket.write(frame(data))
    assert.ok((await atServer.waitFor(data.length)).equals(data))
    ws.socket.destroy()
    await listener.close()
  })

  it('answers a plain HTTP request with 426 and closes it, and is still serving', async () => {
    const { listener, next, port } = await listening()
    const raw = await rawConnect(port)
    raw.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n')
    await raw.closed
    assert.match(raw.text(), /^HTTP\/1\.1 426 /)
    const ok = await webSockets().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`))
    ;(await next()).destroy()
    ok.destroy()
    await listener.close()
  })

  it('rejects garbage, bad upgrades and oversized headers with a 4xx and a closed socket', async () => {
    const { listener, port, accepted } = await listening()
    const cases: Array<[string | Buffer, RegExp]> = [
      [randomBytes(64), /^HTTP\/1\.1 400 /],
      ['NOT HTTP AT ALL\r\n\r\n', /^HTTP\/1\.1 400 /],
      // missing key, wrong version, POST
      ['GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n', /^HTTP\/1\.1 400 /],
      [upgradeRequest().replace('Version: 13', 'Version: 99'), /^HTTP\/1\.1 400 /],
      [upgradeRequest().replace('GET', 'POST'), /^HTTP\/1\.1 4\d\d /],
      [upgradeRequest().replace('\r\n\r\n', `\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 4\d\d /]
    ]
    for (const [request, expected] of cases) {
      const raw = await rawConnect(port)
      raw.socket.write(request)
      await raw.closed
      assert.match(raw.text(), expected, JSON.stringify(String(request).slice(0, 40)))
    }
    assert.equal(accepted.length, 0)
    await listener.close()
  })

  it('drops a client that never finishes the opening handshake', async () => {
    const { listener, port, accepted } = await listening({ handshakeTimeout: 100 })
    const silent = await rawConnect(port)
    const slow = await rawConnect(port)
    slow.socket.write('GET / HTTP/1.1\r\nHost: x\r\n') // and never the rest
    await Promise.all([silent.closed, slow.closed])
    assert.equal(accepted.length, 0)
    await listener.close()
  })

  it('holds at most maxListenerConnections connections, upgraded or not', async () => {
    const { listener, next, port } = await listening({ maxListenerConnections: 2 })
    const first = await webSockets().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`))
    const firstServer = await next()
    const idle = await rawConnect(port)
    const refused = await rawConnect(port)
    await refused.closed
    assert.equal(refused.text(), '')
    // the limit counts open connections: one closes, a new one is accepted
    first.destroy()
    await collect(firstServer).closedP
    const again = await webSockets().dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`))
    ;(await next()).destroy()
    again.destroy()
    idle.socket.destroy()
    await listener.close()
  })

  it('drops connections still in the handshake when the listener closes', async () => {
    const { listener, port } = await listening()
    const raw = await rawConnect(port)
    await tick(5)
    await listener.close()
    await raw.closed
  })

  it('closes on protocol violations: unmasked, reserved bits, bad opcode, too many fragments', async () => {
    const { listener, next, port } = await listening()
    const violations: Array<[Buffer, number]> = [
      [frame(Buffer.from('x'), { mask: false }), 1002],
      [frame(Buffer.from('x'), { rsv: 4 }), 1002],
      [frame(Buffer.from('x'), { opcode: 3 }), 1002],
      [frame(Buffer.from('x'), { opcode: 0 }), 1002],
      [frame(Buffer.alloc(126), { opcode: 9 }), 1002],
      [Buffer.concat(Array.from({ length: MAX_FRAGMENTS + 1 }, (_, i) => frame(Buffer.from('y'), { fin: false, opcode: i === 0 ? 2 : 0 }))), 1008]
    ]
    for (const [bytes, code] of violations) {
      const ws = await rawWebSocket(port)
      const server = await next()
      const at = collect(server)
      ws.socket.write(bytes)
      const err = await at.closedP
      assert.ok(isLp2pError(err, 'ERR_CONNECTION_CLOSED'), String(err))
      await ws.closed
      assert.equal(serverCloseCode(ws.frames()), code)
    }
    await listener.close()
  })

  it('delivers exactly the payload bytes whatever the frame and TCP chunk boundaries', async () => {
    const { listener, next, port } = await listening()
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({
        size: fc.integer({ min: 0, max: 3000 }),
        text: fc.boolean(),
        fragments: fc.integer({ min: 1, max: 4 }),
        ping: fc.boolean()
      }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 20 }),
      async (messages, cuts) => {
        const ws = await rawWebSocket(port)
        const server = await next()
        const at = collect(server)
        const expected: Buffer[] = []
        const wire: Buffer[] = []
        for (const m of messages) {
          // text payloads are delivered as bytes too; keep them valid ASCII
          const data = m.text ? Buffer.from('t'.repeat(m.size)) : randomBytes(m.size)
          expected.push(data)
          const step = Math.ceil(data.length / m.fragments) || 1
          let first = true
          for (let off = 0; off < data.length || first; off += step) {
            const part = data.subarray(off, off + step)
            const last = off + step >= data.length
            wire.push(frame(part, { opcode: first ? (m.text ? 1 : 2) : 0, fin: last }))
            // control frames may sit between the fragments of a message
            if (m.ping && !last) wire.push(frame(Buffer.from('p'), { opcode: 9 }))
            first = false
          }
        }
        const all = Buffer.concat(wire)
        let off = 0
        for (let i = 0; off < all.length; i++) {
          const n = cuts[i % cuts.length] as number
          ws.socket.write(all.subarray(off, off + n))
          off += n
          if (i % 3 === 0) await tick()
        }
        const want = Buffer.concat(expected)
        const got = await at.waitFor(want.length)
        assert.ok(got.equals(want))
        ws.socket.destroy()
        await at.closedP
      }
    ), { numRuns: 25 })
    await listener.close()
  })

  it('on a connection lost mid-frame, delivers only whole messages and closes with an error', async () => {
    const { listener, next, port } = await listening()
    const ws = await rawWebSocket(port)
    const server = await next()
    const at = collect(server)
    const whole = randomBytes(1000)
    const cut = frame(randomBytes(5000))
    ws.socket.write(Buffer.concat([frame(whole), cut.subarray(0, 2500)]))
    await at.waitFor(1000)
    ws.socket.destroy()
    const err = await at.closedP
    assert.ok(isLp2pError(err, 'ERR_CONNECTION_CLOSED'), String(err))
    assert.match(String((err as Error).cause), /1006/)
    assert.ok(at.bytes().equals(whole))
    assert.equal(at.ended, false)
    await listener.close()
  })

  it('maps close codes: 1000/1001/1005 end cleanly, others close with the code as cause', async () => {
    const { listener, next, port } = await listening()
    const closeFrame = (code?: number, reason = ''): Buffer => {
      if (code === undefined) return frame(new Uint8Array(0), { opcode: 8 })
      const body = Buffer.alloc(2 + Buffer.byteLength(reason))
      body.writeUInt16BE(code)
      body.write(reason, 2)
      return frame(body, { opcode: 8 })
    }
    for (const [code, clean] of [[1000, true], [1001, true], [undefined, true], [1011, false], [4000, false]] as const) {
      const ws = await rawWebSocket(port)
      const server = await next()
      const at = collect(server)
      ws.socket.write(Buffer.concat([frame(Buffer.from('last words')), closeFrame(code, 'bye')]))
      const err = await at.closedP
      assert.equal(at.bytes().toString(), 'last words')
      if (clean) {
        assert.equal(err, undefined, `code ${code}`)
        assert.equal(at.ended, true)
      } else {
        assert.ok(isLp2pError(err, 'ERR_CONNECTION_CLOSED'), String(err))
        assert.equal((err.cause as { closeCode?: number }).closeCode, code)
        assert.match(String(err.message), /bye/)
      }
      // the server answered the Close frame
      await ws.closed
      assert.ok(serverCloseCode(ws.frames()) !== undefined)
    }
    await listener.close()
  })

  it('answers pings by itself with a pong of the same payload', async () => {
    const { listener, next, port } = await listening()
    const ws = await rawWebSocket(port)
    const server = await next()
    const at = collect(server)
    ws.socket.write(frame(Buffer.from('abc'), { opcode: 9 }))
    while (ws.frames().length < 5) await tick()
    assert.deepEqual([...ws.frames().subarray(0, 5)], [0x8a, 3, ...Buffer.from('abc')])
    ws.socket.destroy()
    await at.closedP
    await listener.close()
  })
})
