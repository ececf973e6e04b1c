/**
 * An lp2p churner for the soak (`soak/main.ts`), driven over IPC: for the given
 * seconds, several loops at once open fresh connections to the subject and, at
 * random, echo a few streams of random sizes and close gracefully (yamux GoAway),
 * reset a stream mid-transfer, abort the connection mid-frame (the socket destroyed
 * while a write is in flight), ping, or make a dial that fails (a port nobody
 * listens on; the wrong peer id). Everything it opened is closed when it returns.
 */
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { createNode, type Lp2pNode } from '../src/node.js'
import { generateKeyPair } from '../src/identity/keys.js'
import { peerIdFromPrivateKey } from '../src/identity/peer-id.js'
import { ECHO_PROTOCOL } from '../src/protocols/echo.js'
import { ping } from '../src/protocols/ping.js'
import type { Connection, Stream } from '../src/interfaces/connection.js'
import { serve } from '../bench/peers/rpc.js'

let node: Lp2pNode | undefined
const stats = { connections: 0, streams: 0, bytes: 0, resets: 0, aborts: 0, pings: 0, failedDials: 0, errors: 0 }
const WRONG_PEER = peerIdFromPrivateKey(generateKeyPair('Ed25519')).toString()

async function echo (conn: Connection, size: number): Promise<void> {
  const stream = await conn.newStream(ECHO_PROTOCOL)
  stats.streams++
  const data = randomBytes(size)
  let got = 0
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => { got += c.byteLength })
    stream.once('end', () => { got === size ? resolve() : reject(new Error(`echo: ${got} of ${size}`)) })
    stream.once('error', reject)
    stream.end(data)
  })
  stats.bytes += size
}

async function once (bare: string, refused: string): Promise<void> {
  const n = node as Lp2pNode
  const op = Math.random()
  if (op < 0.08) {
    // A dial that fails: nobody listening, or the wrong peer behind the address.
    const target = Math.random() < 0.5 ? refused : `${bare}/p2p/${WRONG_PEER}`
    await n.dial(target).then(async (c) => { await c.close() }, () => { stats.failedDials++ })
    return
  }
  const conn = await n.dial(bare)
  stats.connections++
  const name = op < 0.2 ? 'ping' : op < 0.35 ? 'reset' : op < 0.5 ? 'abort' : 'echo'
  try {
    if (op < 0.2) {
      await ping(conn) // this connection: node.ping(peer) may pick another loop's, closing
      stats.pings++
    } else if (op < 0.35) {
      const s: Stream = await conn.newStream(ECHO_PROTOCOL)
      stats.streams++
      s.on('error', () => {})
      s.write(randomBytes(64 * 1024))
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5))
      s.destroy()
      stats.resets++
    } else if (op < 0.5) {
      const s: Stream = await conn.newStream(ECHO_PROTOCOL)
      stats.streams++
      s.on('error', () => {})
      s.resume()
      s.write(randomBytes(1024 * 1024))
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 5))
      conn.abort()
      stats.aborts++
      return
    } else {
      const streams = 1 + Math.floor(Math.random() * 5)
      await Promise.all(Array.from({ length: streams }, async () => { await echo(conn, 1 + Math.floor(Math.random() * 256 * 1024)) }))
    }
  } catch (err) {
    countError(err, name)
  }
  await conn.close().catch(() => {})
}

/** Errors by code (or message), to tell expected races from failures. */
const errorKinds: Record<string, number> = {}
function countError (err: unknown, op = 'dial'): void {
  stats.errors++
  const e = err as { code?: string, message?: string }
  const kind = `${op}: ${e.code ?? (e.message ?? String(err)).slice(0, 60)}`
  errorKinds[kind] = (errorKinds[kind] ?? 0) + 1
}

serve({
  async start () {
    node = createNode({ limits: { maxConnections: 1000 } })
    await node.start()
    return null
  },

  async run ({ addrs, seconds, loops }: { addrs: string[], seconds: number, loops: number }) {
    // A port that refuses: bound and closed again, so nothing listens there.
    const server = net.createServer()
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    const port = (server.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    const refused = `/ip4/127.0.0.1/tcp/${port}`
    const end = Date.now() + seconds * 1000
    // Each loop its own address of the subject (without /p2p/: a new connection each time).
    await Promise.all(Array.from({ length: loops }, async (_, i) => {
      const bare = (addrs[i % addrs.length] as string).split('/p2p/')[0] as string
      while (Date.now() < end) {
        await once(bare, refused).catch((err: unknown) => { countError(err) })
      }
    }))
    await Promise.all((node as Lp2pNode).getConnections().map(async (c) => { await c.close().catch(() => {}) }))
    return { ...stats, errorKinds }
  },

  async stop () {
    await node?.stop()
    return null
  }
})
