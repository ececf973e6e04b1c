import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { multiaddr } from '@multiformats/multiaddr'
import { SocketChannel } from '../../src/transport/socket-channel.js'
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
})
