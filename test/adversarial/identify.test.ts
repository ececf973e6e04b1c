/**
 * Identify and identify push (`specs/identify.md`) from a hostile peer with a correct
 * connection to a real node: answers to the node's identify query that lie about the
 * key, are oversize or malformed, and a storm of pushes.
 *
 * A bad answer fails the node's identify with the typed error and leaves the peer
 * store as it was (a peer cannot make the node store another identity's key, or
 * anything from a message it rejected). Floods are bounded by the per-protocol cap
 * and the per-message limits. After every case the node is back to baseline, serves a
 * well-behaved peer, and raised no unhandled rejection.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, peerIdFromPrivateKey } from '../../src/identity/index.js'
import { encodeMessages, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { Flag } from '../../src/muxer/yamux/frame.js'
import { IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL, type IdentifyResult } from '../../src/protocols/identify.js'
import { encodeIdentify, MAX_IDENTIFY_ADDRS, MAX_IDENTIFY_MESSAGE_BYTES, MAX_IDENTIFY_PROTOCOLS, type IdentifyMessage } from '../../src/protocols/identify-message.js'
import { encodeLengthPrefixed } from '../../src/wire/length-prefixed.js'
import { encodeUvarint } from '../../src/wire/varint.js'
import { createSignedPeerRecord, encodePeerRecord, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE } from '../../src/record/peer-record.js'
import { sealEnvelope } from '../../src/record/envelope.js'
import type { Connection, Stream } from '../../src/interfaces/connection.js'
import { expectCode, heapUsed, MiB, rejection, untilAsync } from '../helpers/hostile.js'
import { Target } from '../helpers/hostile-target.js'
import { connectYamux, type YamuxPeer } from '../helpers/hostile-yamux.js'

const IDENTIFY_TIMEOUT = 1000

/** A well-formed Identify message from `y`'s own identity, with `extra` fields. */
function message (y: YamuxPeer, extra: Partial<IdentifyMessage> = {}): Uint8Array {
  return encodeIdentify({
    protocolVersion: 'ipfs/0.1.0',
    agentVersion: 'adversarial/1',
    publicKey: y.secure.identity.publicKey.bytes,
    listenAddrs: [multiaddr('/ip4/10.0.0.1/tcp/4001')],
    protocols: ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'],
    ...extra
  })
}

