/**
 * Hostile SECIO peers against secio(): oversize frames, bad MACs, replayed and wrong
 * nonces, replayed Exchanges, reflected and malformed proposals, invalid points. Each
 * must end in a typed error and a closed connection.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { isLp2pError, type ErrorCode, type Lp2pError } from '../../../src/errors.js'
import { generateKeyPair, peerIdFromPrivateKey } from '../../../src/identity/index.js'
import type { SecureResult } from '../../../src/interfaces/security.js'
import { encodeExchange, encodePropose, secio } from '../../../src/security/secio/index.js'
import { MemoryChannel } from '../../../src/transport/memory-channel.js'
import { collect } from '../../helpers/channel.js'
import { FrameReader, SecioPeer, secioFrame } from '../../helpers/secio-peer.js'

/** secio() (as responder) on one end of a pair; the test plays the other end by hand. */
function setup (): { result: Promise<SecureResult>, ours: MemoryChannel, theirs: MemoryChannel, frames: FrameReader, next: () => Promise<Uint8Array> } {
  const [ours, theirs] = MemoryChannel.pair()
  const result = secio().secureInbound(ours, { localKey: generateKeyPair('Ed25519') })
  result.catch(() => {})
  const frames = new FrameReader()
  let taken = 0
  const waiters: Array<() => void> = []
  theirs.attach({
    onData (c) { frames.push(c); for (const w of waiters.splice(0)) w() },
    onEnd () {},
    onClose () { for (const w of waiters.splice(0)) w() },
    onDrain () {}
  })
  const next = async (): Promise<Uint8Array> => {
    while (frames.frames.length <= taken) {
      if (theirs.closed) throw new Error('closed before the frame came')
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
    return frames.frames[taken++] as Uint8Array
  }
  return { result, ours, theirs, frames, next }
}

/** Asserts a handshake error: ERR_HANDSHAKE_FAILED (with `cause` when given) or the code itself. */
async function rejectsWith (p: Promise<unknown>, code: ErrorCode, cause?: ErrorCode): Promise<Lp2pError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  assert.ok(isLp2pError(err, code), `expected ${code}, got ${String(err)}`)
  if (cause !== undefined) assert.ok(isLp2pError((err as Lp2pError).cause, cause), `expected cause ${cause}, got ${String((err as Lp2pError).cause)}`)
  return err as Lp2pError
}

/** Runs the honest peer up to (not including) its nonce packet. */
async function toNonce (s: ReturnType<typeof setup>, peer: SecioPeer): Promise<void> {
  s.theirs.write(secioFrame(peer.propose))
  const theirPropose = await s.next()
  s.theirs.write(secioFrame(peer.exchangeFor(theirPropose)))
  peer.keysFrom(await s.next())
}

/** An honest handshake to the end; the secure channel's collector and the peer. */
async function established (s: ReturnType<typeof setup>): Promise<{ peer: SecioPeer, c: ReturnType<typeof collect> }> {
  const peer = new SecioPeer()
  await toNonce(s, peer)
  s.theirs.write(peer.seal(peer.remoteNonce as Uint8Array))
  return { peer, c: collect((await s.result).channel) }
}

