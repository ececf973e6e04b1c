/**
 * The transport phase of noise-libp2p (`specs/noise.md`, "Encryption and I/O") as a
 * {@link ByteChannel}: plaintext in and out above, framed ChaCha20-Poly1305 messages
 * over the raw channel below.
 *
 * - `write`/`writev` seal into as few messages as fit (65519 plaintext bytes each) and
 *   hand the lower channel ONE write per call: one buffer when everything is small,
 *   else one `writev` of a few buffers (`transport-codec.ts`). The return value is the
 *   lower channel's, and its `onDrain` passes up, so backpressure is the socket's.
 * - Received bytes are decrypted as they arrive (`transport-decoder.ts`); a message's
 *   plaintext is delivered, in order, once its tag has verified. A message that fails
 *   authentication destroys the channel with ERR_DECRYPTION_FAILED: after a forged or
 *   corrupted message nothing that follows can be trusted (and Noise nonces cannot
 *   skip one).
 * - `end()` half-closes the lower channel; `pause`/`resume` (through ChannelBase)
 *   pause and resume the lower channel; a close below closes this channel.
 *
 * Driver-free: it touches only the channel below, never a socket or a timer.
 */
import { codes, Lp2pError } from '../../errors.js'
import type { ByteChannel, ByteChannelHandler } from '../../interfaces/channel.js'
import { ChannelBase } from '../../transport/channel-base.js'
import type { CipherState } from './cipher-state.js'
import type { XXTransportKeys } from './handshake-xx.js'
import { sealFrames, totalLength } from './transport-codec.js'
import { TransportDecoder } from './transport-decoder.js'

export class NoiseChannel extends ChannelBase {
  readonly #lower: ByteChannel
  readonly #send: CipherState
  readonly #decoder: TransportDecoder
  /** Reused output list of the decoder (emptied after each chunk). */
  readonly #plaintext: Buffer[] = []
  #ended = false
  #failed = false

  /**
   * Takes over `lower` (attaches to it). Bytes the handshake read past its last message
   * must already be back in `lower` (`unshift`), so they are decrypted first.
   */
  constructor (lower: ByteChannel, keys: XXTransportKeys) {
    super(lower.remoteAddr, lower.localAddr)
    this.#lower = lower
    this.#send = keys.send
    this.#decoder = new TransportDecoder(keys.receive)
    lower.attach(new NoiseChannel.#LowerHandler(this))
  }

  /**
   * What the channel below calls: one small object with shared prototype methods
   * rather than four closures per connection (each closure also costs a property
   * dictionary under tsx, whose esbuild `keepNames` renames arrow functions).
   */
  static readonly #LowerHandler = class LowerHandler implements ByteChannelHandler {
    readonly #channel: NoiseChannel
    constructor (channel: NoiseChannel) { this.#channel = channel }
    onData (chunk: Uint8Array): void { this.#channel.#onData(chunk) }
    onEnd (): void { this.#channel.#onEnd() }
    onClose (err?: Error): void { this.#channel.deliverClose(err) }
    onDrain (): void { this.#channel.deliverDrain() }
  }

  write (chunk: Uint8Array): boolean {
    return this.writev([chunk])
  }

  writev (chunks: readonly Uint8Array[]): boolean {
    if (this.#ended || this.closed) return true
    const total = totalLength(chunks)
    if (total === 0) return true
    let sealed: Buffer[]
    try {
      sealed = sealFrames(this.#send, chunks, total)
    } catch (err) {
      // Only nonce exhaustion gets here: the session is over (noise.md, "Encryption and I/O").
      this.destroy(err as Error)
      return true
    }
    return sealed.length === 1 ? this.#lower.write(sealed[0] as Buffer) : this.#lower.writev(sealed)
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

  #onData (chunk: Uint8Array): void {
    if (this.#failed) return
    const plaintext = this.#plaintext
    let error: Lp2pError | undefined
    try {
      this.#decoder.decode(chunk, plaintext)
    } catch (err) {
      // A forged or corrupted message, or one too short to hold a tag.
      error = err as Lp2pError
    }
    // Messages authenticated before a failing one in the same chunk are delivered.
    for (let i = 0; i < plaintext.length; i++) this.deliverData(plaintext[i] as Buffer)
    plaintext.length = 0
    if (error !== undefined) this.#fail(error)
  }

  #onEnd (): void {
    if (this.#failed) return
    if (this.#decoder.partial) {
      this.#fail(new Lp2pError(codes.ERR_INVALID_MESSAGE, 'the remote ended the connection inside a Noise message'))
      return
    }
    this.deliverEnd()
  }

  #fail (err: Lp2pError): void {
    this.#failed = true
    this.destroy(err)
  }
}
