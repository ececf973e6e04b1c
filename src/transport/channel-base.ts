/**
 * The inbound half shared by every {@link ByteChannel} implementation: one handler,
 * in-order delivery, bytes held while no handler is attached or while paused,
 * `unshift`, and end/close delivered after the data before them.
 *
 * Held bytes are bounded by the source: whenever delivery stops (no handler, or
 * paused) the subclass is asked to pause its source (`pauseSource`), so at most the
 * chunks already in flight are held. Subclasses provide the sending half.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel, ByteChannelHandler } from '../interfaces/channel.js'

export abstract class ChannelBase implements ByteChannel {
  readonly remoteAddr: Multiaddr
  readonly localAddr: Multiaddr | undefined

  #handler: ByteChannelHandler | undefined
  #held: Uint8Array[] = []
  #heldBytes = 0
  #endPending = false
  #endDelivered = false
  #closePending = false
  #closeError: Error | undefined
  #closed = false
  #paused = false
  #flushScheduled = false
  #sourcePaused = false

  constructor (remoteAddr: Multiaddr, localAddr: Multiaddr | undefined) {
    this.remoteAddr = remoteAddr
    this.localAddr = localAddr
  }

  /** True once the close has been delivered, or `destroy` was called. */
  get closed (): boolean {
    return this.#closed || this.#closePending
  }

  /** Bytes received but not yet handed to a handler. */
  get heldBytes (): number {
    return this.#heldBytes
  }

  attach (handler: ByteChannelHandler): void {
    this.#handler = handler
    if (this.#closed) {
      // Attached after the close was delivered to someone else (or to nobody): this
      // handler must learn it too, or it would wait forever.
      const err = this.#closeError
      queueMicrotask(() => {
        if (this.#handler === handler) {
          this.#handler = undefined
          handler.onClose(err)
        }
      })
      return
    }
    this.#scheduleFlush()
  }

  detach (): void {
    this.#handler = undefined
    this.#updateSource()
  }

  unshift (chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return
    this.#held.unshift(chunk)
    this.#heldBytes += chunk.byteLength
    this.#scheduleFlush()
  }

  pause (): void {
    this.#paused = true
    this.#updateSource()
  }

  resume (): void {
    if (!this.#paused) return
    this.#paused = false
    this.#scheduleFlush()
  }

  abstract write (chunk: Uint8Array): boolean
  abstract writev (chunks: readonly Uint8Array[]): boolean
  abstract end (): void
  abstract destroy (err?: Error): void

  // --- for subclasses ------------------------------------------------------------

  /** Stop reading from the source (held bytes would otherwise grow). */
  protected abstract pauseSource (): void
  /** Start reading from the source again. */
  protected abstract resumeSource (): void
  /** Called whenever every held byte has been delivered (memory pipes use it for drain). */
  protected onHeldDrained (): void {}

  /** Inbound bytes from the source. */
  protected deliverData (chunk: Uint8Array): void {
    if (this.#closed || this.#endPending || chunk.byteLength === 0) return
    const handler = this.#handler
    if (handler !== undefined && !this.#paused && this.#held.length === 0 && !this.#flushScheduled) {
      handler.onData(chunk)
      return
    }
    this.#held.push(chunk)
    this.#heldBytes += chunk.byteLength
    this.#updateSource()
    this.#scheduleFlush()
  }

  /** The source ended (remote half-close). */
  protected deliverEnd (): void {
    if (this.#closed || this.#endPending) return
    this.#endPending = true
    this.#scheduleFlush()
  }

  /** The channel closed; final. */
  protected deliverClose (err?: Error): void {
    if (this.#closed || this.#closePending) return
    this.#closePending = true
    this.#closeError = err
    this.#scheduleFlush()
  }

  /** Drops bytes not yet delivered (a local destroy: nobody may see them now). */
  protected discardHeld (): void {
    this.#held = []
    this.#heldBytes = 0
  }

  /** Tell the handler that writes may continue. */
  protected deliverDrain (): void {
    if (!this.closed) this.#handler?.onDrain()
  }

  // --- internals -----------------------------------------------------------------

  #scheduleFlush (): void {
    if (this.#flushScheduled || this.#handler === undefined || this.#paused) return
    if (this.#held.length === 0 && !this.#endPending && !this.#closePending) {
      this.#updateSource()
      return
    }
    this.#flushScheduled = true
    queueMicrotask(() => {
      this.#flushScheduled = false
      this.#flush()
    })
  }

  #flush (): void {
    while (this.#held.length > 0) {
      const handler = this.#handler
      if (handler === undefined || this.#paused) {
        this.#updateSource()
        return
      }
      const chunk = this.#held.shift() as Uint8Array
      this.#heldBytes -= chunk.byteLength
      handler.onData(chunk)
    }
    this.onHeldDrained()
    const handler = this.#handler
    if (handler === undefined || this.#paused) return
    if (this.#endPending && !this.#endDelivered) {
      this.#endDelivered = true
      handler.onEnd()
    }
    if (this.#closePending && !this.#closed) {
      this.#closed = true
      const h = this.#handler
      this.#handler = undefined
      h?.onClose(this.#closeError)
      return
    }
    this.#updateSource()
  }

  #updateSource (): void {
    const shouldPause = !this.#closed && (this.#handler === undefined || this.#paused || this.#held.length > 0)
    if (shouldPause && !this.#sourcePaused) {
      this.#sourcePaused = true
      this.pauseSource()
    } else if (!shouldPause && this.#sourcePaused) {
      this.#sourcePaused = false
      this.resumeSource()
    }
  }
}
