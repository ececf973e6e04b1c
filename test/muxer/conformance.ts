/**
 * The stream-muxer conformance suite: behaviour every {@link StreamMuxerFactory} must
 * show over a pair of in-memory channels (src/transport/memory-channel.ts), whatever
 * its wire format. Run it from a muxer's own test file:
 *
 *     muxerConformance('yamux', () => yamux())
 *
 * Covers: open/write/read both ways, half-close both ways, reset both ways, 1000
 * concurrent echo streams, a stalled reader keeping memory bounded, 32 MiB transfers
 * both ways at once (SHA-256), streams closing while data is in flight, close()
 * waiting for streams, abort(), the channel dying, and no unhandled rejections or
 * listener-leak warnings. Timing is never asserted.
 *
 * The muxer pair it runs on is in muxer-pair.ts, the stream reading and writing in
 * stream-io.ts (the driver tests import them from there). A transport with its own
 * streams (QUIC) runs the same suite on its connections with
 * {@link pairConformance}, giving a maker of connected pairs instead of a factory.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { MuxedStream, StreamMuxerFactory } from '../../src/interfaces/muxer.js'
import { codes, isLp2pError } from '../../src/errors.js'
import { assertStillFlowing, connect, type MuxerPair } from './muxer-pair.js'
import { closedWith, readAll, resumeAndReceiveAll, sha256, writeAll, writeUntilReset, writeUntilStalled } from './stream-io.js'
import { tick } from '../helpers/channel.js'

export interface ConformanceOptions {
  /**
   * The most bytes of one stream the muxer lets the remote send before the reader
   * consumes any: its per-stream receive window. Default 256 KiB (the yamux window,
   * which does not grow while the reader is stalled).
   */
  receiveWindow?: number
  /**
   * What the muxer does when a reader stops reading while the remote keeps writing:
   * - `'flow-control'` (default; yamux): the receive window stops the remote writer;
   *   other streams keep flowing;
   * - `'block-connection'` (mplex `'block'`): the muxer stops reading the connection,
   *   which stops the remote writer, and every other stream waits for the reader
   *   (head-of-line blocking; mplex has no flow control);
   * - `'reset-stream'` (mplex `'reset-stream'`): the stalled stream is reset once
   *   `receiveWindow` bytes are unread; other streams keep flowing.
   */
  stalledReader?: 'flow-control' | 'block-connection' | 'reset-stream'
  /** Skips the suite, with the reason (a transport not available here). */
  skip?: string | false
  /** Runs after the suite (closing listeners a pair maker opened). */
  teardown?: () => Promise<void>
}

/** Two connected muxers, as the suite uses them (see muxer-pair.ts). */
export type ConformancePair = Omit<MuxerPair, 'channels'> & {
  /** Kills the connection under the listener's muxer, as a dying transport would. */
  kill: () => void
}

/** Makes a connected pair; `onInbound` replaces queueing of inbound streams. */
export type PairMaker = (onInbound?: (s: MuxedStream, side: 'listener' | 'dialer') => void) => Promise<ConformancePair>

export function muxerConformance (name: string, factory: () => StreamMuxerFactory, options: ConformanceOptions = {}): void {
  const makePair: PairMaker = async (onInbound) => {
    const p = connect(factory(), {}, onInbound)
    return { ...p, kill: () => { p.channels[1].destroy() } }
  }
  runConformance(name, makePair, factory, options)
}

/** The suite over a transport's own connections (no byte channel to re-split). */
export function pairConformance (name: string, makePair: PairMaker, options: ConformanceOptions = {}): void {
  runConformance(name, makePair, undefined, options)
}

