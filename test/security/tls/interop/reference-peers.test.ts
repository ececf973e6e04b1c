/**
 * TLS interop with the reference peers of `interop/` (go-libp2p, rust-libp2p,
 * py-libp2p, js-libp2p 3 and 2), at the security layer only: a TCP connection,
 * multistream-select of `/tls/1.0.0`, our TLS handshake, then one message each way on
 * the secure channel to prove the remote accepted our certificate (a peer that rejects
 * it closes the connection instead of answering).
 *
 * A separate suite (`node scripts/run-tests.mjs test/security/tls/interop`): it starts
 * other processes and builds the peers on first use (cached under
 * ~/.cache/lp2p-interop); a missing toolchain fails it, as in the interop driver.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { spawn, type ChildProcess } from 'node:child_process'
import { multiaddr } from '@multiformats/multiaddr'
import { REFERENCE_PEERS, type PeerCommand } from '../../../../interop/driver/peers.js'
import { tls, TLS_PROTOCOL } from '../../../../src/security/tls/index.js'
import { generateKeyPair, peerIdFromPrivateKey, peerIdFromString } from '../../../../src/identity/index.js'
import { handleOnChannel, selectOnChannel } from '../../../../src/negotiation/channel-negotiation.js'
import { SocketChannel } from '../../../../src/transport/socket-channel.js'
import type { KeyType, PrivateKey } from '../../../../src/interfaces/keys.js'
import type { SecureResult } from '../../../../src/interfaces/security.js'

const YAMUX = '/yamux/1.0.0'
/**
 * yamux WindowUpdate with SYN opening a stream (yamux.md): version 0, type 1, flags 1,
 * delta 0; the dialer's stream ids are odd, the listener's even.
 */
function yamuxSyn (id: number): Uint8Array {
  return Uint8Array.from([0, 1, 0, 1, 0, 0, 0, id, 0, 0, 0, 0])
}
/** The multistream-select header message (varint length 19, then the id and `\n`). */
const MULTISTREAM_HEADER = Uint8Array.from(Buffer.from('\x13/multistream/1.0.0\n', 'latin1'))
const KEY_NAMES: Record<KeyType, string> = { Ed25519: 'ed25519', secp256k1: 'secp256k1', ECDSA: 'ecdsa', RSA: 'rsa' }
/** Host key types each reference peer cannot use (interop/unsupported.json). */
const NO_HOST_KEY: Record<string, KeyType[]> = { rust: ['RSA'], 'js-v3': ['ECDSA'], 'js-v2': ['ECDSA'] }
/** Remote key types each reference peer rejects. */
const REJECTS_REMOTE: Record<string, KeyType[]> = { 'js-v3': ['ECDSA'], 'js-v2': ['ECDSA'] }
const STEP_MS = 20_000

const security = tls()
const commands = new Map<string, PeerCommand>()
const children = new Set<ChildProcess>()

function startPeer (name: string, env: Record<string, string>): { child: ChildProcess, stdout: () => string, stderr: () => string } {
  const cmd = commands.get(name)
  if (cmd === undefined) throw new Error(`peer ${name} not prepared`)
  const child = spawn(cmd.command, cmd.args, {
    cwd: cmd.cwd,
    env: { ...process.env, ...cmd.env, INTEROP_TRANSPORT: 'tcp', INTEROP_SECURITY: 'tls', INTEROP_MUXER: 'yamux', INTEROP_TIMEOUT_SECS: '15', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  children.add(child)
  child.on('close', () => children.delete(child))
  let out = ''
  let err = ''
  child.stdout?.on('data', (c: Buffer) => { out = (out + c.toString()).slice(-65536) })
  child.stderr?.on('data', (c: Buffer) => { err = (err + c.toString()).slice(-65536) })
  return { child, stdout: () => out, stderr: () => err }
}

function stopPeer (child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try { process.kill(-child.pid, 'SIGKILL') } catch { /* gone */ }
  }
  children.delete(child)
}

async function within<T> (ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms) })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Proves the remote accepted our certificate by getting it to answer on the secure
 * channel: with a muxer agreed through ALPN, a yamux SYN must bring back a yamux frame
 * (first byte: version 0); without one, the muxer is negotiated with multistream-select,
 * whose header both sides send (first byte: its length, 19). A peer that rejected our
 * certificate closes the connection instead.
 */
async function remoteAnswers (result: SecureResult, outbound: boolean): Promise<void> {
  const expected = result.muxer === YAMUX ? 0 : 19
  const first = await new Promise<number>((resolve, reject) => {
    result.channel.attach({
      onData (chunk) { resolve(chunk[0] as number) },
      onEnd () { reject(new Error('the remote half-closed instead of answering')) },
      onClose (err) { reject(new Error(`the remote closed instead of answering: ${err?.message ?? 'no error'}`)) },
      onDrain () {}
    })
    result.channel.write(result.muxer === YAMUX ? yamuxSyn(outbound ? 1 : 2) : MULTISTREAM_HEADER)
  })
  assert.equal(first, expected, result.muxer === YAMUX ? 'a yamux frame came back' : 'a multistream-select header came back')
}