describe('SECIO against hostile peers', () => {
  it('an oversize handshake frame: ERR_MESSAGE_TOO_LARGE before the body arrives, connection closed', async () => {
    const s = setup()
    const prefix = Buffer.alloc(4); prefix.writeUInt32BE(0x7fffff, 0)
    s.theirs.write(prefix)
    await rejectsWith(s.result, 'ERR_MESSAGE_TOO_LARGE')
    assert.ok(s.ours.closed)
  })

  it('an oversize packet after the handshake: the channel closes with ERR_MESSAGE_TOO_LARGE', async () => {
    const s = setup()
    const { c } = await established(s)
    const prefix = Buffer.alloc(4); prefix.writeUInt32BE(0x800000, 0)
    s.theirs.write(prefix)
    assert.ok(isLp2pError(await c.closedP, 'ERR_MESSAGE_TOO_LARGE'))
    assert.ok(s.ours.closed)
  })

  it('a bad MAC after the handshake: data before it is delivered, then ERR_DECRYPTION_FAILED closes the channel', async () => {
    const s = setup()
    const { peer, c } = await established(s)
    const good = peer.seal(Buffer.from('hello'))
    const bad = peer.seal(Buffer.from('world'))
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1
    s.theirs.write(Buffer.concat([good, bad]))
    assert.ok(isLp2pError(await c.closedP, 'ERR_DECRYPTION_FAILED'))
    assert.equal(c.bytes().toString(), 'hello')
    assert.ok(s.ours.closed)
  })

  it('a packet shorter than its MAC, or a truncated one at the end: typed errors', async () => {
    for (const mode of ['short', 'truncated'] as const) {
      const s = setup()
      const { peer, c } = await established(s)
      if (mode === 'short') {
        s.theirs.write(secioFrame(randomBytes(10)))
        assert.ok(isLp2pError(await c.closedP, 'ERR_INVALID_MESSAGE'))
      } else {
        s.theirs.write(peer.seal(Buffer.from('cut short')).subarray(0, 12))
        s.theirs.end()
        assert.ok(isLp2pError(await c.closedP, 'ERR_INVALID_MESSAGE'))
      }
    }
  })

  it('a bad MAC on the nonce packet: ERR_HANDSHAKE_FAILED (ERR_DECRYPTION_FAILED)', async () => {
    const s = setup()
    const peer = new SecioPeer()
    await toNonce(s, peer)
    const packet = peer.seal(peer.remoteNonce as Uint8Array)
    packet[6] = (packet[6] as number) ^ 0x80
    s.theirs.write(packet)
    await rejectsWith(s.result, 'ERR_HANDSHAKE_FAILED', 'ERR_DECRYPTION_FAILED')
    assert.ok(s.ours.closed)
  })

  it('a peer that returns its own nonce instead of ours fails initial packet verification', async () => {
    const s = setup()
    const peer = new SecioPeer()
    await toNonce(s, peer)
    s.theirs.write(peer.seal(peer.nonce))
    await rejectsWith(s.result, 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_MESSAGE')
    assert.ok(s.ours.closed)
  })

  it('a nonce packet replayed from an earlier session is refused (it was sealed with other keys)', async () => {
    const first = setup()
    const peer1 = new SecioPeer()
    await toNonce(first, peer1)
    const recorded = peer1.seal(peer1.remoteNonce as Uint8Array)
    first.theirs.write(recorded)
    await first.result
    const second = setup()
    await toNonce(second, new SecioPeer({ key: peer1.key }))
    second.theirs.write(recorded)
    await rejectsWith(second.result, 'ERR_HANDSHAKE_FAILED', 'ERR_DECRYPTION_FAILED')
  })

  it('an Exchange replayed from an earlier session does not verify (the corpus holds our fresh proposal)', async () => {
    const first = setup()
    const peer = new SecioPeer()
    first.theirs.write(secioFrame(peer.propose))
    const exchange = peer.exchangeFor(await first.next())
    first.theirs.write(secioFrame(exchange))
    await first.next()
    first.theirs.destroy()
    const second = setup()
    second.theirs.write(secioFrame(peer.propose))
    await second.next()
    second.theirs.write(secioFrame(exchange))
    await rejectsWith(second.result, 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_SIGNATURE')
    assert.ok(second.ours.closed)
  })

  it('our own proposal reflected back: ERR_HANDSHAKE_FAILED (ERR_DIALED_SELF)', async () => {
    const s = setup()
    s.theirs.write(secioFrame(await s.next()))
    await rejectsWith(s.result, 'ERR_HANDSHAKE_FAILED', 'ERR_DIALED_SELF')
  })

  it('an Exchange signed by another key: ERR_HANDSHAKE_FAILED (ERR_INVALID_SIGNATURE)', async () => {
    const s = setup()
    const peer = new SecioPeer()
    s.theirs.write(secioFrame(peer.propose))
    const other = generateKeyPair('Ed25519')
    s.theirs.write(secioFrame(peer.exchangeFor(await s.next(), (c) => other.sign(c))))
    await rejectsWith(s.result, 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_SIGNATURE')
  })

  it('an ephemeral key that is not a point of the curve: ERR_HANDSHAKE_FAILED (ERR_INVALID_KEY)', async () => {
    for (const epubkey of [Buffer.concat([Buffer.of(4), Buffer.alloc(64, 1)]), Buffer.alloc(33, 2), Buffer.alloc(65, 0)]) {
      const s = setup()
      const peer = new SecioPeer({ preferences: { exchanges: ['P-256'] } })
      s.theirs.write(secioFrame(peer.propose))
      const ours = await s.next()
      peer.exchangeFor(ours)
      const forged = encodeExchange({ epubkey, signature: peer.key.sign(Buffer.concat([peer.propose, ours, epubkey])) })
      s.theirs.write(secioFrame(forged))
      await rejectsWith(s.result, 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_KEY')
    }
  })

  it('malformed proposals: missing fields, a short nonce, non-UTF-8 or oversize lists, a bad key, nothing in common', async () => {
    const key = generateKeyPair('Ed25519')
    const good = { rand: randomBytes(16), pubkey: key.publicKey.bytes, exchanges: ['P-256'], ciphers: ['AES-128'], hashes: ['SHA256'] }
    const cases: Array<[string, Uint8Array, ErrorCode, ErrorCode | undefined]> = [
      ['empty', new Uint8Array(0), 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_MESSAGE'],
      ['15-byte nonce', encodePropose({ ...good, rand: randomBytes(15) }), 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_MESSAGE'],
      ['no hashes', encodePropose({ ...good, hashes: [] }).subarray(0, -2), 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_MESSAGE'],
      ['17 ciphers', encodePropose({ ...good, ciphers: Array.from({ length: 17 }, () => 'X') }), 'ERR_MESSAGE_TOO_LARGE', undefined],
      ['300-byte list', encodePropose({ ...good, exchanges: ['P'.repeat(300)] }), 'ERR_MESSAGE_TOO_LARGE', undefined],
      ['not UTF-8', Buffer.concat([encodePropose({ ...good, hashes: ['SHA256'] }).subarray(0, -8), Buffer.of(0x2a, 2, 0xff, 0xfe)]), 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_MESSAGE'],
      ['bad key', encodePropose({ ...good, pubkey: Buffer.from('not a key') }), 'ERR_HANDSHAKE_FAILED', 'ERR_INVALID_KEY'],
      ['no common cipher', encodePropose({ ...good, ciphers: ['Blowfish'] }), 'ERR_HANDSHAKE_FAILED', 'ERR_NEGOTIATION_FAILED']
    ]
    for (const [name, propose, codeWanted, cause] of cases) {
      const s = setup()
      s.theirs.write(secioFrame(propose))
      const err = await rejectsWith(s.result, codeWanted, cause).catch((e: Error) => { throw new Error(`${name}: ${e.message}`) })
      assert.ok(err !== undefined && s.ours.closed, name)
    }
  })

  it('any bytes as a proposal end in a typed error, never an exception escaping', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
      const s = setup()
      s.theirs.write(secioFrame(bytes))
      const err = await s.result.then(() => undefined, (e: unknown) => e)
      assert.ok(isLp2pError(err), String(err))
      assert.ok(s.ours.closed)
    }), { numRuns: 100 })
  })

  it('a responder expecting nobody still checks the dialer: the peer id comes from the key it signed with', async () => {
    const s = setup()
    const peer = new SecioPeer()
    await toNonce(s, peer)
    s.theirs.write(peer.seal(peer.remoteNonce as Uint8Array))
    const secure = await s.result
    assert.ok(secure.remotePeer.equals(peerIdFromPrivateKey(peer.key)))
    secure.channel.destroy()
  })
})
