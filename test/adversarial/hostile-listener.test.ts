/**
 * A hostile LISTENER: the real node dials a TCP server that answers multistream-select
 * with garbage, refuses, authenticates as the wrong peer, signs badly, stalls, resets
 * mid-upgrade, or completes the upgrade and then breaks yamux.
 *
 * The dial fails with the typed error (an UpgradeError whose code is the cause's, so
 * a wrong peer stays ERR_UNEXPECTED_PEER), in time, and the node closes the socket;
 * nothing is left behind (no connection, the next dial is a fresh attempt). After
 * every case the node serves a well-behaved peer and raised no unhandled rejection.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, peerIdFromPrivateKey, type PeerId, type PrivateKey } from '../../src/identity/index.js'
import { encodeMessages, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { XXHandshake } from '../../src/security/noise/handshake-xx.js'
import { staticKeySignatureData } from '../../src/security/noise/handshake.js'
import { generateX25519KeyPair } from '../../src/security/noise/x25519.js'
import { FrameType } from '../../src/muxer/yamux/frame.js'
import { UpgradeError } from '../../src/errors.js'
import { encodeUvarint } from '../../src/wire/varint.js'
import { expectCode, MiB, RawPeer, rejection, sleep, until, withTimeout } from '../helpers/hostile.js'
import { AT_ONCE_MS, Target } from '../helpers/hostile-target.js'
import { frame, honestPayload, noiseResponder, parseNoiseFrame, YAMUX } from '../helpers/hostile-noise.js'
import { rawFrame, YamuxPeer } from '../helpers/hostile-yamux.js'

const DIAL_TIMEOUT = 800

type Behaviour = (peer: RawPeer) => Promise<void>

/** A TCP server that treats every connection with the current behaviour. */
class HostileListener {
  readonly server: net.Server
  readonly identity: PrivateKey = generateKeyPair('Ed25519')
  readonly peers: RawPeer[] = []
  behaviour: Behaviour = async () => {}