async function dialListener (peer: string, theirKey: KeyType, ourKey: PrivateKey): Promise<void> {
  const listener = startPeer(peer, { INTEROP_ROLE: 'listener', INTEROP_KEY_TYPE: KEY_NAMES[theirKey] })
  try {
    const line = await within(STEP_MS, `${peer} listener address`, (async () => {
      for (;;) {
        const m = /\{"multiaddr":\s*"([^"]+)"\}/.exec(listener.stdout())
        if (m !== null) return m[1] as string
        if (listener.child.exitCode !== null) throw new Error(`${peer} listener exited: ${listener.stderr()}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })())
    const parts = line.split('/')
    const remotePeer = peerIdFromString(parts[parts.length - 1] as string)
    const socket = net.connect({ host: parts[2] as string, port: Number(parts[4]) })
    await once(socket, 'connect')
    const raw = new SocketChannel(socket, multiaddr(line))
    try {
      assert.equal(await selectOnChannel(raw, [TLS_PROTOCOL]), TLS_PROTOCOL)
      const result = await within(STEP_MS, 'handshake', security.secureOutbound(raw, { localKey: ourKey, remotePeer, muxers: [YAMUX] }))
      assert.ok(result.remotePeer.equals(remotePeer))
      assert.equal(result.remotePublicKey.type, theirKey)
      await within(STEP_MS, 'answer', remoteAnswers(result, true))
      result.channel.destroy()
      // Record whether the peer negotiates the muxer inside TLS (informative).
      console.log(`# ${peer} listener (${theirKey}) <- lp2p (${ourKey.type}): ALPN muxer ${result.muxer ?? '(none: "libp2p")'}`)
    } finally {
      raw.destroy()
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- ${peer} stderr ---\n${listener.stderr().slice(-3000)}`)
  } finally {
    stopPeer(listener.child)
  }
}

async function acceptDialer (peer: string, theirKey: KeyType, ourKey: PrivateKey): Promise<void> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  const accepted = once(server, 'connection')
  const ourId = peerIdFromPrivateKey(ourKey)
  const dialer = startPeer(peer, { INTEROP_ROLE: 'dialer', INTEROP_KEY_TYPE: KEY_NAMES[theirKey], INTEROP_REMOTE_ADDR: `/ip4/127.0.0.1/tcp/${port}/p2p/${ourId.toString()}` })
  try {
    const [socket] = await within(STEP_MS, `${peer} dialer connection`, accepted) as [net.Socket]
    const raw = new SocketChannel(socket, multiaddr('/ip4/127.0.0.1/tcp/1'))
    try {
      assert.equal(await within(STEP_MS, 'negotiation', handleOnChannel(raw, { isSupported: (p) => p === TLS_PROTOCOL })), TLS_PROTOCOL)
      const result = await within(STEP_MS, 'handshake', security.secureInbound(raw, { localKey: ourKey, muxers: [YAMUX] }))
      assert.equal(result.remotePublicKey.type, theirKey)
      await within(STEP_MS, 'answer', remoteAnswers(result, false))
      result.channel.destroy()
      console.log(`# ${peer} dialer (${theirKey}) -> lp2p (${ourKey.type}): ALPN muxer ${result.muxer ?? '(none: "libp2p")'}`)
    } finally {
      raw.destroy()
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- ${peer} stderr ---\n${dialer.stderr().slice(-3000)}`)
  } finally {
    stopPeer(dialer.child)
    server.close()
  }
}

describe('TLS interop with the reference peers', () => {
  before(() => {
    for (const p of REFERENCE_PEERS) commands.set(p.name, p.prepare(() => {}))
  })
  after(() => {
    for (const child of [...children]) stopPeer(child)
  })

  const ours: Partial<Record<KeyType, PrivateKey>> = {}
  const ourKey = (type: KeyType): PrivateKey => (ours[type] ??= generateKeyPair(type))

  for (const peer of ['go', 'rust', 'python', 'js-v3', 'js-v2']) {
    it(`${peer}: we dial its TLS listener and it accepts our certificate (Ed25519 both)`, async () => {
      await dialListener(peer, 'Ed25519', ourKey('Ed25519'))
    })
    it(`${peer}: its dialer completes TLS with our listener (Ed25519 both)`, async () => {
      await acceptDialer(peer, 'Ed25519', ourKey('Ed25519'))
    })
  }

  for (const type of ['secp256k1', 'ECDSA', 'RSA'] as const) {
    for (const peer of ['go', 'rust', 'js-v3']) {
      if (!(NO_HOST_KEY[peer] ?? []).includes(type)) {
        it(`${peer}: verifies its ${type} host key`, async () => { await dialListener(peer, type, ourKey('Ed25519')) })
      }
      if (!(REJECTS_REMOTE[peer] ?? []).includes(type)) {
        it(`${peer}: accepts our ${type} host key`, async () => { await dialListener(peer, 'Ed25519', ourKey(type)) })
      }
    }
  }
})
