/**
 * The WebSocketChannel's framing as another WebSocket implementation sees it (a raw
 * `ws` server that records every message and frame), and the dialing side against a
 * hostile server that writes the HTTP response and the frames by hand.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import { WebSocketServer, type WebSocket } from 'ws'
import { webSockets } from '../../src/transport/websocket.js'
import { MAX_SEND_MESSAGE, SMALL_PIECE } from '../../src/transport/websocket-channel.js'
import { isLp2pError } from '../../src/errors.js'
import { collect, tick } from '../helpers/channel.js'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** A `ws` server that records each message as the list of its frame payloads. */
async function recordingServer () {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  const messages: Buffer[][] = []
  let peer: WebSocket | undefined
  wss.on('connection', (ws) => {
    peer = ws
    ws.binaryType = 'fragments'
    ws.on('message', (data: Buffer[]) => { messages.push(data) })
  })
  const port = (wss.address() as net.AddressInfo).port
  return { wss, messages, port, peer: () => peer }
}

describe('WebSocketChannel framing', () => {
  it('sends any writev as messages of at most 65537 bytes, small pieces joined, bytes intact', async () => {
    const server = await recordingServer()
    const channel = await webSockets().dial(multiaddr(`/ip4/127.0.0.1/tcp/${server.port}/ws`))
    await fc.assert(fc.asyncProperty(
      fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 150_000 })), { minLength: 1, maxLength: 8 }),
      async (sizes) => {
        server.messages.length = 0
        const pieces = sizes.map((n) => randomBytes(n))
        const total = sizes.reduce((a, b) => a + b, 0)
        channel.writev(pieces)
        const received = (): number => server.messages.flat().reduce((a, b) => a + b.length, 0)
        while (received() < total) await tick()
        assert.ok(Buffer.concat(server.messages.flat()).equals(Buffer.concat(pieces)))
        const expectedMessages = Math.ceil(total / MAX_SEND_MESSAGE)
        assert.equal(server.messages.length, expectedMessages)
        for (const message of server.messages) {
          const length = message.reduce((a, b) => a + b.length, 0)
          assert.ok(length <= MAX_SEND_MESSAGE && length > 0)
          // no two small frames in a row: a run of small pieces is one frame
          for (let i = 1; i < message.length; i++) {
            assert.ok(!((message[i - 1] as Buffer).length < SMALL_PIECE && (message[i] as Buffer).length < SMALL_PIECE), `sizes ${sizes.join(',')}`)
          }
        }
      }
    ), { numRuns: 60 })
    channel.destroy()
    server.wss.close()
  })

  it('sends a writev of small pieces as one single-frame message', async () => {
    const server = await recordingServer()
    const channel = await webSockets().dial(multiaddr(`/ip4/127.0.0.1/tcp/${server.port}/ws`))
    channel.writev(Array.from({ length: 20 }, (_, i) => Buffer.alloc(60, i)))
    while (server.messages.length === 0) await tick()
    assert.equal(server.messages.length, 1)
    assert.equal(server.messages[0]?.length, 1)
    assert.equal(server.messages[0]?.[0]?.length, 1200)
    channel.destroy()
    server.wss.close()
  })

  it('receives text and binary messages from another implementation as bytes, in order', async () => {
    const server = await recordingServer()
    const channel = await webSockets().dial(multiaddr(`/ip4/127.0.0.1/tcp/${server.port}/ws`))
    const at = collect(channel)
    while (server.peer() === undefined) await tick()
    const peer = server.peer() as WebSocket
    peer.send(Buffer.from('bin-'))
    peer.send('text-')
    peer.send(Buffer.from('frag'), { fin: false })
    peer.send(Buffer.from('mented'), { fin: true })
    assert.equal((await at.waitFor(19)).toString(), 'bin-text-fragmented')
    peer.close(1000)
    assert.equal(await at.closedP, undefined)
    assert.equal(at.ended, true)
    server.wss.close()
  })
})

/** A server that accepts one connection and answers with `respond(key)`. */
async function handRolledServer (respond: (key: string, socket: net.Socket) => void) {
  const sockets: net.Socket[] = []
  const server = net.createServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    let head = ''
    socket.on('data', (d: Buffer) => {
      if (head.includes('\r\n\r\n')) return
      head += d.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      const key = /Sec-WebSocket-Key: (.*)\r\n/i.exec(head)?.[1] ?? ''
      respond(key, socket)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    addr: multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`),
    close: () => { for (const s of sockets) s.destroy(); server.close() }
  }
}

const accept = (key: string): string => createHash('sha1').update(key + GUID).digest('base64')
const switching = (key: string, extra = ''): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n${extra}\r\n`

describe('WebSocket dialer against a hostile server', () => {
  it('fails the dial on a bad upgrade answer', async () => {
    const answers: Array<(key: string) => string> = [
      () => 'garbage\r\n\r\n',
      () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n',
      (key) => switching(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'),
      (key) => switching(key, 'Sec-WebSocket-Protocol: chat\r\n'),
      (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`,
      () => 'HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n'
    ]
    for (const answer of answers) {
      const server = await handRolledServer((key, socket) => { socket.write(answer(key)) })
      await assert.rejects(webSockets().dial(server.addr), (e: unknown) => isLp2pError(e, 'ERR_TRANSPORT_DIAL_FAILED') && (e as Error).cause !== undefined)
      server.close()
    }
  })

  it('closes the channel on an oversized or masked frame from the server', async () => {
    const hostile: Buffer[] = [
      // a binary frame claiming 1 GiB (unmasked, as a server's must be)
      Buffer.from([0x82, 127, 0, 0, 0, 0, 0x40, 0, 0, 0]),
      // a masked frame from a server
      Buffer.from([0x82, 0x81, 1, 2, 3, 4, 0x78])
    ]
    for (const bytes of hostile) {
      const server = await handRolledServer((key, socket) => { socket.write(switching(key)); setImmediate(() => socket.write(bytes)) })
      const channel = await webSockets().dial(server.addr)
      const at = collect(channel)
      const err = await at.closedP
      assert.ok(isLp2pError(err, 'ERR_CONNECTION_CLOSED'), String(err))
      assert.equal(at.chunks.length, 0)
      server.close()
    }
  })

  it('delivers bytes the server sent right behind its 101 response', async () => {
    const server = await handRolledServer((key, socket) => {
      socket.write(Buffer.concat([Buffer.from(switching(key)), Buffer.from([0x82, 5]), Buffer.from('early')]))
    })
    const channel = await webSockets().dial(server.addr)
    const at = collect(channel)
    assert.equal((await at.waitFor(5)).toString(), 'early')
    channel.destroy()
    server.close()
  })
})
