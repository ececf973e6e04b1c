// js-libp2p 2.x (last 2.x line) reference peer for the lp2p interop matrix.
//
// The contract every peer follows is described in interop/README.md: the
// configuration comes from INTEROP_* environment variables, a listener prints
// {"multiaddr": ...} and serves ping, identify and /echo/1.0.0 until killed, a
// dialer dials, pings, echoes 1 MiB over a new stream, reads the remote's identify
// result from its own identify service and prints one JSON line, exiting 0 only
// when all of that succeeded within the timeout.
import { createHash, randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const ECHO = '/echo/1.0.0'
const ECHO_BYTES = 1 << 20 // 1 MiB, the payload the issue asks the dialer to echo
const CHUNK = 64 * 1024 // write granularity of the echo payload

const env = (name, fallback) => process.env[name] ?? fallback
const role = env('INTEROP_ROLE', 'listener')
const transport = env('INTEROP_TRANSPORT', 'tcp')
const security = env('INTEROP_SECURITY', 'noise')
const muxer = env('INTEROP_MUXER', 'yamux')
const keyType = env('INTEROP_KEY_TYPE', 'ed25519')
const timeoutMs = Number(env('INTEROP_TIMEOUT_SECS', '30')) * 1000

function fail (message) {
  process.stderr.write(`error: ${message}\n`)
  process.exit(1)
}

function pick (name, value, table) {
  const make = table[value]
  if (make === undefined) fail(`unsupported ${name} ${value}`)
  return make()
}

async function makeNode () {
  const privateKey = await pick('key type', keyType, {
    ed25519: () => generateKeyPair('Ed25519'),
    secp256k1: () => generateKeyPair('secp256k1'),
    ecdsa: () => generateKeyPair('ECDSA', 'P-256'),
    rsa: () => generateKeyPair('RSA', 2048)
  })
  const listen = transport === 'ws' ? '/ip4/127.0.0.1/tcp/0/ws' : '/ip4/127.0.0.1/tcp/0'
  return createLibp2p({
    privateKey,
    addresses: { listen: role === 'listener' ? [listen] : [] },
    transports: [pick('transport', transport, { tcp: () => tcp(), ws: () => webSockets() })],
    connectionEncrypters: [pick('security', security, { noise: () => noise(), tls: () => tls() })],
    streamMuxers: [pick('muxer', muxer, { yamux: () => yamux(), mplex: () => mplex() })],
    // Loopback addresses are private: allow dialing them.
    connectionGater: { denyDialMultiaddr: async () => false },
    services: { identify: identify(), ping: ping() }
  })
}

// In js-libp2p 2.x a stream is a { source, sink } duplex: the sink consumes the
// source until EOF, then closes our write side.
async function serveEcho (stream) {
  try {
    await stream.sink(stream.source)
  } catch (err) {
    stream.abort(err)
  }
}

async function echo (node, target) {
  const stream = await node.dialProtocol(target, ECHO)
  const payload = randomBytes(ECHO_BYTES)
  // The sink closes our write side (a half-close) once the generator ends.
  const write = () => stream.sink((function * () {
    for (let i = 0; i < ECHO_BYTES; i += CHUNK) yield payload.subarray(i, i + CHUNK)
  })())
  const read = async () => {
    const hash = createHash('sha256')
    let length = 0
    for await (const chunk of stream.source) {
      const bytes = chunk.subarray()
      length += bytes.length
      hash.update(bytes)
    }
    return { length, digest: hash.digest('hex') }
  }
  const [, back] = await Promise.all([write(), read()])
  const want = createHash('sha256').update(payload).digest('hex')
  if (back.length !== ECHO_BYTES || back.digest !== want) {
    throw new Error(`echo mismatch: got ${back.length} bytes`)
  }
}

async function dial (node) {
  const target = multiaddr(env('INTEROP_REMOTE_ADDR', ''))
  const identified = new Promise((resolve) => {
    node.addEventListener('peer:identify', (evt) => resolve(evt.detail))
  })
  const start = performance.now()
  const connection = await node.dial(target)
  const rtt = await node.services.ping.ping(target)
  const handshakePlusOneRTT = performance.now() - start
  await echo(node, target)
  // The automatic identify on connection open fills this; ask explicitly if it has
  // not arrived by now (both go through js-libp2p's own identify service).
  const info = await Promise.race([
    identified,
    new Promise((resolve) => setTimeout(resolve, 2000)).then(() => node.services.identify.identify(connection))
  ])
  const result = {
    handshakePlusOneRTTMillis: handshakePlusOneRTT,
    pingRTTMilllis: rtt,
    echoOk: true,
    remoteAgent: info.agentVersion,
    remoteProtocols: info.protocols
  }
  if (env('INTEROP_CHECK', '') === 'peer-record') {
    // What js-libp2p's identify stored: the envelope, and the addresses as certified.
    const peer = await node.peerStore.get(connection.remotePeer)
    result.remotePeerRecord = {
      certified: peer.peerRecordEnvelope != null,
      addresses: peer.addresses.filter((a) => a.isCertified).map((a) => a.multiaddr.toString())
    }
  }
  return result
}

const node = await makeNode()
await node.start()
if (role === 'listener') {
  await node.handle(ECHO, ({ stream }) => { void serveEcho(stream) })
  const addr = node.getMultiaddrs()[0]
  if (addr === undefined) fail('no listen address')
  process.stdout.write(JSON.stringify({ multiaddr: addr.toString() }) + '\n')
} else if (role === 'dialer') {
  const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs)
  try {
    const result = await dial(node)
    process.stdout.write(JSON.stringify(result) + '\n')
  } catch (err) {
    fail(err?.stack ?? String(err))
  }
  clearTimeout(timer)
  process.exit(0)
} else {
  fail(`INTEROP_ROLE must be listener or dialer, got ${role}`)
}
