/**
 * Interop with js-libp2p's yamux (@chainsafe/libp2p-yamux 8, as used by js-libp2p
 * 3.3.11), in one process: its muxer runs over one end of a memory channel pair
 * (see js-yamux.ts), ours over the other.
 */
import { describe, it, before } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { MuxedStream, StreamMuxer } from '../../../src/interfaces/muxer.js'
import { MemoryChannel } from '../../../src/transport/memory-channel.js'
import { yamux } from '../../../src/muxer/yamux/index.js'
import { codes, isLp2pError } from '../../../src/errors.js'
import { closedWith, readAll, sha256, writeAll } from '../stream-io.js'
import { tick } from '../../helpers/channel.js'
import { jsEcho as echoJs, jsReadAll, jsWriteAll, loadJsYamux, type JsMuxer, type JsStream, type JsYamux } from './js-yamux.js'

let js: JsYamux

interface Pair {
  ours: StreamMuxer
  js: JsMuxer
  ourInbound: MuxedStream[]
  jsInbound: JsStream[]
  oursClosed: Promise<Error | undefined>
}

function pair (ourDirection: 'inbound' | 'outbound', onOurInbound?: (s: MuxedStream) => void, onJsInbound?: (s: JsStream) => void): Pair {
  const [a, b] = MemoryChannel.pair()
  const ourInbound: MuxedStream[] = []
  const jsInbound: JsStream[] = []
  let closed!: (e: Error | undefined) => void
  const oursClosed = new Promise<Error | undefined>((resolve) => { closed = resolve })
  const ours = yamux().createStreamMuxer(a, {
    direction: ourDirection,
    onIncomingStream: (s) => { ourInbound.push(s); onOurInbound?.(s) },
    onClose: (e) => { closed(e) }
  })
  const jsMuxer = js.create(b, ourDirection === 'inbound' ? 'outbound' : 'inbound')
  jsMuxer.addEventListener('stream', (evt: CustomEvent) => { jsInbound.push(evt.detail); onJsInbound?.(evt.detail) })
  return { ours, js: jsMuxer, ourInbound, jsInbound, oursClosed }
}

async function until (cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await tick(1)
  assert.ok(cond(), what)
}

describe('yamux interop with @chainsafe/libp2p-yamux 8 (js-libp2p 3.3.11)', { timeout: 60_000 }, () => {
  before(async () => {
    js = await loadJsYamux()
  })

  for (const ourDirection of ['outbound', 'inbound'] as const) {
    it(`we dial (${ourDirection === 'outbound' ? 'odd' : 'even'} ids): streams both ways, echo, half-close`, async () => {
      const p = pair(ourDirection, (s) => { s.pipe(s) }, echoJs)
      // ours -> js
      const s = p.ours.newStream()
      s.end('hello js')
      assert.equal((await readAll(s)).toString(), 'hello js')
      assert.equal(await closedWith(s), undefined)
      // js -> ours
      const j = await p.js.createStream()
      j.send(new TextEncoder().encode('hello lp2p'))
      await j.close()
      assert.equal((await jsReadAll(j)).toString(), 'hello lp2p')
      await until(() => p.ours.streams.length === 0, 'our side closed both streams')
    })
  }

  it('carries 8 MiB both ways at once on one stream (windows, updates, growth)', async () => {
    const size = 8 * 1024 * 1024
    const up = randomBytes(size)
    const down = randomBytes(size)
    let jsGot: Promise<Buffer> | undefined
    const p = pair('outbound', undefined, (j) => {
      jsGot = jsReadAll(j)
      void jsWriteAll(j, down)
    })
    const s = p.ours.newStream()
    const [fromJs] = await Promise.all([readAll(s), writeAll(s, up)])
    await until(() => jsGot !== undefined, 'js accepted the stream')
    const atJs = await (jsGot as Promise<Buffer>)
    assert.equal(sha256(atJs), sha256(up))
    assert.equal(sha256(fromJs), sha256(down))
  })

  it('runs 200 concurrent streams opened from both sides', async () => {
    const p = pair('inbound', (s) => { s.pipe(s) }, echoJs)
    const ours = Array.from({ length: 100 }, async (_, i) => {
      const s = p.ours.newStream()
      const data = randomBytes(100 + i * 50)
      s.end(data)
      assert.ok((await readAll(s)).equals(data))
    })
    const theirs = Array.from({ length: 100 }, async (_, i) => {
      const j = await p.js.createStream()
      const data = randomBytes(100 + i * 50)
      j.send(data)
      await j.close()
      assert.ok((await jsReadAll(j)).equals(data))
    })
    await Promise.all([...ours, ...theirs])
  })

  it('resets both ways', async () => {
    const p = pair('outbound')
    const s = p.ours.newStream()
    s.write('x')
    await until(() => p.jsInbound.length === 1, 'js got the stream')
    const j = p.jsInbound[0]
    const jsReset = new Promise<{ error?: Error }>((resolve) => j.addEventListener('close', resolve))
    s.destroy()
    const evt = await jsReset
    assert.ok(evt.error !== undefined, 'js saw an error close (reset)')

    const j2 = await p.js.createStream()
    j2.send(new Uint8Array([1]))
    await until(() => p.ourInbound.length === 1, 'we got the stream')
    const ourErr = closedWith(p.ourInbound[0] as MuxedStream)
    j2.abort(new Error('js gives up'))
    assert.ok(isLp2pError(await ourErr, codes.ERR_STREAM_RESET))
  })

  it('answers js pings and measures RTT with js answering ours', async () => {
    const p = pair('outbound')
    const rtt = await p.js.ping()
    assert.ok(typeof rtt === 'number' && rtt >= 0)
    const s = p.ours.newStream()
    s.write('x')
    await until(() => (p.ours as { rtt?: number }).rtt !== undefined, 'our RTT probe was answered')
  })

  it('closes gracefully either way', async () => {
    const p = pair('outbound', undefined, echoJs)
    const s = p.ours.newStream()
    s.end('bye')
    assert.equal((await readAll(s)).toString(), 'bye')
    await p.ours.close()
    assert.equal(p.ours.status, 'closed')
    assert.equal(await p.oursClosed, undefined)
    await until(() => p.js.status === 'closed', 'js closed too')

    const q = pair('inbound')
    await q.js.close()
    assert.equal(await q.oursClosed, undefined, 'js GoAway(0) then close: graceful on our side')
    assert.equal(q.ours.status, 'closed')
  })
})
