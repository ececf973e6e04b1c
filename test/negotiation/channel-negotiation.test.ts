import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MemoryChannel } from '../../src/transport/memory-channel.js'
import { handleOnChannel, lazySelectOnChannel, selectOnChannel } from '../../src/negotiation/channel-negotiation.js'
import { encodeMessages } from '../../src/negotiation/message.js'
import { isLp2pError } from '../../src/errors.js'
import { collect } from '../helpers/channel.js'

const supports = (...ps: string[]) => ({ isSupported: (p: string) => ps.includes(p), list: () => ps })

describe('multistream-select over a byte channel', () => {
  it('negotiates with the na/retry path and hands over the channel with its bytes intact', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), async (sizes) => {
      let i = 0
      const [a, b] = MemoryChannel.pair({ chunking: (n) => Array.from({ length: n }, () => sizes[i++ % sizes.length] as number) })
      const [dialed, listened] = await Promise.all([
        selectOnChannel(a, ['/tls/1.0.0', '/noise']).then((p) => { a.write(Buffer.from('after')); return p }),
        handleOnChannel(b, supports('/noise'))
      ])
      assert.equal(dialed, '/noise')
      assert.equal(listened, '/noise')
      const got = collect(b)
      assert.equal((await got.waitFor(5)).toString(), 'after')
    }), { numRuns: 20 })
  })

  it('gives bytes sent right after the proposal to the next layer (listener side of a lazy dialer)', async () => {
    const [a, b] = MemoryChannel.pair()
    a.write(Uint8Array.from([...encodeMessages(['/multistream/1.0.0', '/noise']), 1, 2, 3]))
    assert.equal(await handleOnChannel(b, supports('/noise')), '/noise')
    const got = collect(b)
    assert.deepEqual([...(await got.waitFor(3))], [1, 2, 3])
  })

  it('lazy dialer: next layer writes at once, reads only what follows the answer', async () => {
    const [a, b] = MemoryChannel.pair()
    const lazy = lazySelectOnChannel(a, '/noise')
    lazy.write(Buffer.from('msg1'))
    const remoteP = handleOnChannel(b, supports('/noise'))
    const fromDialer = collect()
    assert.equal(await remoteP, '/noise')
    b.attach(fromDialer)
    assert.equal((await fromDialer.waitFor(4)).toString(), 'msg1')
    b.write(Buffer.from('msg2'))
    const fromListener = collect(lazy)
    assert.equal((await fromListener.waitFor(4)).toString(), 'msg2')
    assert.equal(lazy.confirmed, true)
  })

  it('lazy dialer: an na destroys the channel with ERR_UNSUPPORTED_PROTOCOL', async () => {
    const [a, b] = MemoryChannel.pair()
    const lazy = lazySelectOnChannel(a, '/noise')
    const next = collect(lazy)
    const remote = handleOnChannel(b, supports('/tls/1.0.0'))
    const err = await next.closedP
    assert.ok(isLp2pError(err, 'ERR_UNSUPPORTED_PROTOCOL'), String(err))
    assert.ok(isLp2pError(lazy.error, 'ERR_UNSUPPORTED_PROTOCOL'))
    await assert.rejects(remote)
  })

  it('fails with a typed error and destroys the channel on garbage', async () => {
    const [a, b] = MemoryChannel.pair()
    const remote = collect(b)
    const p = selectOnChannel(a, ['/noise'])
    await remote.waitFor(1)
    // a length of 3 and three bytes without the newline
    b.write(Buffer.from([0x03, 0x41, 0x42, 0x43]))
    await assert.rejects(p, (e: unknown) => isLp2pError(e) && e.code !== undefined)
    assert.equal(a.closed, true)
  })

  it('fails when all proposals are refused', async () => {
    const [a, b] = MemoryChannel.pair()
    const p = selectOnChannel(a, ['/a', '/b'])
    const l = handleOnChannel(b, supports('/c'))
    await assert.rejects(p, (e: unknown) => isLp2pError(e, 'ERR_UNSUPPORTED_PROTOCOL'))
    await assert.rejects(l, (e: unknown) => isLp2pError(e))
  })

  it('honours an abort signal (timeout of a silent peer)', async () => {
    const [a] = MemoryChannel.pair()
    const ac = new AbortController()
    const p = selectOnChannel(a, ['/noise'], { signal: ac.signal })
    ac.abort()
    await assert.rejects(p, (e: unknown) => isLp2pError(e, 'ERR_ABORTED'))
    assert.equal(a.closed, true)
  })

  it('fails when the remote closes mid-negotiation', async () => {
    const [a, b] = MemoryChannel.pair()
    const p = handleOnChannel(a, supports('/noise'))
    b.write(encodeMessages(['/multistream/1.0.0']))
    b.end()
    await assert.rejects(p, (e: unknown) => isLp2pError(e, 'ERR_NEGOTIATION_FAILED'))
  })
})