describe('adversarial: identify and identify push', () => {
  const t = Target.suite({ timeouts: { identify: IDENTIFY_TIMEOUT } })

  /**
   * A hostile peer whose answer to the node's identify query is `answer(y)` (the bytes
   * after the negotiation), followed by FIN. Resolves with the node's identify outcome.
   */
  async function identifiedBy (answer: (y: YamuxPeer, id: number) => Uint8Array, fin = true): Promise<{ y: YamuxPeer, conn: Connection, outcome: Promise<IdentifyResult> }> {
    const y = await connectYamux(t.port, {
      onRemoteStream: (id, peer) => {
        const frames = [peer.data(id, Buffer.concat([encodeMessages([PROTOCOL_ID, IDENTIFY_PROTOCOL]), answer(peer, id)]), Flag.ACK)]
        if (fin) frames.push(peer.windowUpdate(id, 0, Flag.FIN))
        peer.send(...frames)
      }
    })
    const conn = await t.connectionTo(y.secure.localPeer)
    return { y, conn, outcome: t.node.identify(conn) }
  }

  /** The node's record of the peer holds nothing from a rejected message. */
  async function storeUntouched (y: YamuxPeer): Promise<void> {
    const info = t.node.peerStore.get(y.secure.localPeer)
    assert.ok(info?.publicKey?.equals(y.secure.identity.publicKey), 'the key is the one the handshake authenticated')
    assert.deepEqual(info?.protocols ?? [], [])
    assert.equal(info?.agentVersion, undefined)
  }

  it('an honest answer is applied (the baseline the hostile cases differ from)', async () => {
    const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p)))
    const result = await outcome
    assert.equal(result.agentVersion, 'adversarial/1')
    const info = t.node.peerStore.get(y.secure.localPeer)
    assert.ok(info?.protocols.includes('/ipfs/ping/1.0.0'))
  })

  it("a public key of another peer: ERR_PROTOCOL_VIOLATION, the peer store not poisoned", async () => {
    const other = generateKeyPair('Ed25519')
    const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p, {
      publicKey: other.publicKey.bytes,
      protocols: ['/evil/1.0.0'],
      listenAddrs: [multiaddr('/ip4/6.6.6.6/tcp/666')]
    })))
    expectCode(await rejection(outcome), 'ERR_PROTOCOL_VIOLATION')
    await storeUntouched(y)
    assert.equal(t.node.peerStore.get(peerIdFromPrivateKey(other)), undefined)
  })

  it('a public key that does not parse: ERR_INVALID_KEY, the peer store not poisoned', async () => {
    const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p, { publicKey: randomBytes(40) })))
    const err = await rejection(outcome)
    assert.ok(['ERR_INVALID_KEY', 'ERR_UNSUPPORTED_KEY_TYPE'].some((c) => (err as { code?: string }).code === c), String(err))
    await storeUntouched(y)
  })

  it(`an oversize message (> ${MAX_IDENTIFY_MESSAGE_BYTES} bytes): ERR_MESSAGE_TOO_LARGE, the stream reset`, async () => {
    let streamId = -1
    const { y, outcome } = await identifiedBy((p, id) => {
      streamId = id
      return encodeLengthPrefixed(message(p, { agentVersion: 'x'.repeat(MAX_IDENTIFY_MESSAGE_BYTES) }))
    }, false)
    expectCode(await rejection(outcome), 'ERR_MESSAGE_TOO_LARGE')
    await y.waitReset(streamId)
    await storeUntouched(y)
  })

  it('a length prefix of 1 MiB and nothing after it: ERR_MESSAGE_TOO_LARGE', async () => {
    const { outcome } = await identifiedBy(() => encodeUvarint(MiB))
    expectCode(await rejection(outcome), 'ERR_MESSAGE_TOO_LARGE')
  })

  it('a length varint that never ends: ERR_INVALID_VARINT', async () => {
    const { outcome } = await identifiedBy(() => Buffer.alloc(16, 0xff))
    expectCode(await rejection(outcome), 'ERR_INVALID_VARINT')
  })

  it('five messages on one stream: ERR_MESSAGE_TOO_LARGE', async () => {
    const { outcome } = await identifiedBy((p) => Buffer.concat(Array.from({ length: 5 }, () => encodeLengthPrefixed(message(p)))))
    expectCode(await rejection(outcome), 'ERR_MESSAGE_TOO_LARGE')
  })

  describe('signed peer records', () => {
    const listen = [multiaddr('/ip4/10.0.0.1/tcp/4001')]
    const certified = [multiaddr('/ip4/10.9.9.9/tcp/4001')]

    /** The node's view of the peer's addresses, as `text class [certified]`. */
    function stored (y: YamuxPeer): string[] {
      return (t.node.peerStore.get(y.secure.localPeer)?.addresses ?? []).map((a) => `${a.multiaddr.toString()} ${a.class}${a.certified ? ' certified' : ''}`)
    }

    it('a valid record: its certified addresses are stored instead of the listen addresses', async () => {
      const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p, {
        listenAddrs: listen, signedPeerRecord: createSignedPeerRecord(p.secure.identity, certified, 1n).bytes
      })))
      const result = await outcome
      assert.equal(result.signedPeerRecord?.accepted, true)
      assert.deepEqual(stored(y), ['/ip4/10.9.9.9/tcp/4001 default certified'])
    })

    it('a valid record that certifies no address: kept, and the listen addresses stored (default)', async () => {
      const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p, {
        listenAddrs: listen, signedPeerRecord: createSignedPeerRecord(p.secure.identity, [], 1n).bytes
      })))
      assert.equal((await outcome).signedPeerRecord?.accepted, true)
      assert.deepEqual(stored(y), ['/ip4/10.0.0.1/tcp/4001 default'])
      assert.equal(t.node.peerStore.get(y.secure.localPeer)?.peerRecordSeq, 1n)
    })

    const bad: Array<[string, (y: YamuxPeer) => Uint8Array]> = [
      ["another peer's record", () => createSignedPeerRecord(generateKeyPair('Ed25519'), certified, 1n).bytes],
      ['a record of another peer signed by this one', (y) => sealEnvelope(y.secure.identity, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE,
        encodePeerRecord({ peerId: peerIdFromPrivateKey(generateKeyPair('Ed25519')), seq: 1n, addresses: certified })).bytes],
      ['a signature that does not verify', (y) => {
        const b = createSignedPeerRecord(y.secure.identity, certified, 1n).bytes
        b[b.length - 1] = (b[b.length - 1] as number) ^ 1
        return b
      }],
      ['bytes that are no envelope', () => randomBytes(200)]
    ]
    for (const [what, record] of bad) {
      it(`${what}: ignored; identify succeeds with the listen addresses (default)`, async () => {
        const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p, { listenAddrs: listen, signedPeerRecord: record(p) })))
        const result = await outcome
        assert.equal(result.signedPeerRecord, undefined)
        assert.deepEqual(stored(y), ['/ip4/10.0.0.1/tcp/4001 default'])
        assert.equal(t.node.peerStore.get(y.secure.localPeer)?.peerRecordEnvelope, undefined)
      })
    }

    it('a push with an older record is not accepted: the newer record and its addresses stay', async () => {
      const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p, {
        signedPeerRecord: createSignedPeerRecord(p.secure.identity, certified, 10n).bytes
      })))
      await outcome
      const pushed = new Promise<IdentifyResult>((resolve) => {
        const on = (r: IdentifyResult): void => { if (r.push && r.peerId.equals(y.secure.localPeer)) { t.node.off('peer:identify', on); resolve(r) } }
        t.node.on('peer:identify', on)
      })
      const older = message(y, { listenAddrs: [multiaddr('/ip4/6.6.6.6/tcp/1')], signedPeerRecord: createSignedPeerRecord(y.secure.identity, [multiaddr('/ip4/6.6.6.6/tcp/1')], 9n).bytes })
      y.send(y.data(1, Buffer.concat([encodeMessages([PROTOCOL_ID, IDENTIFY_PUSH_PROTOCOL]), encodeLengthPrefixed(older)]), Flag.SYN | Flag.FIN))
      assert.equal((await pushed).signedPeerRecord?.accepted, false)
      assert.deepEqual(stored(y), ['/ip4/10.9.9.9/tcp/4001 default certified'])
      assert.equal(t.node.peerStore.get(y.secure.localPeer)?.peerRecordSeq, 10n)
    })
  })

  it('malformed protobuf: ERR_INVALID_MESSAGE', async () => {
    const { y, outcome } = await identifiedBy(() => encodeLengthPrefixed(Buffer.from([0x0f, 0x01, 0x02])))
    expectCode(await rejection(outcome), 'ERR_INVALID_MESSAGE')
    await storeUntouched(y)
  })

  it('the stream ends inside a message: ERR_PROTOCOL_VIOLATION', async () => {
    const { outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p)).subarray(0, 20))
    expectCode(await rejection(outcome), 'ERR_PROTOCOL_VIOLATION')
  })

  it('no answer at all: the identify timeout fails it', async () => {
    const { outcome } = await identifiedBy(() => new Uint8Array(0))
    // An empty stream is a violation too; the timeout case is the silent peer below.
    expectCode(await rejection(outcome), 'ERR_PROTOCOL_VIOLATION')
    const silent = await connectYamux(t.port)
    const conn = await t.connectionTo(silent.secure.localPeer)
    expectCode(await rejection(t.node.identify(conn), IDENTIFY_TIMEOUT + 3000), 'ERR_TIMEOUT')
  })

  it(`400 protocols and 300 addresses in 8 KiB: kept to ${MAX_IDENTIFY_PROTOCOLS} and ${MAX_IDENTIFY_ADDRS}`, async () => {
    const protocols = Array.from({ length: 400 }, (_, i) => `/p${i}`)
    const listenAddrs = Array.from({ length: 300 }, (_, i) => multiaddr(`/ip4/10.${i >> 8}.${i & 0xff}.1/tcp/1`))
    const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p, { protocols, listenAddrs })))
    const result = await outcome
    assert.equal(result.protocols.length, MAX_IDENTIFY_PROTOCOLS)
    assert.equal(result.listenAddrs.length, MAX_IDENTIFY_ADDRS)
    const info = t.node.peerStore.get(y.secure.localPeer)
    assert.ok((info?.protocols.length ?? 0) <= MAX_IDENTIFY_PROTOCOLS)
    assert.ok((info?.addresses.length ?? 0) <= MAX_IDENTIFY_ADDRS)
  })

  it('a push with another peer\'s key is rejected; the peer store keeps what it knew', async () => {
    const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p)))
    await outcome
    const other = generateKeyPair('Ed25519')
    const push = (id: number, m: Uint8Array): Uint8Array => y.data(id, Buffer.concat([encodeMessages([PROTOCOL_ID, IDENTIFY_PUSH_PROTOCOL]), encodeLengthPrefixed(m)]), Flag.SYN | Flag.FIN)
    y.send(push(1, message(y, { publicKey: other.publicKey.bytes, protocols: ['/evil/1.0.0'], agentVersion: 'evil/1' })))
    await y.waitFor(() => y.fins.has(1) || y.resets.has(1), 2000, 'the node to finish the first push')
    // An honest push after it: once it is applied, the forged one was handled before.
    y.send(push(3, message(y, { agentVersion: 'after/1' })))
    await untilAsync(async () => (t.node.peerStore.get(y.secure.localPeer))?.agentVersion === 'after/1', 2000, 'the honest push applied')
    const info = t.node.peerStore.get(y.secure.localPeer)
    assert.ok(info?.publicKey?.equals(y.secure.identity.publicKey))
    assert.equal(info?.protocols.includes('/evil/1.0.0'), false)
    assert.equal(t.node.peerStore.get(peerIdFromPrivateKey(other)), undefined)
  })

  it('a storm of 2000 pushes: capped at 4 at once, the peer store bounded, the heap flat', async () => {
    const { y, outcome } = await identifiedBy((p) => encodeLengthPrefixed(message(p)))
    await outcome
    const before = heapUsed()
    let pushes = 0
    const onIdentify = (r: IdentifyResult): void => { if (r.push && r.peerId.equals(y.secure.localPeer)) pushes++ }
    t.node.on('peer:identify', onIdentify)
    let open = 0
    let peak = 0
    const onOpen = (st: Stream): void => {
      if (st.protocol !== IDENTIFY_PUSH_PROTOCOL) return
      peak = Math.max(peak, ++open)
      st.once('close', () => { open-- })
    }
    t.node.on('stream:open', onOpen)
    const N = 2000
    const BURST = 200
    const protocols = Array.from({ length: 200 }, (_, i) => `/storm/${i}`)
    for (let b = 0; b < N / BURST; b++) {
      const frames: Uint8Array[] = []
      for (let i = 0; i < BURST; i++) {
        const id = 1 + 2 * (b * BURST + i)
        frames.push(y.data(id, Buffer.concat([encodeMessages([PROTOCOL_ID, IDENTIFY_PUSH_PROTOCOL]), encodeLengthPrefixed(message(y, { protocols }))]), Flag.SYN | Flag.FIN))
      }
      y.send(...frames)
      await y.waitFor(() => y.resets.size + y.fins.size >= (b + 1) * BURST, 5000, `burst ${b} answered`)
    }
    t.node.off('peer:identify', onIdentify)
    t.node.off('stream:open', onOpen)
    assert.ok(peak >= 1 && peak <= 4, `${peak} pushes handled at once`)
    const during = heapUsed()
    assert.ok(pushes >= 4 && pushes < N, `${pushes} pushes applied`)
    assert.ok(during - before < 24 * MiB, `heap grew by ${((during - before) / MiB).toFixed(1)} MiB`)
    const info = t.node.peerStore.get(y.secure.localPeer)
    assert.ok((info?.protocols.length ?? 0) <= MAX_IDENTIFY_PROTOCOLS)
    await y.ping(1 + 2 * N)
  })
})
