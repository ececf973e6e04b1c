/**
 * multistream-select at the connection level (`specs/multistream-select.md`) against
 * a hostile dialer speaking raw bytes to a real node over TCP.
 *
 * For every case: the node closes the connection with the typed error (recorded where
 * it destroyed the raw channel), within a bound well under the inbound upgrade
 * timeout when the bytes are wrong, at the timeout when they are merely slow; then it
 * is back to baseline and serves a well-behaved peer, and the process saw no
 * unhandled rejection or uncaught exception.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage, encodeMessages, MAX_MESSAGE_LENGTH, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { MAX_PROPOSALS } from '../../src/negotiation/listener.js'
import { encodeUvarint } from '../../src/wire/varint.js'
import { expectCode, MiB, type RawPeer } from '../helpers/hostile.js'
import { closedAtOnce, Target } from '../helpers/hostile-target.js'

describe('adversarial: multistream-select on the raw connection', () => {
  const t = Target.suite()

  /** Connects, sends `bytes`, expects the node to close with `code` at once. */
  async function rejects (bytes: Uint8Array, code: string): Promise<{ peer: RawPeer, received: Buffer }> {
    const { peer, record } = await t.connect()
    peer.write(bytes)
    await closedAtOnce(peer, record, code)
    return { peer, received: peer.inbox.takeAll() }
  }

  it('garbage before the header: ERR_NEGOTIATION_FAILED', async () => {
    // "\x05hello": a well-framed message of 5 bytes whose last byte is not a newline.
    await rejects(Buffer.concat([Buffer.from('\x05hello'), encodeMessage(PROTOCOL_ID)]), 'ERR_NEGOTIATION_FAILED')
  })

  it('an HTTP request instead of multistream: ERR_NEGOTIATION_FAILED', async () => {
    // 'G' (71) reads as a length; byte 71 of the request is not a newline.
    const http = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: adversarial\r\nAccept: */*\r\n${'X-Pad: y\r\n'.repeat(8)}\r\n`)
    await rejects(http, 'ERR_NEGOTIATION_FAILED')
  })

  it('a valid header, then a message that is not the header first: ERR_NEGOTIATION_FAILED', async () => {
    await rejects(encodeMessages(['/noise', PROTOCOL_ID]), 'ERR_NEGOTIATION_FAILED')
  })

  it('a length varint that never ends: ERR_INVALID_VARINT', async () => {
    await rejects(Buffer.alloc(64, 0xff), 'ERR_INVALID_VARINT')
  })

  it('a non-minimal length varint: ERR_INVALID_VARINT', async () => {
    await rejects(Buffer.from([0x93, 0x00, ...Buffer.from('/multistream/1.0.0\n')]), 'ERR_INVALID_VARINT')
  })

  it('a 1 MiB length prefix: ERR_MESSAGE_TOO_LARGE before any of the body', async () => {
    await rejects(Buffer.concat([encodeUvarint(MiB), Buffer.from('/multistream')]), 'ERR_MESSAGE_TOO_LARGE')
  })

  it('a length one over the limit: ERR_MESSAGE_TOO_LARGE', async () => {
    await rejects(encodeUvarint(MAX_MESSAGE_LENGTH + 1), 'ERR_MESSAGE_TOO_LARGE')
  })

  it('a message without its newline: ERR_NEGOTIATION_FAILED', async () => {
    const msg = Buffer.from(encodeMessage(PROTOCOL_ID))
    msg[msg.length - 1] = 0x58
    await rejects(msg, 'ERR_NEGOTIATION_FAILED')
  })

  it('an empty message (length 0): ERR_NEGOTIATION_FAILED', async () => {
    await rejects(Buffer.from([0x00]), 'ERR_NEGOTIATION_FAILED')
  })

  it('invalid UTF-8 in a proposal: ERR_NEGOTIATION_FAILED', async () => {
    await rejects(Buffer.concat([encodeMessage(PROTOCOL_ID), Buffer.from([0x03, 0xff, 0xfe, 0x0a])]), 'ERR_NEGOTIATION_FAILED')
  })

  it('1000 proposals in one write: ERR_TOO_MANY_PROPOSALS after at most 32 answers', async () => {
    const proposals = Array.from({ length: 1000 }, (_, i) => `/nope/${i}`)
    const { received } = await rejects(encodeMessages([PROTOCOL_ID, ...proposals]), 'ERR_TOO_MANY_PROPOSALS')
    // The header, then one `na` per proposal answered, no more.
    const limit = encodeMessage(PROTOCOL_ID).byteLength + MAX_PROPOSALS * encodeMessage('na').byteLength
    assert.ok(received.byteLength <= limit, `${received.byteLength} bytes of answers, limit ${limit}`)
  })

  it('10 000 ls requests in one write: ERR_TOO_MANY_PROPOSALS after at most 32 answers', async () => {
    const { received } = await rejects(encodeMessages([PROTOCOL_ID, ...Array.from({ length: 10_000 }, () => 'ls')]), 'ERR_TOO_MANY_PROPOSALS')
    const limit = encodeMessage(PROTOCOL_ID).byteLength + MAX_PROPOSALS * encodeMessage('na').byteLength
    assert.ok(received.byteLength <= limit, `${received.byteLength} bytes of answers, limit ${limit}`)
  })

  it('the remote half-closes in the middle of the header: ERR_NEGOTIATION_FAILED', async () => {
    const { peer, record } = await t.connect()
    peer.write(encodeMessage(PROTOCOL_ID).subarray(0, 7))
    peer.end()
    await closedAtOnce(peer, record, 'ERR_NEGOTIATION_FAILED')
  })
})

describe('adversarial: slow and silent dialers meet the inbound upgrade timeout', () => {
  const TIMEOUT = 1000
  const t = Target.suite({ timeouts: { inboundUpgrade: TIMEOUT } })

  it('slow-loris: one byte per 100 ms is cut off at the timeout (ERR_TIMEOUT)', async () => {
    const { peer, record } = await t.connect()
    // The header and a proposal, then padding: far more than the timeout lets through.
    const bytes = Buffer.concat([encodeMessages([PROTOCOL_ID, '/noise']), Buffer.alloc(200, 0x61)])
    const sending = peer.writeSlowly(bytes, 1, 100)
    const ms = await peer.waitClosed(TIMEOUT + 3000)
    const sent = await sending
    assert.ok(ms >= TIMEOUT - 150 && ms < TIMEOUT + 1500, `closed after ${ms.toFixed(0)} ms`)
    assert.ok(sent < 30, `the node read ${sent} bytes before closing`)
    expectCode(record.error, 'ERR_TIMEOUT')
  })

  it('a silent connection is closed at the timeout (ERR_TIMEOUT)', async () => {
    const { peer, record } = await t.connect()
    const ms = await peer.waitClosed(TIMEOUT + 3000)
    assert.ok(ms >= TIMEOUT - 150 && ms < TIMEOUT + 1500, `closed after ${ms.toFixed(0)} ms`)
    expectCode(record.error, 'ERR_TIMEOUT')
  })

  it('a header that never gets its proposal: ERR_TIMEOUT, the header answered', async () => {
    const { peer, record } = await t.connect()
    peer.write(encodeMessage(PROTOCOL_ID))
    assert.equal(await peer.readMessage(), PROTOCOL_ID)
    await peer.waitClosed(TIMEOUT + 3000)
    expectCode(record.error, 'ERR_TIMEOUT')
  })
})
