/**
 * SECIO (opt-in) and private networks against hostile peers on a whole node: oversize
 * frames, a reflected proposal, a bad MAC after an honest handshake, a stalled
 * handshake; strangers to a private network (another key, no key, garbage). Each ends
 * in a typed error and a closed connection; the node then serves a good peer.
 */
import { describe, it } from 'node:test'
import { randomBytes } from 'node:crypto'
import { noise } from '../../src/security/noise/index.js'
import { secio } from '../../src/security/secio/index.js'
import { encodeMessages, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { PnetCodec } from '../../src/pnet/index.js'
import type { RawPeer } from '../helpers/hostile.js'
import { closedAtOnce, closedAtTimeout, Target } from '../helpers/hostile-target.js'
import { negotiate } from '../helpers/hostile-noise.js'
import { SecioPeer, secioFrame } from '../helpers/secio-peer.js'

const SECIO = '/secio/1.0.0'
const TIMEOUT = 1000

async function readFrame (peer: RawPeer): Promise<Buffer> {
  const prefix = await peer.inbox.read(4, 'a SECIO length prefix')
  return await peer.inbox.read(prefix.readUInt32BE(0), 'a SECIO frame')
}

describe('adversarial: SECIO on the inbound side (opt-in)', () => {
  const t = Target.suite({ connectionEncrypters: [noise(), secio()], timeouts: { inboundUpgrade: TIMEOUT } })

  it('a handshake frame announcing 8 MiB: ERR_MESSAGE_TOO_LARGE at once', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer, SECIO)
    peer.write(Buffer.from([0x00, 0x7f, 0xff, 0xff]))
    await closedAtOnce(peer, record, 'ERR_MESSAGE_TOO_LARGE')
  })

  it('its own proposal sent back: ERR_HANDSHAKE_FAILED at once', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer, SECIO)
    peer.write(secioFrame(await readFrame(peer)))
    await closedAtOnce(peer, record, 'ERR_HANDSHAKE_FAILED')
  })

  it('an honest handshake, then a packet with a bad MAC: ERR_DECRYPTION_FAILED at once', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer, SECIO)
    const me = new SecioPeer()
    peer.write(secioFrame(me.propose))
    peer.write(secioFrame(me.exchangeFor(await readFrame(peer))))
    me.keysFrom(await readFrame(peer))
    peer.write(me.seal(me.remoteNonce as Uint8Array))
    await readFrame(peer) // the node's nonce packet
    const bad = me.seal(Buffer.from('/multistream/1.0.0\n'))
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1
    peer.write(bad)
    await closedAtOnce(peer, record, 'ERR_DECRYPTION_FAILED')
  })

  it('a proposal, then silence: the inbound timeout closes it', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer, SECIO)
    peer.write(secioFrame(new SecioPeer().propose))
    await closedAtTimeout(peer, record, TIMEOUT)
  })
})

describe('adversarial: strangers to a private network', () => {
  const psk = randomBytes(32)
  const t = Target.suite({ psk, timeouts: { inboundUpgrade: TIMEOUT } })

  it('a peer with another PSK: ERR_PNET_MISMATCH at its first bytes', async () => {
    const { peer, record } = await t.connect()
    const stranger = new PnetCodec({ psk: randomBytes(32) })
    const hello = encodeMessages([PROTOCOL_ID, '/noise'])
    peer.write(Buffer.concat([stranger.nonce, ...stranger.encode([hello], hello.length)]))
    await closedAtOnce(peer, record, 'ERR_PNET_MISMATCH')
  })

  it('a peer without a PSK (plain multistream-select): ERR_PNET_MISMATCH at once', async () => {
    const { peer, record } = await t.connect()
    peer.write(encodeMessages([PROTOCOL_ID, '/noise']))
    peer.write(randomBytes(40))
    await closedAtOnce(peer, record, 'ERR_PNET_MISMATCH')
  })

  it('a nonce and then nothing: the inbound timeout closes it', async () => {
    const { peer, record } = await t.connect()
    peer.write(randomBytes(24))
    await closedAtTimeout(peer, record, TIMEOUT)
  })
})