function runConformance (name: string, pair: PairMaker, factory: (() => StreamMuxerFactory) | undefined, options: ConformanceOptions): void {
  const receiveWindow = options.receiveWindow ?? 256 * 1024
  const stalledReader = options.stalledReader ?? 'flow-control'

  describe(`${name}: muxer conformance`, { timeout: 60_000, skip: options.skip ?? false }, () => {
    const problems: string[] = []
    const onRejection = (reason: unknown): void => { problems.push(`unhandled rejection: ${String(reason)}`) }
    const onWarning = (w: Error): void => { problems.push(`warning: ${w.name}: ${w.message}`) }
    before(() => {
      process.on('unhandledRejection', onRejection)
      process.on('warning', onWarning)
    })
    after(async () => {
      process.off('unhandledRejection', onRejection)
      process.off('warning', onWarning)
      await options.teardown?.()
    })

    it('opens streams both ways and carries data in both directions', async () => {
      const p = await pair()
      const out = p.dialer.newStream()
      assert.equal(out.direction, 'outbound')
      out.write('ping')
      const inb = await p.nextInbound()
      assert.equal(inb.direction, 'inbound')
      assert.equal(inb.id, out.id, 'both ends name the stream alike')
      inb.end('pong')
      out.end()
      assert.equal((await readAll(inb)).toString(), 'ping')
      assert.equal((await readAll(out)).toString(), 'pong')

      const fromListener = p.listener.newStream()
      fromListener.end('hello dialer')
      const atDialer = await p.nextInbound('dialer')
      assert.notEqual(atDialer.id, out.id)
      assert.equal((await readAll(atDialer)).toString(), 'hello dialer')
      atDialer.end()
      await readAll(fromListener)
      await Promise.all([closedWith(out), closedWith(inb), closedWith(fromListener), closedWith(atDialer)])
      assert.equal(p.dialer.streams.length, 0)
      assert.equal(p.listener.streams.length, 0)
      await p.dialer.close()
    })

    it('half-closes each way: after end() the other side still writes and we read it', async () => {
      const p = await pair()
      // dialer ends first
      const a = p.dialer.newStream()
      a.end('request')
      const b = await p.nextInbound()
      assert.equal((await readAll(b)).toString(), 'request')
      b.write('response part 1, ')
      await tick(2)
      b.end('part 2')
      assert.equal((await readAll(a)).toString(), 'response part 1, part 2')
      await Promise.all([closedWith(a), closedWith(b)])

      // listener ends first
      const c = p.dialer.newStream()
      c.write('x')
      const d = await p.nextInbound()
      d.end('early bye')
      assert.equal((await readAll(c)).toString(), 'early bye')
      c.end('still talking')
      assert.equal((await readAll(d)).toString(), 'xstill talking')
      assert.equal(await closedWith(c), undefined)
      assert.equal(await closedWith(d), undefined)
      await p.dialer.close()
    })

    it('resets both ways: the other side sees ERR_STREAM_RESET', async () => {
      const p = await pair()
      const a = p.dialer.newStream()
      a.write('hi')
      const b = await p.nextInbound()
      const bClosed = closedWith(b)
      a.destroy()
      assert.equal(await closedWith(a), undefined, 'a local destroy() without error is not an error')
      const err = await bClosed
      assert.ok(isLp2pError(err, codes.ERR_STREAM_RESET), `got ${String(err)}`)

      const c = p.dialer.newStream()
      c.write('hi')
      const d = await p.nextInbound()
      const cClosed = closedWith(c)
      const dClosed = closedWith(d)
      const boom = new Error('handler failed')
      d.destroy(boom)
      assert.equal(await dClosed, boom)
      const err2 = await cClosed
      assert.ok(isLp2pError(err2, codes.ERR_STREAM_RESET), `got ${String(err2)}`)
      const lateWrite = await new Promise<Error | null | undefined>((resolve) => { c.write('late', resolve) })
      assert.ok(lateWrite instanceof Error, 'a write after the reset fails')
      await tick(2)
      assert.equal(p.dialer.streams.length, 0)
      assert.equal(p.listener.streams.length, 0)
      await p.dialer.close()
    })

    it('runs 1000 concurrent streams, each echoing its own data', async () => {
      const p = await pair((s) => { s.pipe(s) })
      const n = 1000
      const payloads = Array.from({ length: n }, (_, i) => randomBytes(64 + (i * 37) % 2048))
      const results = await Promise.all(payloads.map(async (data) => {
        const s = p.dialer.newStream()
        s.end(data)
        return await readAll(s)
      }))
      for (let i = 0; i < n; i++) assert.ok(results[i]?.equals(payloads[i] as Buffer), `stream ${i}`)
      await tick(2)
      assert.equal(p.dialer.streams.length, 0)
      await p.dialer.close()
    })

    it('echoes intact when the channel re-splits every write at arbitrary points', { skip: factory === undefined && 'no byte channel under this muxer' }, async () => {
      let seed = 7
      const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
      const chunking = (len: number): number[] => {
        const out: number[] = []
        let left = len
        while (left > 0) { const n = 1 + rand() % 37; out.push(n); left -= n }
        return out
      }
      const p = connect((factory as () => StreamMuxerFactory)(), { chunking }, (s) => { s.pipe(s) })
      const payloads = Array.from({ length: 20 }, (_, i) => randomBytes(1 + i * 997))
      const results = await Promise.all(payloads.map(async (data) => {
        const s = p.dialer.newStream()
        s.end(data)
        return await readAll(s)
      }))
      for (let i = 0; i < payloads.length; i++) assert.ok(results[i]?.equals(payloads[i] as Buffer), `stream ${i}`)
      await p.dialer.close()
    })

    it('keeps memory bounded behind a stalled reader, then delivers everything intact', { skip: stalledReader === 'reset-stream' }, async () => {
      const p = await pair()
      const total = 4 * 1024 * 1024
      const data = randomBytes(total)
      const chunk = 16 * 1024
      const w = p.dialer.newStream()
      w.write(data.subarray(0, chunk))
      const r = await p.nextInbound()
      r.pause()
      const { written, sawFalse } = await writeUntilStalled(w, data, chunk)
      assert.ok(sawFalse, 'write() returned false')
      assert.ok(written < total, 'the writer was stopped before the end')
      await tick(20)
      // Bound: the receive window (all the remote may send unread), plus one write
      // chunk and the writable high-water mark buffered at the writer.
      const bound = receiveWindow + w.writableHighWaterMark + chunk
      const held = r.readableLength + w.writableLength
      assert.ok(r.readableLength <= receiveWindow, `reader holds ${r.readableLength} > window ${receiveWindow}`)
      assert.ok(held <= bound, `buffered ${held} bytes > bound ${bound}`)
      // Another stream still flows while this one is stalled (with flow control), or
      // waits behind it until the reader resumes (a blocked connection).
      const other = p.dialer.newStream()
      other.end('still flowing')
      const otherIn = p.nextInbound()
      if (stalledReader === 'flow-control') {
        await assertStillFlowing(p, otherIn, other)
      } else {
        const early = await Promise.race([otherIn.then(() => true), tick(20).then(() => false)])
        assert.equal(early, false, 'a blocked connection carries no other stream')
      }
      // Resume: everything arrives, in order.
      await resumeAndReceiveAll(r, w, data, written, chunk)
      if (stalledReader !== 'flow-control') await assertStillFlowing(p, otherIn, other)
      r.end()
      await readAll(w)
      await p.dialer.close()
    })

    it('resets a stalled reader\'s stream at the receive window; memory stays bounded and other streams flow', { skip: stalledReader !== 'reset-stream' }, async () => {
      const p = await pair()
      const w = p.dialer.newStream()
      w.write('x')
      const r = await p.nextInbound()
      r.pause()
      const rClosed = closedWith(r)
      const wClosed = closedWith(w)
      // Nothing can stop this writer but the reset: bound the loop well past the window.
      const { maxHeld } = await writeUntilReset(w, r, 64 * receiveWindow)
      const rErr = await rClosed
      assert.ok(isLp2pError(rErr), `the reader's stream fails with an Lp2pError, got ${String(rErr)}`)
      assert.ok(isLp2pError(await wClosed, codes.ERR_STREAM_RESET), 'the writer sees a reset')
      assert.ok(maxHeld <= receiveWindow, `reader held ${maxHeld} > window ${receiveWindow}`)
      await assertStillFlowing(p)
      await p.dialer.close()
    })

    it('transfers 32 MiB both ways at once on one stream (SHA-256)', async () => {
      const size = 32 * 1024 * 1024
      const up = randomBytes(size)
      const down = randomBytes(size)
      const p = await pair()
      const s = p.dialer.newStream()
      const sent = writeAll(s, up)
      const inb = await p.nextInbound()
      const [atListener, atDialer] = await Promise.all([readAll(inb), readAll(s), writeAll(inb, down), sent])
      assert.equal(atListener.byteLength, size)
      assert.equal(sha256(atListener), sha256(up))
      assert.equal(atDialer.byteLength, size)
      assert.equal(sha256(atDialer), sha256(down))
      await p.dialer.close()
    })

    it('survives many streams closing and resetting while data is in flight', async () => {
      const p = await pair((s) => {
        s.on('error', () => {})
        s.pipe(s)
      })
      const n = 200
      const outcomes = await Promise.all(Array.from({ length: n }, async (_, i) => {
        const s = p.dialer.newStream()
        const closed = closedWith(s)
        s.write(randomBytes(8 * 1024))
        if (i % 3 === 0) {
          s.destroy()
        } else if (i % 3 === 1) {
          await tick(i % 5)
          s.destroy()
        } else {
          s.end(randomBytes(4096))
          s.resume()
        }
        return await closed
      }))
      assert.ok(outcomes.every((e) => e === undefined), 'local resets and ends close without error')
      // The remote learns of each reset over the network (a real one for QUIC): wait
      // for it, bounded, rather than for a number of turns.
      for (let i = 0; i < 2000 && p.dialer.streams.length + p.listener.streams.length > 0; i++) await tick(1)
      assert.equal(p.dialer.streams.length, 0)
      assert.equal(p.listener.streams.length, 0)
      const s = p.dialer.newStream()
      s.end('after the storm')
      assert.equal((await readAll(s)).toString(), 'after the storm')
      await p.dialer.close()
      assert.equal(await p.listenerClosed, undefined)
    })

    it('close() refuses new streams and waits for open streams to finish', async () => {
      const p = await pair()
      const s = p.dialer.newStream()
      s.write('open')
      const inb = await p.nextInbound()
      let closed = false
      const closing = p.dialer.close().then(() => { closed = true })
      assert.equal(p.dialer.status, 'closing')
      assert.throws(() => p.dialer.newStream(), (e: unknown) => isLp2pError(e, codes.ERR_MUXER_CLOSED))
      await tick(10)
      assert.equal(closed, false, 'close() waits for the open stream')
      // the stream still works both ways while closing
      inb.write('still here')
      const [fromDialer, fromListener] = await Promise.all([readAll(inb), readAll(s), (async () => { await tick(2); s.end(); inb.end() })()])
      assert.equal(fromDialer.toString(), 'open')
      assert.equal(fromListener.toString(), 'still here')
      await closing
      assert.equal(p.dialer.status, 'closed')
      assert.equal(await p.dialerClosed, undefined)
      assert.equal(await p.listenerClosed, undefined)
      assert.equal(p.listener.status, 'closed')
    })

    it('close() with an aborted signal turns into abort()', async () => {
      const p = await pair()
      const s = p.dialer.newStream()
      s.write('x')
      const inb = await p.nextInbound()
      const inbClosed = closedWith(inb)
      const closed = closedWith(s)
      const ac = new AbortController()
      const closing = p.dialer.close({ signal: ac.signal })
      await tick(2)
      ac.abort()
      await closing
      assert.equal(p.dialer.status, 'closed')
      assert.ok((await closed) !== undefined, 'the stream was reset with an error')
      assert.ok((await inbClosed) !== undefined, 'the remote stream too')
      assert.ok((await p.listenerClosed) !== undefined)
    })

    it('abort() resets every stream on both sides', async () => {
      const p = await pair()
      const local = [p.dialer.newStream(), p.dialer.newStream(), p.dialer.newStream()]
      for (const s of local) s.write('x')
      const remote = [await p.nextInbound(), await p.nextInbound(), await p.nextInbound()]
      const remoteErrors = Promise.all(remote.map(closedWith))
      const localErrors = Promise.all(local.map(closedWith))
      const boom = new Error('shutting down')
      p.dialer.abort(boom)
      assert.equal(p.dialer.status, 'closed')
      for (const e of await localErrors) assert.equal(e, boom)
      for (const e of await remoteErrors) assert.ok(isLp2pError(e, codes.ERR_CONNECTION_CLOSED), `got ${String(e)}`)
      assert.equal(await p.dialerClosed, boom)
      assert.ok(isLp2pError(await p.listenerClosed, codes.ERR_CONNECTION_CLOSED))
      assert.equal(p.dialer.streams.length, 0)
      assert.equal(p.listener.streams.length, 0)
    })

    it('destroys every stream with an error when the channel dies', async () => {
      const p = await pair()
      const out = p.dialer.newStream()
      out.write('x')
      const inb = await p.nextInbound()
      const outErr = closedWith(out)
      const inErr = closedWith(inb)
      p.kill()
      const e1 = await outErr
      const e2 = await inErr
      assert.ok(e1 !== undefined && e2 !== undefined)
      assert.ok(isLp2pError(e1, codes.ERR_CONNECTION_CLOSED) || isLp2pError(e1, codes.ERR_MUXER_CLOSED), `got ${String(e1)}`)
      assert.ok((await p.dialerClosed) !== undefined)
      assert.ok((await p.listenerClosed) !== undefined)
      assert.equal(p.dialer.status, 'closed')
      assert.throws(() => p.dialer.newStream(), (e: unknown) => isLp2pError(e, codes.ERR_MUXER_CLOSED))
    })

    it('raised no unhandled rejection and no listener-leak warning', async () => {
      await tick(5)
      assert.deepEqual(problems, [])
    })
  })
}
