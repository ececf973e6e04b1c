/** Test helpers for ByteChannels: collect what a channel delivers. */
import type { ByteChannel, ByteChannelHandler } from '../../src/interfaces/channel.js'

export interface Collector extends ByteChannelHandler {
  chunks: Uint8Array[]
  ended: boolean
  closed: boolean
  closeError: Error | undefined
  drains: number
  bytes (): Buffer
  /** Resolves once the total received reaches `n` bytes. */
  waitFor (n: number): Promise<Buffer>
  /** Resolves at onClose. */
  closedP: Promise<Error | undefined>
}

export function collect (channel?: ByteChannel): Collector {
  let resolveClose!: (e: Error | undefined) => void
  const closedP = new Promise<Error | undefined>((resolve) => { resolveClose = resolve })
  const waiters: Array<{ n: number, resolve: (b: Buffer) => void }> = []
  let total = 0
  const c: Collector = {
    chunks: [],
    ended: false,
    closed: false,
    closeError: undefined,
    drains: 0,
    closedP,
    bytes: () => Buffer.concat(c.chunks),
    waitFor: async (n) => {
      if (total >= n) return c.bytes()
      return await new Promise((resolve) => waiters.push({ n, resolve }))
    },
    onData (chunk) {
      c.chunks.push(chunk)
      total += chunk.byteLength
      for (const w of waiters.slice()) {
        if (total >= w.n) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(c.bytes())
        }
      }
    },
    onEnd () { c.ended = true },
    onClose (err) {
      c.closed = true
      c.closeError = err
      resolveClose(err)
    },
    onDrain () { c.drains++ }
  }
  channel?.attach(c)
  return c
}

/** Resolves after pending microtasks and one macrotask turn. */
export async function tick (n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}
