import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import type { MuxedStream, StreamMuxer } from '../../src/interfaces/muxer.js'
import { yamux } from '../../src/muxer/yamux/index.js'
import { handleOnStream, selectOnStream } from '../../src/negotiation/stream-negotiation.js'
import { isLp2pError } from '../../src/errors.js'
import { until } from '../helpers/hostile.js'
import { connect } from '../muxer/muxer-pair.js'

/**
 * Two yamux sessions over an in-memory pair. `onInbound` sees each inbound stream
 * synchronously, as the node's handler does (the interceptor must be installed before
 * the stream's first bytes are delivered). Tests that expect an error look at it
 * through the negotiation's result, so every stream gets an error listener.
 */
function muxerPair (onInbound: (s: MuxedStream) => void = () => {}): { dialer: StreamMuxer, close: () => void } {
  const p = connect(yamux(), {}, (s) => {
    s.on('error', () => {})
    onInbound(s)
  })
  return { dialer: p.dialer, close: () => { p.dialer.abort(new Error('done')); p.listener.abort(new Error('done')) } }
}

const isSupported = (p: string): boolean => p === '/echo/1.0.0'

describe('stream negotiation', () => {
  it('agrees without laziness and leaves no listener on the signal', async () => {
    const controller = new AbortController()
    let handled: Promise<string> | undefined
    const m = muxerPair((s) => { handled = handleOnStream(s, { isSupported, signal: controller.signal, timeout: 10_000 }) })
    try {
      const out = m.dialer.newStream()
      out.on('error', () => {})
      const selected = selectOnStream(out, ['/nope/1.0.0', '/echo/1.0.0'], { signal: controller.signal, timeout: 10_000 })
      assert.equal(await selected, '/echo/1.0.0')
      assert.equal(await handled, '/echo/1.0.0')
      assert.equal(out.protocol, '/echo/1.0.0')
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
      assert.equal(out.listenerCount('close'), 0)
    } finally {
      m.close()
    }
  })

  it('fails with ERR_TIMEOUT and destroys the stream when the remote stays silent', async () => {
    let inbound: MuxedStream | undefined
    let handled: Promise<string> | undefined
    const m = muxerPair((s) => { inbound = s; handled = handleOnStream(s, { isSupported, timeout: 20 }) })
    // The negotiation's timer is unref'd (it must not keep a process alive): hold the loop open.
    const keepAlive = setInterval(() => {}, 1000)
    try {
      const out = m.dialer.newStream()
      out.on('error', () => {})
      out.write(Buffer.from([1])) // opens the stream on the wire; one byte of a length prefix, nothing more
      await until(() => handled !== undefined, 2000, 'the inbound stream')
      const err = await (handled as Promise<string>).then(() => undefined, (e: unknown) => e)
      assert.ok(isLp2pError(err, 'ERR_TIMEOUT'), String(err))
      assert.equal(inbound?.destroyed, true)
    } finally {
      clearInterval(keepAlive)
      m.close()
    }
  })

  it('fails with the abort reason and removes its listeners when the signal aborts', async () => {
    const m = muxerPair()
    const controller = new AbortController()
    const out = m.dialer.newStream()
    out.on('error', () => {})
    const selected = selectOnStream(out, ['/a/1.0.0', '/b/1.0.0'], { signal: controller.signal, timeout: 10_000 })
    controller.abort(new Error('stop'))
    const err = await selected.then(() => undefined, (e: unknown) => e)
    assert.ok(isLp2pError(err, 'ERR_ABORTED'), String(err))
    assert.equal(out.destroyed, true)
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
    m.close()
  })

  it('fails with ERR_CONNECTION_CLOSED when the stream closes first', async () => {
    const m = muxerPair()
    const out = m.dialer.newStream()
    out.on('error', () => {})
    const selected = selectOnStream(out, ['/a/1.0.0', '/b/1.0.0'], { timeout: 10_000 })
    out.destroy()
    const err = await selected.then(() => undefined, (e: unknown) => e)
    assert.ok(isLp2pError(err, 'ERR_CONNECTION_CLOSED'), String(err))
    m.close()
  })

  it('a lazy negotiation whose remote never answers: the stream is destroyed with ERR_TIMEOUT', async () => {
    // The remote reads the proposal and never answers (no handler installed).
    const m = muxerPair((s) => { s.resume() })
    const keepAlive = setInterval(() => {}, 1000)
    try {
      const out = m.dialer.newStream()
      const errored = new Promise<unknown>((resolve) => { out.on('error', resolve) })
      assert.equal(await selectOnStream(out, ['/echo/1.0.0'], { timeout: 30 }), '/echo/1.0.0', 'handed out at once')
      out.write('request')
      const err = await errored
      assert.ok(isLp2pError(err, 'ERR_TIMEOUT'), String(err))
      assert.match((err as Error).message, /\/echo\/1\.0\.0/)
    } finally {
      clearInterval(keepAlive)
      m.close()
    }
  })

  it('a lazy negotiation answered in time keeps its stream past the timeout', async () => {
    let handled: Promise<string> | undefined
    const m = muxerPair((s) => { handled = handleOnStream(s, { isSupported, timeout: 10_000 }) })
    const keepAlive = setInterval(() => {}, 1000)
    try {
      const out = m.dialer.newStream()
      out.on('error', () => {})
      await selectOnStream(out, ['/echo/1.0.0'], { timeout: 50 })
      out.write('x')
      await until(() => handled !== undefined, 2000, 'the inbound stream')
      assert.equal(await handled, '/echo/1.0.0')
      await new Promise((resolve) => setTimeout(resolve, 120))
      assert.equal(out.destroyed, false)
      out.destroy()
    } finally {
      clearInterval(keepAlive)
      m.close()
    }
  })
})
