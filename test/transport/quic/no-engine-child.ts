/**
 * Run by no-engine.test.ts in a process where the QUIC engine is hidden: a node with
 * the default transports starts, serves and dials over TCP, and fails each QUIC use
 * with the error that names what is missing. Prints one JSON line.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../../../src/node.js'
import { ECHO_PROTOCOL, handleEcho } from '../../../src/protocols/echo.js'

const errorOf = async (p: Promise<unknown>): Promise<{ code?: string, message: string } | undefined> => {
  try {
    await p
    return undefined
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message }
  }
}

const a = createNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
a.handle(ECHO_PROTOCOL, (s) => { handleEcho(s) })
await a.start()
const b = createNode()
await b.start()
const listenQuic = await errorOf(a.listen('/ip4/127.0.0.1/udp/0/quic-v1'))
const dialQuic = await errorOf(b.dial(`/ip4/127.0.0.1/udp/4001/quic-v1/p2p/${a.peerId.toString()}`))
// A peer known by a QUIC and a TCP address: QUIC ranks first, fails as unavailable,
// and the dial goes on over TCP.
const tcpAddr = a.getMultiaddrs()[0]?.decapsulateCode(421)
b.peerStore.addAddresses(a.peerId, [multiaddr('/ip4/127.0.0.1/udp/4001/quic-v1'), tcpAddr as Multiaddr])
const viaPeerId = (await b.dial(a.peerId)).remoteAddr.toString()
const s = await b.dialProtocol(a.getMultiaddrs()[0] as never, ECHO_PROTOCOL)
s.end('tcp still works')
let echoed = ''
for await (const c of s) echoed += String(c)
await b.stop()
await a.stop()
process.stdout.write(`${JSON.stringify({ listenQuic, dialQuic, echoed, viaPeerId })}\n`)
