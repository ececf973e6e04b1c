/**
 * Reading and writing a muxed stream in tests: to its end, in pieces honouring
 * backpressure, until a writer stalls or is reset, and waiting for its close (shared by
 * the muxer conformance suite and the muxer driver tests). Timing is never asserted:
 * "stalled" means no 'drain' for a number of event-loop turns.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { MuxedStream } from '../../src/interfaces/muxer.js'
import { tick } from '../helpers/channel.js'

/**
 * Reads a stream to its end, without destroying it (a `for await` loop would destroy
 * the Duplex at the end, resetting a write side still open).
 */
export async function readAll (s: MuxedStream): Promise<Buffer> {
  return await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    const onError = (err: Error): void => { cleanup(); reject(err) }
    const onClose = (): void => { cleanup(); reject(new Error('closed before the end')) }
    const onEnd = (): void => { cleanup(); resolve(Buffer.concat(chunks)) }
    const onData = (c: Buffer): void => { chunks.push(c) }
    const cleanup = (): void => {
      s.off('data', onData)
      s.off('end', onEnd)
      s.off('error', onError)
      s.off('close', onClose)
    }
    s.on('data', onData)
    s.once('end', onEnd)
    s.once('error', onError)
    s.once('close', onClose)
    s.resume()
  })
}

/** Resolves with the error the stream is destroyed with (undefined: closed cleanly). */
export async function closedWith (s: MuxedStream): Promise<Error | undefined> {
  // `closed` turns true before 'error' and 'close' are emitted (next tick): look at
  // whether 'close' was emitted already.
  const state = (s as unknown as { _readableState: { closeEmitted: boolean } })._readableState
  if (state.closeEmitted) return s.errored ?? undefined
  let error: Error | undefined
  s.on('error', (e) => { error = e })
  // not events.once(): it rejects on 'error'
  await new Promise((resolve) => s.once('close', resolve))
  return error
}

/** Writes `data` in `chunkSize` pieces honouring backpressure, then ends. */
export async function writeAll (s: MuxedStream, data: Uint8Array, chunkSize = 64 * 1024): Promise<void> {
  for (let off = 0; off < data.byteLength; off += chunkSize) {
    if (!s.write(data.subarray(off, Math.min(off + chunkSize, data.byteLength)))) await once(s, 'drain')
  }
  s.end()
}

/** Resolves at 'drain' or 'close', whichever comes first, leaving no listener behind. */
async function drainOrClose (s: MuxedStream): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => { s.off('drain', done); s.off('close', done); resolve() }
    s.on('drain', done).on('close', done)
  })
}

/**
 * Writes `data` to `w` in `chunk`-byte pieces (the first piece is already written)
 * until the writer is stalled: write() returned false and no 'drain' came for 20
 * turns. `stalled` false: all of `data` went out.
 */
export async function writeUntilStalled (w: MuxedStream, data: Uint8Array, chunk: number): Promise<{ written: number, sawFalse: boolean, stalled: boolean }> {
  let written = chunk
  let sawFalse = false
  while (written < data.byteLength) {
    const ok = w.write(data.subarray(written, written + chunk))
    written += chunk
    if (!ok) {
      sawFalse = true
      const drained = await Promise.race([once(w, 'drain').then(() => true), tick(20).then(() => false)])
      if (!drained) return { written, sawFalse, stalled: true }
    }
  }
  return { written, sawFalse, stalled: false }
}

/**
 * Writes 16 KiB chunks to `w` as fast as the connection takes them until `w` is
 * destroyed (a reset is the only thing that can stop it) or `bound` bytes are
 * written. Returns the bytes written and the most `r` held unread meanwhile.
 */
export async function writeUntilReset (w: MuxedStream, r: MuxedStream, bound: number): Promise<{ written: number, maxHeld: number }> {
  const chunk = randomBytes(16 * 1024)
  let written = 0
  let maxHeld = 0
  while (!w.destroyed && written < bound) {
    if (!w.write(chunk)) await drainOrClose(w)
    written += chunk.byteLength
    maxHeld = Math.max(maxHeld, r.readableLength)
  }
  return { written, maxHeld }
}

/**
 * A stalled reader `r` resumes while `w` writes the rest of `data` (from `written`, in
 * `chunk` pieces) and ends: all of `data` arrives, in order (SHA-256).
 */
export async function resumeAndReceiveAll (r: MuxedStream, w: MuxedStream, data: Uint8Array, written: number, chunk: number): Promise<void> {
  const received = readAll(r)
  r.resume()
  await writeAll(w, data.subarray(written), chunk)
  const got = await received
  assert.equal(got.byteLength, data.byteLength)
  assert.equal(sha256(got), sha256(data))
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