  constructor () {
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      const peer = new RawPeer(socket)
      this.peers.push(peer)
      // A behaviour that reads what the node never sends ends with the connection.
      this.behaviour(peer).catch(() => {})
    })
  }

  get peerId (): PeerId {
    return peerIdFromPrivateKey(this.identity)
  }

  async listen (): Promise<void> {
    await new Promise<void>((resolve) => { this.server.listen(0, '127.0.0.1', resolve) })
  }

  /** Our address, naming `peer` (default: our real identity). */
  addr (peer: PeerId = this.peerId): Multiaddr {
    const { port } = this.server.address() as net.AddressInfo
    return multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${peer.toString()}`)
  }

  async close (): Promise<void> {
    for (const p of this.peers) p.destroy()
    await new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
  }
}

/** Reads the node's header and /noise proposal (sent lazily with message 1). */
async function readProposal (peer: RawPeer): Promise<void> {
  assert.equal(await peer.readMessage(), PROTOCOL_ID)
  assert.equal(await peer.readMessage(), '/noise')
}

describe('adversarial: the node dials a hostile listener', () => {
  const h = new HostileListener()
  const t: Target = Target.suite({ timeouts: { dial: DIAL_TIMEOUT } }, {
    // The node closed its side of every hostile connection; nothing of them remains.
    settle: async () => {
      await until(() => h.peers.every((p) => p.remoteClosedAt !== undefined), 2000, 'the node to close every hostile socket')
      assert.equal(t.node.getConnections().length, 0)
    }
  })
  before(async () => { await h.listen() })
  after(async () => { await h.close() })

  /** Dials `addr` and returns the error, checking it came at once (or within `ms`). */
  async function dialFails (addr: Multiaddr, ms = AT_ONCE_MS): Promise<Error> {
    const started = performance.now()
    const err = await rejection(t.node.dial(addr), ms + 3000, 'the dial to fail')
    const took = performance.now() - started
    assert.ok(took < ms, `the dial failed after ${took.toFixed(0)} ms`)
    return err as Error
  }

  it('answers multistream with garbage: ERR_NEGOTIATION_FAILED at the security negotiation', async () => {
    h.behaviour = async (peer) => { await readProposal(peer); peer.write(Buffer.from('\x05hello\x05world')) }
    const err = await dialFails(h.addr())
    expectCode(err, 'ERR_NEGOTIATION_FAILED')
    assert.ok(err instanceof UpgradeError && err.step === 'security-negotiation', String(err))
  })

  it('answers /noise with na: ERR_UNSUPPORTED_PROTOCOL', async () => {
    h.behaviour = async (peer) => { await readProposal(peer); peer.write(encodeMessages([PROTOCOL_ID, 'na'])) }
    expectCode(await dialFails(h.addr()), 'ERR_UNSUPPORTED_PROTOCOL')
  })

  it('answers with a 1 MiB length prefix: ERR_MESSAGE_TOO_LARGE', async () => {
    h.behaviour = async (peer) => { await readProposal(peer); peer.write(Buffer.concat([encodeMessages([PROTOCOL_ID]), encodeUvarint(MiB)])) }
    expectCode(await dialFails(h.addr()), 'ERR_MESSAGE_TOO_LARGE')
  })

  it('answers /noise, then a valid handshake as another peer: ERR_UNEXPECTED_PEER', async () => {
    h.behaviour = async (peer) => { await noiseResponder(peer, h.identity) }
    const expected = peerIdFromPrivateKey(generateKeyPair('Ed25519'))
    const err = await dialFails(h.addr(expected))
    expectCode(err, 'ERR_UNEXPECTED_PEER')
    assert.equal((err as { code?: string }).code, 'ERR_UNEXPECTED_PEER')
    assert.equal(t.node.peerStore.get(h.peerId)?.publicKey, undefined, 'nothing stored for the impostor')
  })

  it('message 2 with a signature that does not verify: ERR_HANDSHAKE_FAILED', async () => {
    h.behaviour = async (peer) => {
      await readProposal(peer)
      peer.write(encodeMessages([PROTOCOL_ID, '/noise']))
      const staticKey = generateX25519KeyPair()
      const xx = new XXHandshake({ initiator: false, staticKey })
      xx.readMessage(await peer.inbox.pull(parseNoiseFrame, 'message 1'))
      const sig = Buffer.from(h.identity.sign(staticKeySignatureData(staticKey.publicKey)))
      sig[10] = (sig[10] as number) ^ 0xff
      peer.write(frame(xx.writeMessage(honestPayload({ identity: h.identity, staticKey, identitySig: sig, muxers: [YAMUX] }))))
      await peer.closed
    }
    expectCode(await dialFails(h.addr()), 'ERR_INVALID_SIGNATURE')
  })

  it('accepts, then stalls forever: the dial timeout fires and the socket is closed', async () => {
    h.behaviour = async (peer) => { await peer.closed }
    const err = await dialFails(h.addr(), DIAL_TIMEOUT + 1000)
    expectCode(err, 'ERR_TIMEOUT')
    await (h.peers[h.peers.length - 1] as RawPeer).waitClosed(2000, 'the node to close the stalled socket')
  })

  it('concurrent dials to a stalling listener share one attempt; the next dial is a fresh one', async () => {
    h.behaviour = async (peer) => { await peer.closed }
    const before = h.peers.length
    const errs = await Promise.all([1, 2, 3].map(async () => await rejection(t.node.dial(h.addr()), DIAL_TIMEOUT + 3000)))
    for (const e of errs) expectCode(e, 'ERR_TIMEOUT')
    assert.equal(h.peers.length - before, 1, 'one connection for three dials')
    expectCode(await rejection(t.node.dial(h.addr()), DIAL_TIMEOUT + 3000), 'ERR_TIMEOUT')
    assert.equal(h.peers.length - before, 2, 'a failed attempt is not reused')
  })

  it("the caller's signal aborts a dial to a stalling listener at once", async () => {
    h.behaviour = async (peer) => { await peer.closed }
    const started = performance.now()
    const err = await rejection(t.node.dial(h.addr(), { signal: AbortSignal.timeout(100) }), 3000)
    expectCode(err, 'ERR_ABORTED')
    assert.ok(performance.now() - started < 600)
    // The attempt itself runs on to its own timeout; the socket is closed then.
    await sleep(DIAL_TIMEOUT)
  })

  it('resets the connection mid-handshake: the dial fails at once', async () => {
    h.behaviour = async (peer) => {
      await readProposal(peer)
      peer.write(encodeMessages([PROTOCOL_ID, '/noise']))
      await peer.inbox.pull(parseNoiseFrame, 'message 1')
      peer.socket.resetAndDestroy()
    }
    const err = await dialFails(h.addr())
    expectCode(err, 'ERR_HANDSHAKE_FAILED')
  })

  it('ends the connection right after the proposal: the dial fails at once', async () => {
    h.behaviour = async (peer) => { await readProposal(peer); peer.end() }
    expectCode(await dialFails(h.addr()), 'ERR_NEGOTIATION_FAILED')
  })

  it('completes the upgrade, then sends an unknown yamux frame: the connection closes with ERR_MUXER_PROTOCOL', async () => {
    h.behaviour = async (peer) => {
      const secure = await noiseResponder(peer, h.identity)
      const y = new YamuxPeer(secure, { onRemoteStream: 'reset' })
      y.send(rawFrame(7, 0, 0, 0))
      await peer.waitClosed(3000)
      peer.end()
    }
    const closed = new Promise<Error | undefined>((resolve) => { t.node.once('connection:close', (_c, e) => { resolve(e) }) })
    const conn = await t.node.dial(h.addr())
    assert.equal(conn.remotePeer.toString(), h.peerId.toString())
    expectCode(await withTimeout(closed, 3000, 'the connection to close'), 'ERR_MUXER_PROTOCOL')
    await until(() => conn.status === 'closed', 2000, 'the connection closed')
    // A stream on a closed connection is refused with a typed error, not a crash.
    expectCode(await rejection(conn.newStream('/ipfs/ping/1.0.0')), 'ERR_CONNECTION_CLOSED')
    assert.equal(FrameType.GoAway, 3)
  })

  it('completes the upgrade, then ends at once: the connection closes cleanly', async () => {
    h.behaviour = async (peer) => {
      await noiseResponder(peer, h.identity)
      peer.end()
      await peer.waitClosed(3000)
    }
    const conn = await t.node.dial(h.addr())
    await until(() => conn.status === 'closed', 3000, 'the connection closed')
  })
})
