/**
 * lp2p's own peer for the interop matrix. It follows the same contract as every
 * reference peer (see `interop/README.md`): configuration from `INTEROP_*` environment
 * variables, a listener prints `{"multiaddr": ...}` and serves ping, identify and
 * `/echo/1.0.0` until killed, a dialer dials, pings, echoes 1 MiB over a new stream,
 * reads the remote's identify result and prints one JSON line, exiting 0 only when all
 * of that succeeded within the timeout.
 *
 * `--capabilities` prints what this build of lp2p supports, found by looking at what
 * `src/index.ts` exports, so a transport, security protocol, muxer or key type that
 * lp2p gains joins the matrix without touching the driver.
 *
 * `LP2P_INTEROP_BREAK` builds a deliberately broken lp2p, to prove the matrix can
 * fail (see `breakSecurity` below). It is read here only, never by lp2p itself.
 *
 * Run from the repository root: `node --import tsx interop/peers/lp2p/peer.ts`.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Duplex } from 'node:stream'
import * as lp2p from '../../../src/index.js'
import { recordSecurity, recordTransport } from './record.js'

const ECHO = '/echo/1.0.0'
/** 1 MiB: the payload the issue asks the dialer to echo. */
const ECHO_BYTES = 1 << 20
/** Write granularity of the echo payload; one yamux window is 256 KiB. */
const CHUNK = 64 * 1024

type Kind = 'transport' | 'security' | 'muxer'

/**
 * The export names under which lp2p provides (or will provide) each matrix value.
 * A value is supported when one of its names is an exported function.
 */
const FACTORIES: Record<Kind, Record<string, string[]>> = {
  transport: { tcp: ['tcp'], ws: ['webSockets', 'websockets', 'websocket', 'ws'], 'quic-v1': ['quic'] },
  security: { noise: ['noise'], tls: ['tls'], secio: ['secio'], plaintext: ['plaintext'] },
  muxer: { yamux: ['yamux'], mplex: ['mplex'] }
}

/** The listen address of each transport. */
const LISTEN: Record<string, string> = {
  tcp: '/ip4/127.0.0.1/tcp/0',
  ws: '/ip4/127.0.0.1/tcp/0/ws',
  'quic-v1': '/ip4/127.0.0.1/udp/0/quic-v1'
}

/** Matrix key-type names to lp2p's `KeyType` spelling. */
const KEY_TYPES: Record<string, string> = {
  ed25519: 'Ed25519', secp256k1: 'secp256k1', ecdsa: 'ECDSA', rsa: 'RSA'
}

type Factory = (options?: Record<string, unknown>) => unknown

function factory (kind: Kind, value: string): Factory | undefined {
  const exports = lp2p as unknown as Record<string, unknown>
  for (const name of FACTORIES[kind][value] ?? []) {
    const candidate = exports[name]
    if (typeof candidate === 'function') return candidate as Factory
  }
  return undefined
}

function makeKey (name: string): lp2p.PrivateKey {
  const type = KEY_TYPES[name]
  if (type === undefined) throw new Error(`unknown key type ${name}`)
  // RSA at 2048 bits: the common size, and the one the reference peers use.
  return lp2p.generateKeyPair(type as lp2p.KeyType, type === 'RSA' ? 2048 : undefined)
}

/** QUIC counts as supported when its native engine loads here (it is optional). */
function quicRuns (): boolean {
  try {
    (lp2p as unknown as { loadQuicEngine?: () => unknown }).loadQuicEngine?.()
    return true
  } catch {
    return false
  }
}

