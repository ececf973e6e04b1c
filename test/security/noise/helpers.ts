/** Shared helpers for the Noise tests: handshake pairs, a channel endpoint that reads and writes. */
import { MemoryChannel, type MemoryChannelOptions } from '../../../src/transport/memory-channel.js'
import { generateKeyPair } from '../../../src/identity/index.js'
import type { ByteChannel, ByteChannelHandler } from '../../../src/interfaces/channel.js'
import type { PeerId, PrivateKey } from '../../../src/interfaces/keys.js'
import type { SecureResult } from '../../../src/interfaces/security.js'
import { noise, type NoiseOptions } from '../../../src/security/noise/index.js'
import { isLp2pError, type ErrorCode } from '../../../src/errors.js'
import type { SecurePair } from '../../helpers/secure-pair.js'

export const code = (c: ErrorCode) => (e: unknown): boolean => isLp2pError(e, c)

/** A cycling re-chunker for MemoryChannel from a list of sizes (fast-check input). */
export function chunker (sizes: number[]): ((length: number) => number[]) | undefined {
  if (sizes.length === 0) return undefined
  let i = 0
  return (length) => {
    const out: number[] = []
    let covered = 0
    while (covered < length) {
      const s = sizes[i++ % sizes.length] as number
      out.push(s)
      covered += s
    }
    return out
  }
}

export interface PairOptions {
  chunking?: MemoryChannelOptions['chunking']
  initiatorMuxers?: string[]
  responderMuxers?: string[]
  remotePeer?: PeerId
  initiatorKey?: PrivateKey
  responderKey?: PrivateKey
  noiseOptions?: NoiseOptions
}

export type Pair = SecurePair

/** Runs a full handshake over a fresh MemoryChannel pair. */
export async function handshakePair (options: PairOptions = {}): Promise<Pair> {
  const memOptions: MemoryChannelOptions = {}
  if (options.chunking !== undefined) memOptions.chunking = options.chunking
  const [rawInitiator, rawResponder] = MemoryChannel.pair(memOptions)
  const initiatorKey = options.initiatorKey ?? generateKeyPair('Ed25519')
  const responderKey = options.responderKey ?? generateKeyPair('Ed25519')
  const [initiator, responder] = await Promise.all([
    noise(options.noiseOptions).secureOutbound(rawInitiator, {
      localKey: initiatorKey,
      ...(options.initiatorMuxers !== undefined ? { muxers: options.initiatorMuxers } : {}),
      ...(options.remotePeer !== undefined ? { remotePeer: options.remotePeer } : {})
    }),
    noise(options.noiseOptions).secureInbound(rawResponder, {
      localKey: responderKey,
      ...(options.responderMuxers !== undefined ? { muxers: options.responderMuxers } : {})
    })
  ])
  return { initiator, responder, rawInitiator, rawResponder, initiatorKey, responderKey }
}

/** A channel consumer that collects what arrives and can wait for drain. */
export class Endpoint implements ByteChannelHandler {
  readonly chunks: Buffer[] = []
  received = 0
  ended = false
  closed = false
  closeError: Error | undefined
  readonly #waiters: Array<{ n: number, resolve: () => void }> = []
  #drain: (() => void) | undefined
  readonly closedP: Promise<Error | undefined>
  #resolveClosed!: (err: Error | undefined) => void

  constructor (readonly channel: ByteChannel) {
    this.closedP = new Promise((resolve) => { this.#resolveClosed = resolve })
    channel.attach(this)
  }

  bytes (): Buffer {
    return Buffer.concat(this.chunks)
  }

  async waitFor (n: number): Promise<Buffer> {
    if (this.received < n) await new Promise<void>((resolve) => this.#waiters.push({ n, resolve }))
    return this.bytes()
  }

  /** Writes `data` in pieces of the given sizes, honouring backpressure. */
  async send (data: Uint8Array, pieceSizes: number[] = [16384]): Promise<void> {
    let off = 0
    let i = 0
    while (off < data.length) {
      const n = Math.max(1, pieceSizes[i++ % pieceSizes.length] as number)
      const ok = this.channel.write(data.subarray(off, off + n))
      off += n
      if (!ok) await new Promise<void>((resolve) => { this.#drain = resolve })
    }
  }

  onData (chunk: Uint8Array): void {
    this.chunks.push(Buffer.from(chunk))
    this.received += chunk.byteLength
    for (const w of this.#waiters.slice()) {
      if (this.received >= w.n) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }

  onEnd (): void { this.ended = true }

  onClose (err?: Error): void {
    this.closed = true
    this.closeError = err
    this.#resolveClosed(err)
  }

  onDrain (): void {
    const d = this.#drain
    this.#drain = undefined
    d?.()
  }
}
