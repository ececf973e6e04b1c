/**
 * The transport phase of noise-libp2p (`specs/noise.md`, "Encryption and I/O") as a
 * {@link ByteChannel}: plaintext in and out above, framed ChaCha20-Poly1305 messages
 * over the raw channel below. The channel mechanics (one lower write per call,
 * backpressure, end and close) are `../codec-channel.ts`; this file is the codec.
 *
 * - Writes are sealed into as few messages as fit (65519 plaintext bytes each):
 *   one buffer when everything is small, else a few (`transport-codec.ts`).
 * - Received bytes are decrypted as they arrive (`transport-decoder.ts`); a message's
 *   plaintext is released once its tag has verified. A message that fails
 *   authentication destroys the channel with ERR_DECRYPTION_FAILED: after a forged or
 *   corrupted message nothing that follows can be trusted (and Noise nonces cannot
 *   skip one). Nonce exhaustion on the sending side ends the session (noise.md).
 */
import type { ByteChannel } from '../../interfaces/channel.js'
import { CodecChannel, type ChannelCodec } from '../codec-channel.js'
import type { CipherState } from './cipher-state.js'
import type { XXTransportKeys } from './handshake-xx.js'
import { sealFrames } from './transport-codec.js'
import { TransportDecoder } from './transport-decoder.js'

class NoiseCodec implements ChannelCodec {
  readonly name = 'Noise'
  readonly #send: CipherState
  readonly #decoder: TransportDecoder

  constructor (keys: XXTransportKeys) {
    this.#send = keys.send
    this.#decoder = new TransportDecoder(keys.receive)
  }

  get partial (): boolean {
    return this.#decoder.partial
  }

  encode (chunks: readonly Uint8Array[], total: number): Uint8Array[] {
    return sealFrames(this.#send, chunks, total)
  }

  decode (chunk: Uint8Array, out: Uint8Array[]): void {
    this.#decoder.decode(chunk, out as Buffer[])
  }
}

export class NoiseChannel extends CodecChannel {
  /**
   * Takes over `lower` (attaches to it). Bytes the handshake read past its last message
   * must already be back in `lower` (`unshift`), so they are decrypted first.
   */
  constructor (lower: ByteChannel, keys: XXTransportKeys) {
    super(lower, new NoiseCodec(keys))
  }
}
