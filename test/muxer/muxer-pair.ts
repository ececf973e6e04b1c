/**
 * Two stream muxers of one factory connected by a pair of in-memory channels
 * (src/transport/memory-channel.ts), with their inbound streams queued and their
 * `onClose` errors kept: the setup of the muxer conformance suite (conformance.ts)
 * and of the muxer driver tests.
 */
import assert from 'node:assert/strict'
import type { MuxedStream, StreamMuxer, StreamMuxerFactory } from '../../src/interfaces/muxer.js'
import { MemoryChannel, type MemoryChannelOptions } from '../../src/transport/memory-channel.js'
import { readAll } from './stream-io.js'

export interface MuxerPair {
  dialer: StreamMuxer
  listener: StreamMuxer
  channels: [MemoryChannel, MemoryChannel]
  /** The next stream the listener (or dialer) accepted. */
  nextInbound: (side?: 'listener' | 'dialer') => Promise<MuxedStream>
  /** Resolve with the error each muxer's onClose got (undefined: graceful). */
  dialerClosed: Promise<Error | undefined>
  listenerClosed: Promise<Error | undefined>
}

/** Two muxers connected by a memory channel pair; the dialer is `outbound`. */
export function connect (factory: StreamMuxerFactory, options: MemoryChannelOptions = {}, onInbound?: (s: MuxedStream, side: 'listener' | 'dialer') => void): MuxerPair {
  const [a, b] = MemoryChannel.pair(options)
  const queues = { listener: new AsyncQueue<MuxedStream>(), dialer: new AsyncQueue<MuxedStream>() }
  let dialerClose!: (e: Error | undefined) => void
  let listenerClose!: (e: Error | undefined) => void
  const dialerClosed = new Promise<Error | undefined>((resolve) => { dialerClose = resolve })
  const listenerClosed = new Promise<Error | undefined>((resolve) => { listenerClose = resolve })
  const make = (ch: MemoryChannel, side: 'listener' | 'dialer'): StreamMuxer => factory.createStreamMuxer(ch, {
    direction: side === 'dialer' ? 'outbound' : 'inbound',
    onIncomingStream: (s) => {
      if (onInbound !== undefined) onInbound(s, side)
      else queues[side].push(s)
    },
    onClose: (err) => { (side === 'dialer' ? dialerClose : listenerClose)(err) }
  })
  return {
    dialer: make(a, 'dialer'),
    listener: make(b, 'listener'),
    channels: [a, b],
    nextInbound: async (side = 'listener') => await queues[side].next(),
    dialerClosed,
    listenerClosed
  }
}

/** A new stream from the dialer to the listener carries a message both ways to its end. */
export async function assertStillFlowing (p: Pick<MuxerPair, 'dialer' | 'nextInbound'>, inbound: Promise<MuxedStream> = p.nextInbound(), other?: MuxedStream, message = 'still flowing'): Promise<void> {
  if (other === undefined) {
    other = p.dialer.newStream()
    other.end(message)
  }
  const s = await inbound
  assert.equal((await readAll(s)).toString(), message)
  s.end()
  await readAll(other)
}

/** A minimal async FIFO. */
class AsyncQueue<T> {
  #items: T[] = []
  #waiters: Array<(v: T) => void> = []
  push (v: T): void {
    const w = this.#waiters.shift()
    if (w !== undefined) w(v)
    else this.#items.push(v)
  }

  async next (): Promise<T> {
    if (this.#items.length > 0) return this.#items.shift() as T
    return await new Promise<T>((resolve) => this.#waiters.push(resolve))
  }
}
