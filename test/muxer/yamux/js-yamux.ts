/**
 * Loads js-libp2p's yamux (@chainsafe/libp2p-yamux 8, as in js-libp2p 3.3.11) and runs
 * it over one of our ByteChannels, through a small adapter to the
 * `MultiaddrConnection` shape its muxer consumes. Used by the interop test and the
 * benchmark.
 *
 * js-libp2p 3 needs `Promise.withResolvers` (Node 22+): polyfilled before the js
 * modules load.
 */
import type { ByteChannel } from '../../../src/interfaces/channel.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
export type JsStream = any
export type JsMuxer = any

export interface JsYamux {
  /** A js muxer on `channel`; `direction` is the js side's. */
  create: (channel: ByteChannel, direction: 'inbound' | 'outbound', init?: Record<string, unknown>) => JsMuxer
}

export async function loadJsYamux (): Promise<JsYamux> {
  if (typeof (Promise as any).withResolvers !== 'function') {
    (Promise as any).withResolvers = function withResolvers<T> () {
      let resolve!: (v: T) => void
      let reject!: (e: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  }
  const { yamux } = await import('@chainsafe/libp2p-yamux') as any
  const { StreamMessageEvent } = await import('@libp2p/interface') as any
  const { defaultLogger } = await import('@libp2p/logger') as any

  /** Our ByteChannel seen as the js `MultiaddrConnection`. */
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

  return {
    create: (channel, direction, init = {}) => yamux({ enableKeepAlive: false, ...init })().createStreamMuxer(new MaConnAdapter(channel, direction))
  }
}

/** Reads a js stream to its end. */
export async function jsReadAll (s: JsStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of s) parts.push(Buffer.from(chunk.subarray()))
  return Buffer.concat(parts)
}

/** Writes `data` to a js stream honouring its backpressure, then closes it. */
export async function jsWriteAll (s: JsStream, data: Uint8Array, chunk = 64 * 1024): Promise<void> {
  for (let off = 0; off < data.byteLength; off += chunk) {
    if (!s.send(data.subarray(off, off + chunk))) await s.onDrain()
  }
  await s.close()
}

/** Echoes a js stream back to its sender. */
export function jsEcho (s: JsStream): void {
  void (async () => {
    try {
      for await (const chunk of s) {
        if (!s.send(chunk)) await s.onDrain()
      }
      await s.close()
    } catch {}
  })()
}
