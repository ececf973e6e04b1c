/**
 * Interop with js-libp2p's yamux (@chainsafe/libp2p-yamux 8, as used by js-libp2p
 * 3.3.11), in one process: its muxer runs over one end of a memory channel pair
 * (through a small adapter to its `MultiaddrConnection` shape), ours over the other.
 *
 * js-libp2p 3 needs `Promise.withResolvers` (Node 22+): polyfilled here before the
 * js modules load (this file runs in its own process under node --test).
 */
import { describe, it, before } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import type { ByteChannel } from '../../../src/interfaces/channel.js'
import type { MuxedStream, StreamMuxer } from '../../../src/interfaces/muxer.js'
import { MemoryChannel } from '../../../src/transport/memory-channel.js'
import { yamux } from '../../../src/muxer/yamux/index.js'
import { codes, isLp2pError } from '../../../src/errors.js'
import { closedWith, readAll, ticks, writeAll } from '../conformance.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
type JsStream = any
type JsMuxer = any

if (typeof (Promise as any).withResolvers !== 'function') {
  (Promise as any).withResolvers = function withResolvers<T> () {
    let resolve!: (v: T) => void
    let reject!: (e: unknown) => void
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

let jsYamux: (init?: Record<string, unknown>) => () => { createStreamMuxer: (maConn: unknown) => JsMuxer }
let StreamMessageEvent: new (data: Uint8Array) => Event
let defaultLogger: () => { forComponent: (name: string) => unknown }

/** Our ByteChannel seen as the js `MultiaddrConnection` its muxer consumes. */
class MaConnAdapter extends EventTarget {
  readonly direction: 'inbound' | 'outbound'
  readonly log: unknown
  readonly #channel: ByteChannel

  constructor (channel: ByteChannel, direction: 'inbound' | 'outbound') {
    super()
    this.#channel = channel
    this.direction = direction
    this.log = defaultLogger().forComponent('interop:maconn')
    channel.attach({
      onData: (chunk) => { this.dispatchEvent(new StreamMessageEvent(chunk)) },
      onEnd: () => { channel.end() },
      onClose: () => { this.dispatchEvent(new Event('close')) },
      onDrain: () => { this.dispatchEvent(new Event('drain')) }
    })
  }

  send (data: Uint8Array | Iterable<Uint8Array>): boolean {
    return this.#channel.writev(data instanceof Uint8Array ? [data] : [...data])
  }

  abort (err: Error): void {
    this.#channel.destroy(err)
  }

  async close (): Promise<void> {
    this.#channel.end()
  }
}

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
  const js = jsYamux({ enableKeepAlive: false })().createStreamMuxer(new MaConnAdapter(b, ourDirection === 'inbound' ? 'outbound' : 'inbound'))
  js.addEventListener('stream', (evt: CustomEvent) => { jsInbound.push(evt.detail); onJsInbound?.(evt.detail) })
  return { ours, js, ourInbound, jsInbound, oursClosed }
}

async function jsReadAll (s: JsStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of s) parts.push(Buffer.from(chunk.subarray()))
  return Buffer.concat(parts)
}

async function jsWriteAll (s: JsStream, data: Uint8Array, chunk = 64 * 1024): Promise<void> {
  for (let off = 0; off < data.byteLength; off += chunk) {
    if (!s.send(data.subarray(off, off + chunk))) await s.onDrain()
  }
  await s.close()
}

const echoJs = (s: JsStream): void => {
  void (async () => {
    try {
      for await (const chunk of s) {
        if (!s.send(chunk)) await s.onDrain()
      }
      await s.close()
    } catch {}
  })()
}

async function until (cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await ticks(1)
  assert.ok(cond(), what)
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('yamux interop with @chainsafe/libp2p-yamux 8 (js-libp2p 3.3.11)', { timeout: 60_000 }, () => {
  before(async () => {
    ({ yamux: jsYamux } = await import('@chainsafe/libp2p-yamux') as any)
    ;({ StreamMessageEvent } = await import('@libp2p/interface') as any)
    ;({ defaultLogger } = await import('@libp2p/logger') as any)
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
    assert.equal(sha(atJs), sha(up))
    assert.equal(sha(fromJs), sha(down))
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
    const jsReset = new Promise<any>((resolve) => j.addEventListener('close', resolve))
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
    await until(() => (p.ours as any).rtt !== undefined, 'our RTT probe was answered')
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