function capabilities (): Record<string, unknown> {
  const supported = (kind: Kind): string[] =>
    Object.keys(FACTORIES[kind]).filter((value) => factory(kind, value) !== undefined && (value !== 'quic-v1' || quicRuns()))
  const keyTypes = Object.keys(KEY_TYPES).filter((name) => {
    try { makeKey(name); return true } catch { return false }
  })
  return {
    transports: supported('transport'),
    security: supported('security'),
    muxers: supported('muxer'),
    keyTypes,
    // Private networks: a node takes `psk`, and the key file codec is exported.
    pnet: typeof (lp2p as unknown as Record<string, unknown>).decodePskFile === 'function',
    // Cases lp2p cannot run although it has each part, in unsupported.json's shape.
    unsupported: [{
      transport: 'quic-v1',
      keyType: 'ecdsa',
      reason: 'the QUIC engine (@chainsafe/libp2p-quic 2.1.4) is built without ECDSA keys: it can neither use an ECDSA host key nor verify an ECDSA peer\'s certificate'
    }],
    // peer-record: identify sends our signed peer record and the store keeps the remote's.
    checks: typeof lp2p.openSignedPeerRecord === 'function' ? ['peer-record'] : []
  }
}

/**
 * A deliberately broken security protocol, for the harness's own test. Mode
 * `noise-prologue` passes a wrong prologue to `noise()` (effective once lp2p's Noise
 * takes a `prologue` option; until then the driver sees the broken build pass and
 * says the proof did not run). Mode `noise-bitflip` flips one bit of the first
 * handshake message we send, which breaks the handshake hash exactly as a wrong
 * prologue does: the remote fails to authenticate our next message, or we fail on
 * its reply.
 */
function breakSecurity (mode: string, protocol: lp2p.SecurityProtocol): lp2p.SecurityProtocol {
  if (mode !== 'noise-bitflip') return protocol
  const corrupt = (channel: lp2p.ByteChannel): lp2p.ByteChannel => {
    let flipped = false
    const flip = (chunk: Uint8Array): Uint8Array => {
      if (flipped || chunk.length === 0) return chunk
      flipped = true
      const copy = Uint8Array.from(chunk)
      copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x01
      return copy
    }
    return new Proxy(channel, {
      get (target, prop) {
        if (prop === 'write') return (chunk: Uint8Array) => target.write(flip(chunk))
        if (prop === 'writev') return (chunks: readonly Uint8Array[]) => target.writev(chunks.map(flip))
        const value = Reflect.get(target, prop, target) as unknown
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
  }
  return {
    protocol: protocol.protocol,
    secureOutbound: async (channel, options) => await protocol.secureOutbound(corrupt(channel), options),
    secureInbound: async (channel, options) => await protocol.secureInbound(corrupt(channel), options)
  }
}

function env (name: string, fallback: string): string {
  return process.env[name] ?? fallback
}

function fail (message: string): never {
  process.stderr.write(`error: ${message}\n`)
  process.exit(1)
}

function require (kind: Kind, value: string, options?: Record<string, unknown>): unknown {
  const make = factory(kind, value)
  if (make === undefined) fail(`lp2p does not support ${kind} ${value}`)
  return options === undefined ? make() : make(options)
}

async function echo (stream: Duplex): Promise<void> {
  const payload = randomBytes(ECHO_BYTES)
  const want = createHash('sha256').update(payload).digest('hex')
  const read = (async () => {
    const hash = createHash('sha256')
    let length = 0
    for await (const chunk of stream) {
      const bytes = chunk as Uint8Array
      length += bytes.length
      hash.update(bytes)
    }
    return { length, digest: hash.digest('hex') }
  })()
  for (let i = 0; i < ECHO_BYTES; i += CHUNK) {
    if (!stream.write(payload.subarray(i, i + CHUNK))) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => { stream.off('drain', onDrain); reject(err) }
        const onDrain = (): void => { stream.off('error', onError); resolve() }
        stream.once('drain', onDrain)
        stream.once('error', onError)
      })
    }
  }
  stream.end() // half-close: the listener sees EOF and closes its side
  const back = await read
  if (back.length !== ECHO_BYTES || back.digest !== want) {
    throw new Error(`echo mismatch: got ${back.length} bytes`)
  }
}

