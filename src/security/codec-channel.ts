/**
 * A {@link ByteChannel} that transforms everything passing through it with a
 * {@link ChannelCodec}: plaintext in and out above, the codec's wire bytes over the
 * channel below. Noise transport messages (`noise/noise-channel.ts`), SECIO packets
 * (`secio/secio-channel.ts`) and the private network's XSalsa20 stream
 * (`pnet/pnet-channel.ts`) are each one codec on this one channel.
 *
 * - `write`/`writev` hand the codec all buffers of the call at once and give the lower
 *   channel ONE write (one buffer, or one `writev`). The return value is the lower
 *   channel's, and its `onDrain` passes up, so backpressure is the socket's.
 * - Received bytes go through the codec as they arrive; what it releases is delivered
 *   in order. A codec error (a forged or corrupted message) destroys the channel with
 *   that error: nothing that follows can be trusted. Plaintext the codec released
 *   before the failing message in the same chunk is still delivered.
 * - `end()` half-closes the lower channel; an end from below inside a message is
 *   ERR_INVALID_MESSAGE (truncation), else it passes up. `pause`/`resume` reach the
 *   lower channel; a close below closes this channel.
 *
 * Driver-free: it touches only the channel below, never a socket or a timer.
 */
import { codes, Lp2pError } from '../errors.js'
import type { ByteChannel, ByteChannelHandler } from '../interfaces/channel.js'
import { ChannelBase } from '../transport/channel-base.js'

/** The pure transformation of one channel, both directions. */
export interface ChannelCodec {
  /** Protocol name for error messages ("Noise", "SECIO", ...). */
  readonly name: string
  /**
   * Wire bytes for `chunks` (plaintext, `total` bytes in all), as one or more buffers
   * to write in order. Must not keep or modify `chunks`. Throwing ends the channel.
   */
  encode (chunks: readonly Uint8Array[], total: number): Uint8Array[]
  /**
   * Consumes received wire bytes (the chunk is the codec's to keep or modify) and
   * appends released plaintext to `out`. Throws a typed error for a bad message; the
   * codec is unusable afterwards.
   */
  decode (chunk: Uint8Array, out: Uint8Array[]): void
  /** True when a message has been started but not completed. */
  readonly partial: boolean
}

/** Sum of the byte lengths of `chunks`. */
export function totalLength (chunks: readonly Uint8Array[]): number {
  let n = 0
  for (let i = 0; i < chunks.length; i++) n += (chunks[i] as Uint8Array).byteLength
  return n
}

export class CodecChannel extends ChannelBase {
  readonly #lower: ByteChannel
  readonly #codec: ChannelCodec
  /** Reused output list of the codec (emptied after each chunk). */
  readonly #plaintext: Uint8Array[] = []
  #ended = false
  #failed = false

  /**
   * Takes over `lower` (attaches to it). Bytes a handshake read past its last message
   * must already be back in `lower` (`unshift`), so they are decoded first.
   */
  constructor (lower: ByteChannel, codec: ChannelCodec) {
    super(lower.remoteAddr, lower.localAddr)
    this.#lower = lower
    this.#codec = codec
    lower.attach(new CodecChannel.#LowerHandler(this))
  }

  /**
   * What the channel below calls: one small object with shared prototype methods
   * rather than four closures per connection (each closure also costs a property
   * dictionary under tsx, whose esbuild `keepNames` renames arrow functions).
   */
  static readonly #LowerHandler = class LowerHandler implements ByteChannelHandler {
    readonly #channel: CodecChannel
    constructor (channel: CodecChannel) { this.#channel = channel }
    onData (chunk: Uint8Array): void { this.#channel.#onData(chunk) }
    onEnd (): void { this.#channel.onLowerEnd() }
    onClose (err?: Error): void { this.#channel.onLowerClose(err) }
    onDrain (): void { this.#channel.deliverDrain() }
  }

  /** The channel below (for subclasses that write outside the codec, e.g. a nonce). */
  protected get lower (): ByteChannel {
    return this.#lower
  }

  write (chunk: Uint8Array): boolean {
    return this.writev([chunk])
  }

  writev (chunks: readonly Uint8Array[]): boolean {
    if (this.#ended || this.closed) return true
    const total = totalLength(chunks)
    if (total === 0) return true
    let wire: Uint8Array[]
    try {
      wire = this.#codec.encode(chunks, total)
    } catch (err) {
      // Only an exhausted session gets here (a Noise nonce): the channel is over.
      this.destroy(err as Error)
      return true
    }
    return wire.length === 1 ? this.#lower.write(wire[0] as Uint8Array) : this.#lower.writev(wire)
  }

  end (): void {
    if (this.#ended || this.closed) return
    this.#ended = true
    this.#lower.end()
  }

  destroy (err?: Error): void {
    if (this.closed) return
    this.discardHeld()
    this.#lower.destroy(err)
    this.deliverClose(err)
  }

  protected pauseSource (): void {
    this.#lower.pause()
  }

  protected resumeSource (): void {
    this.#lower.resume()
  }

  /** The remote half-closed below. Subclasses may judge it first (then call super). */
  protected onLowerEnd (): void {
    if (this.#failed) return
    if (this.#codec.partial) {
      this.fail(new Lp2pError(codes.ERR_INVALID_MESSAGE, `the remote ended the connection inside a ${this.#codec.name} message`))
      return
    }
    this.deliverEnd()
  }

  /** The channel below closed. */
  protected onLowerClose (err?: Error): void {
    this.deliverClose(err)
  }

  /** Destroys the channel with `err` and ignores everything received after it. */
  protected fail (err: Error): void {
    this.#failed = true
    this.destroy(err)
  }

  #onData (chunk: Uint8Array): void {
    if (this.#failed) return
    const plaintext = this.#plaintext
    let error: Error | undefined
    try {
      this.#codec.decode(chunk, plaintext)
    } catch (err) {
      error = err as Error
    }
    for (let i = 0; i < plaintext.length; i++) this.deliverData(plaintext[i] as Uint8Array)
    plaintext.length = 0
    if (error !== undefined) this.fail(error)
  }
}
