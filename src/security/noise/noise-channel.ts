/**
 * The transport phase of noise-libp2p (`specs/noise.md`, "Encryption and I/O") as a
 * {@link ByteChannel}: plaintext in and out above, framed ChaCha20-Poly1305 messages
 * over the raw channel below.
 *
 * - `write`/`writev` seal into as few messages as fit (65519 plaintext bytes each) and
 *   hand the lower channel ONE buffer per call: prefixes, ciphertexts and tags
 *   together (`transport-codec.ts`). The return value is the lower channel's, and its
 *   `onDrain` passes up, so backpressure is the socket's.
 * - Received bytes are framed incrementally; each complete message is authenticated
 *   and decrypted, and its plaintext delivered in order. A message that fails
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
import { TAG_LENGTH } from './constants.js'
import { FrameDecoder } from './frame-decoder.js'
import type { XXTransportKeys } from './handshake-xx.js'
import { openFrame, sealFrames, totalLength } from './transport-codec.js'

export class NoiseChannel extends ChannelBase {
  readonly #lower: ByteChannel
  readonly #send: CipherState
  readonly #receive: CipherState
  /** A transport message holds at least its tag; shorter lengths are rejected unread. */
  readonly #decoder = new FrameDecoder({ minLength: TAG_LENGTH })
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
    this.#receive = keys.receive
    // One handler object for the channel's life: no closure per message.
    const handler: ByteChannelHandler = {
      onData: (chunk) => { this.#onData(chunk) },
      onEnd: () => { this.#onEnd() },
      onClose: (err) => { this.deliverClose(err) },
      onDrain: () => { this.deliverDrain() }
    }
    lower.attach(handler)
  }

  write (chunk: Uint8Array): boolean {
    return this.writev([chunk])
  }

  writev (chunks: readonly Uint8Array[]): boolean {
    if (this.#ended || this.closed) return true
    const total = totalLength(chunks)
    if (total === 0) return true
    let sealed: Buffer
    try {
      sealed = sealFrames(this.#send, chunks, total)
    } catch (err) {
      // Only nonce exhaustion gets here: the session is over (noise.md, "Encryption and I/O").
      this.destroy(err as Error)
      return true
    }
    return this.#lower.write(sealed)
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
    const decoder = this.#decoder
    decoder.push(chunk)
    try {
      for (let message = decoder.next(); message !== undefined; message = decoder.next()) {
        const plaintext = openFrame(this.#receive, message)
        if (plaintext.byteLength > 0) this.deliverData(plaintext)
      }
    } catch (err) {
      // A forged or corrupted message, or a length too short to hold a tag: neither
      // can be authenticated.
      this.#fail(err instanceof Lp2pError && err.code === codes.ERR_DECRYPTION_FAILED
        ? err
        : new Lp2pError(codes.ERR_DECRYPTION_FAILED, `invalid Noise transport message: ${(err as Error).message}`, { cause: err }))
    }
  }

  #onEnd (): void {
    if (this.#failed) return
    if (this.#decoder.partial) {
      this.#fail(new Lp2pError(codes.ERR_INVALID_MESSAGE, `the remote ended the connection inside a Noise message (${this.#decoder.buffered} bytes pending)`))
      return
    }
    this.deliverEnd()
  }

  #fail (err: Lp2pError): void {
    this.#failed = true
    this.destroy(err)
  }
}
