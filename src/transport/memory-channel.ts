/**
 * A connected pair of in-memory {@link ByteChannel}s: what one end writes, the other
 * receives, asynchronously (on a microtask) and in order, as a network would deliver
 * it. Used by the memory transport and by every layer's tests.
 *
 * Backpressure is real: a writer sees `false` once the bytes in flight plus the bytes
 * the reader holds unread (paused, or no handler) reach `highWaterMark`, and gets
 * `onDrain` when the reader has taken them. Half-close and destroy propagate.
 *
 * `chunking` lets tests re-split every write at arbitrary boundaries (for decoders
 * fed in arbitrary pieces).
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { ChannelBase } from './channel-base.js'
import { codes, Lp2pError } from '../errors.js'

export interface MemoryChannelOptions {
  /** Bytes in flight before `write()` returns false. Default 64 KiB, like a socket. */
  highWaterMark?: number
  /** Re-splits each written buffer into the sizes this returns (tests). */
  chunking?: (length: number) => number[]
  /** Addresses the two ends report. */
  addrA?: Multiaddr
  addrB?: Multiaddr
}

/** Default in-flight bound, matching a Node socket's default writable high-water mark. */
const DEFAULT_HIGH_WATER_MARK = 64 * 1024

export class MemoryChannel extends ChannelBase {
  #peer!: MemoryChannel
  readonly #hwm: number
  readonly #chunking: ((length: number) => number[]) | undefined
  #inFlight: Uint8Array[] = []
  #inFlightBytes = 0
  #sendScheduled = false
  #ended = false
  #needDrain = false
  #destroyed = false

  constructor (remoteAddr: Multiaddr, localAddr: Multiaddr, options: MemoryChannelOptions) {
    super(remoteAddr, localAddr)
    this.#hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    this.#chunking = options.chunking
  }

  /** Creates two connected ends: `a` writes to `b` and `b` to `a`. */
  static pair (options: MemoryChannelOptions = {}): [MemoryChannel, MemoryChannel] {
    const addrA = options.addrA ?? multiaddr('/memory/a')
    const addrB = options.addrB ?? multiaddr('/memory/b')
    const a = new MemoryChannel(addrB, addrA, options)
    const b = new MemoryChannel(addrA, addrB, options)
    a.#peer = b
    b.#peer = a
    return [a, b]
  }

  write (chunk: Uint8Array): boolean {
    return this.writev([chunk])
  }

  writev (chunks: readonly Uint8Array[]): boolean {
    if (this.#ended || this.closed) return true
    for (const c of chunks) {
      if (c.byteLength === 0) continue
      // Copy: the writer may reuse its buffer once write() returns, as with a socket.
      const copy = Uint8Array.prototype.slice.call(c)
      if (this.#chunking === undefined) {
        this.#inFlight.push(copy)
      } else {
        let off = 0
        for (const size of this.#chunking(copy.byteLength)) {
          if (off >= copy.byteLength) break
          const n = Math.max(1, Math.min(size, copy.byteLength - off))
          this.#inFlight.push(copy.subarray(off, off + n))
          off += n
        }
        if (off < copy.byteLength) this.#inFlight.push(copy.subarray(off))
      }
      this.#inFlightBytes += copy.byteLength
    }
    this.#scheduleSend()
    const ok = this.#inFlightBytes + this.#peer.heldBytes < this.#hwm
    if (!ok) this.#needDrain = true
    return ok
  }

  end (): void {
    if (this.#ended || this.closed) return
    this.#ended = true
    this.#scheduleSend()
  }

  destroy (err?: Error): void {
    if (this.#destroyed) return
    this.#destroyed = true
    // As with a TCP socket whose bytes already reached the kernel: what was written
    // before the destroy still arrives (and the FIN of an earlier end()), then the close.
    const written = this.#inFlight
    this.#inFlight = []
    this.#inFlightBytes = 0
    this.discardHeld()
    this.deliverClose(err)
    const peer = this.#peer
    const ended = this.#ended
    queueMicrotask(() => {
      for (const c of written) peer.deliverData(c)
      // end() then destroy(): the FIN went out before the close, as on a socket.
      if (ended) peer.deliverEnd()
      peer.#remoteDestroyed()
    })
  }

  protected pauseSource (): void {}

  protected resumeSource (): void {
    // Held bytes were taken; the writer on the other side may continue.
    this.#peer.#checkDrain()
  }

  protected override onHeldDrained (): void {
    this.#peer.#checkDrain()
  }

  #remoteDestroyed (): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#inFlight = []
    this.#inFlightBytes = 0
    this.deliverClose(new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'the remote end was destroyed'))
  }

  #scheduleSend (): void {
    if (this.#sendScheduled) return
    this.#sendScheduled = true
    queueMicrotask(() => {
      this.#sendScheduled = false
      this.#send()
    })
  }

  #send (): void {
    const peer = this.#peer
    if (this.#destroyed) return
    const chunks = this.#inFlight
    this.#inFlight = []
    this.#inFlightBytes = 0
    for (const c of chunks) peer.deliverData(c)
    if (this.#ended) {
      peer.deliverEnd()
      // Both directions ended: the pair is fully closed, as a TCP connection would be.
      if (peer.#ended) {
        this.#closeBoth()
      }
    }
    this.#checkDrain()
  }

  #closeBoth (): void {
    const peer = this.#peer
    queueMicrotask(() => {
      this.#destroyed = true
      peer.#destroyed = true
      this.deliverClose()
      peer.deliverClose()
    })
  }

  #checkDrain (): void {
    if (!this.#needDrain) return
    if (this.#inFlightBytes + this.#peer.heldBytes < this.#hwm) {
      this.#needDrain = false
      this.deliverDrain()
    }
  }
}