async function main (): Promise<void> {
  if (process.argv.includes('--capabilities')) {
    process.stdout.write(JSON.stringify(capabilities()) + '\n')
    return
  }
  const role = env('INTEROP_ROLE', 'listener')
  const transport = env('INTEROP_TRANSPORT', 'tcp')
  const security = env('INTEROP_SECURITY', 'noise')
  const muxer = env('INTEROP_MUXER', 'yamux')
  const timeoutMs = Number(env('INTEROP_TIMEOUT_SECS', '30')) * 1000
  const broken = env('LP2P_INTEROP_BREAK', '')
  if (role !== 'listener' && role !== 'dialer') fail(`INTEROP_ROLE must be listener or dialer, got ${role}`)
  const securityOptions = broken === 'noise-prologue' && security === 'noise'
    ? { prologue: new TextEncoder().encode('lp2p-interop-broken-prologue') }
    : undefined
  let secured = require('security', security, securityOptions) as lp2p.SecurityProtocol
  let transported = require('transport', transport) as lp2p.Transport
  // Recording for the fuzz corpus (record.ts); never set in a normal matrix run.
  const recordDir = env('LP2P_RECORD_DIR', '')
  if (recordDir !== '') {
    transported = recordTransport(transported, recordDir, role)
    secured = recordSecurity(secured, recordDir, role)
  }
  const psk = env('INTEROP_PSK', '')
  const node = lp2p.createNode({
    ...(psk !== '' ? { psk: Buffer.from(psk, 'hex') } : {}),
    privateKey: makeKey(env('INTEROP_KEY_TYPE', 'ed25519')),
    listen: role === 'listener' ? [LISTEN[transport] ?? '/ip4/127.0.0.1/tcp/0'] : [],
    transports: [transported],
    connectionEncrypters: [broken !== '' && security === 'noise' ? breakSecurity(broken, secured) : secured],
    streamMuxers: [require('muxer', muxer) as lp2p.StreamMuxerFactory],
    // One address per case: the whole case's time for it, as for a dial of one
    // address (a peer that stays silent on a wrong PSK is detected when it closes).
    dialer: { attemptTimeout: timeoutMs, dialTimeout: timeoutMs }
  })
  if (role === 'listener') {
    node.handle(ECHO, (stream) => { lp2p.handleEcho(stream) })
    await node.start()
    const addr = node.getMultiaddrs()[0]
    if (addr === undefined) fail('no listen address')
    const text = addr.toString()
    const full = text.includes('/p2p/') ? text : `${text}/p2p/${node.peerId.toString()}`
    process.stdout.write(JSON.stringify({ multiaddr: full }) + '\n')
    return // the listen socket keeps the process alive until the driver kills it
  }
  const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs)
  await node.start()
  const target = env('INTEROP_REMOTE_ADDR', '')
  const identified = new Promise<lp2p.IdentifyResult>((resolve) => {
    node.on('peer:identify', (result) => { if (!result.push) resolve(result) })
  })
  const start = performance.now()
  const connection = await node.dial(target)
  const rtt = await node.ping(target)
  const handshakePlusOneRTT = performance.now() - start
  await echo(await node.dialProtocol(target, ECHO))
  // The automatic identify on connection open fills this; ask explicitly if it has
  // not arrived by now. Both go through lp2p's own identify service.
  const info = await Promise.race([
    identified,
    new Promise<void>((resolve) => setTimeout(resolve, 2000)).then(async () => await node.identify(connection))
  ])
  // The peer-record check: what lp2p's peer store kept of the remote's signed record.
  const stored = node.peerStore.get(connection.remotePeer)
  const remotePeerRecord = {
    certified: stored?.peerRecordEnvelope !== undefined,
    addresses: (stored?.addresses ?? []).filter((a) => a.certified).map((a) => a.multiaddr.toString())
  }
  process.stdout.write(JSON.stringify({
    handshakePlusOneRTTMillis: handshakePlusOneRTT,
    pingRTTMilllis: rtt,
    echoOk: true,
    remoteAgent: info.agentVersion,
    remoteProtocols: info.protocols,
    ...(env('INTEROP_CHECK', '') === 'peer-record' ? { remotePeerRecord } : {})
  }) + '\n')
  clearTimeout(timer)
  process.exit(0)
}

// The stable code first (the driver checks it, e.g. ERR_PNET_MISMATCH), then the stack.
main().catch((err: unknown) => {
  const code = (err as { code?: unknown })?.code
  fail(`${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
})
