import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeLsResponse, encodeLsResponse, encodeMessage, encodeMessages, MAX_MESSAGE_LENGTH, MessageDecoder
} from '../../src/negotiation/message.js'
import { isLp2pError } from '../../src/errors.js'
import { split } from '../helpers/chunks.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const protocolId = fc.string({ minLength: 1, maxLength: 200 }).filter((s) => !s.includes('\n'))

describe('multistream message codec', () => {
  it('encodes na as in the spec (0x036e610a)', () => {
    assert.equal(hex(encodeMessage('na')), '036e610a')
    assert.equal(hex(encodeMessage('ls')), '036c730a')
  })

  it('counts the newline in the length prefix', () => {
    const m = encodeMessage('/multistream/1.0.0')
    assert.equal(m[0], 19)
    assert.equal(m.length, 20)
    assert.equal(m[19], 0x0a)
  })

  it('round-trips any sequence of messages under arbitrary chunking (property)', () => {
    fc.assert(fc.property(fc.array(protocolId, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (msgs, cuts) => {
      const wire = encodeMessages(msgs)
      const dec = new MessageDecoder()
      const got: string[] = []
      for (const part of split(wire, cuts)) {
        dec.push(part)
        for (let m = dec.next(); m !== undefined; m = dec.next()) got.push(m)
      }
      assert.deepEqual(got, msgs)
      assert.equal(dec.buffered, 0)
    }))
  })

  it('keeps bytes after the last message as the remainder', () => {
    const dec = new MessageDecoder()
    dec.push(Uint8Array.from([...encodeMessage('/a'), 1, 2, 3]))
    assert.equal(dec.next(), '/a')
    assert.deepEqual([...dec.takeRemaining()], [1, 2, 3])
  })

  it('rejects a length over the limit before buffering the body', () => {
    const dec = new MessageDecoder()
    dec.push(Uint8Array.from([0x81, 0x08])) // 1025, no body yet
    assert.throws(() => dec.next(), (e: unknown) => isLp2pError(e, 'ERR_MESSAGE_TOO_LARGE'))
    assert.equal(MAX_MESSAGE_LENGTH, 1024)
  })

  it('rejects a message without its newline, an empty message, bad UTF-8 and a bad varint', () => {
    const cases: Array<[number[], string]> = [
      [[0x02, 0x61, 0x62], 'ERR_NEGOTIATION_FAILED'],
      [[0x00], 'ERR_NEGOTIATION_FAILED'],
      [[0x03, 0xff, 0xfe, 0x0a], 'ERR_NEGOTIATION_FAILED'],
      [[0x80, 0x00], 'ERR_INVALID_VARINT'],
      [[0xff, 0xff, 0xff, 0xff], 'ERR_INVALID_VARINT']
    ]
    for (const [bytes, code] of cases) {
      const dec = new MessageDecoder()
      dec.push(Uint8Array.from(bytes))
      assert.throws(() => dec.next(), (e: unknown) => isLp2pError(e, code as 'ERR_NEGOTIATION_FAILED'), `${bytes.join(',')}`)
    }
  })

  it('never throws anything but Lp2pError on garbage (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const dec = new MessageDecoder()
      dec.push(bytes)
      try {
        while (dec.next() !== undefined);
      } catch (e) {
        assert.ok(isLp2pError(e), String(e))
      }
    }))
  })

  it('encodes and decodes ls responses (embedded messages, final newline)', () => {
    const wire = encodeLsResponse(['/a/1', '/b/2'])
    // outer length = two embedded messages of 1 + 4 + 1 bytes, then the final newline
    assert.equal(wire[0], 13)
    assert.equal(wire[wire.length - 1], 0x0a)
    assert.equal(wire[wire.length - 2], 0x0a, 'a non-empty list ends in \\n\\n')
    const dec = new MessageDecoder()
    dec.push(wire)
    const body = dec.nextRaw()
    assert.ok(body !== undefined)
    assert.deepEqual(decodeLsResponse(body), ['/a/1', '/b/2'])
    const empty = new MessageDecoder()
    empty.push(encodeLsResponse([]))
    assert.deepEqual(decodeLsResponse(empty.nextRaw() as Uint8Array), [])
  })
})
