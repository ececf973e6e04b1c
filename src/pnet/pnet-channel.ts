/**
 * A private network connection (`specs/pnet.md`, "Algorithm"): the raw channel of
 * every upgraded connection, wrapped before multistream-select. Each side sends a
 * fresh 24-byte nonce first, then everything it writes XORed with XSalsa20(PSK, its
 * nonce); it reads the remote's nonce first, then decrypts with XSalsa20(PSK, that
 * nonce). No authentication of its own: the security protocol above provides it.
 *
 * A remote with another PSK (or none) would only produce garbage, which the spec
 * leaves to the layers above to choke on. To give a clear error at the first bytes,
 * the channel is told what the remote's first plaintext must be (the upgrader passes
 * the multistream-select header, which every libp2p peer sends first on a new
 * connection): anything else destroys the channel with ERR_PNET_MISMATCH, and so does
 * a remote that closes before those bytes came (a private network peer cuts off a
 * stranger at its first bytes). 20 bytes of a wrong key's keystream match the header
 * with probability 2^-160.
 *
 * The nonce exchange and the stream are a pure codec (`PnetCodec`) on the shared
 * codec channel (`../security/codec-channel.ts`).
 */
import { randomBytes } from 'node:crypto'
import { codes, Lp2pError } from '../errors.js'
import type { ByteChannel } from '../interfaces/channel.js'
import { CodecChannel, type ChannelCodec } from '../security/codec-channel.js'
import { checkPsk } from './psk.js'
import { XSALSA20_NONCE_BYTES, XSalsa20Stream } from './xsalsa20-stream.js'

export interface PnetOptions {
  /** The 32-byte pre-shared key. */
  psk: Uint8Array
  /** The remote's first plaintext bytes, checked as they arrive (see the module comment). */
  expectPrefix?: Uint8Array
  /** Our 24-byte nonce; fresh random bytes when absent (tests inject one). */
  nonce?: Uint8Array
}

function mismatch (detail: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_PNET_MISMATCH, `the remote is not in our private network: ${detail}`, cause !== undefined ? { cause } : undefined)
}

/** Both directions of the private network stream, with the nonce exchange. Pure. */
export class PnetCodec implements ChannelCodec {
  readonly name = 'private network'
  /** Our nonce, to send before anything else. */
  readonly nonce: Uint8Array
  readonly #psk: Uint8Array
  readonly #send: XSalsa20Stream
  #receive: XSalsa20Stream | undefined
  /** The remote nonce as it arrives. */
  #remoteNonce: Uint8Array | undefined = new Uint8Array(XSALSA20_NONCE_BYTES)
  #nonceFilled = 0
  #expect: Uint8Array | undefined
  #expectAt = 0

  constructor (options: PnetOptions) {
    this.#psk = checkPsk(options.psk)
    this.nonce = options.nonce ?? randomBytes(XSALSA20_NONCE_BYTES)
    this.#send = new XSalsa20Stream(this.#psk, this.nonce)
    const expect = options.expectPrefix
    if (expect !== undefined && expect.byteLength > 0) this.#expect = expect
  }

  /** A stream cipher has no messages: an end is never inside one. */
  get partial (): boolean {
    return false
  }

  /** True once the remote's first bytes matched the expected prefix (or none was set and its nonce is in). */
  get verified (): boolean {
    return this.#receive !== undefined && this.#expect === undefined
  }

  /** One buffer: the chunks copied in, then XORed in place in one pass (aligned: a fresh buffer). */
  encode (chunks: readonly Uint8Array[], total: number): Uint8Array[] {
    const out = chunks.length === 1 ? Buffer.allocUnsafe(total) : Buffer.concat(chunks as Uint8Array[], total)
    this.#send.xor(chunks.length === 1 ? chunks[0] as Uint8Array : out, out)
    return [out]
  }

  /** Decrypts in place (the chunk is ours); throws ERR_PNET_MISMATCH on a wrong prefix. */
  decode (chunk: Uint8Array, out: Uint8Array[]): void {
    let data = chunk
    if (this.#receive === undefined) {
      const nonce = this.#remoteNonce as Uint8Array
      const take = Math.min(XSALSA20_NONCE_BYTES - this.#nonceFilled, data.byteLength)
      nonce.set(data.subarray(0, take), this.#nonceFilled)
      this.#nonceFilled += take
      data = data.subarray(take)
      if (this.#nonceFilled < XSALSA20_NONCE_BYTES) return
      this.#receive = new XSalsa20Stream(this.#psk, nonce)
      this.#remoteNonce = undefined
    }
    if (data.byteLength === 0) return
    this.#receive.xor(data, data)
    const expect = this.#expect
    if (expect !== undefined) {
      const n = Math.min(expect.byteLength - this.#expectAt, data.byteLength)
      for (let i = 0; i < n; i++) {
        if (data[i] !== expect[this.#expectAt + i]) throw mismatch('its first bytes do not decrypt with our pre-shared key (another PSK, or none)')
      }
      this.#expectAt += n
      if (this.#expectAt === expect.byteLength) this.#expect = undefined
    }
    out.push(data)
  }
}

/** The private network layer over a raw channel (see the module comment). */
export class PnetChannel extends CodecChannel {
  readonly #codec: PnetCodec
  #error: Lp2pError | undefined

  /** Takes over `lower` and sends our nonce at once. */
  constructor (lower: ByteChannel, options: PnetOptions) {
    const codec = new PnetCodec(options)
    super(lower, codec)
    this.#codec = codec
    lower.write(codec.nonce)
  }

  /** True once the remote's first bytes decrypted to the expected prefix. */
  get verified (): boolean {
    return this.#codec.verified
  }

  /** The ERR_PNET_MISMATCH this channel failed with, if it did. */
  get error (): Lp2pError | undefined {
    return this.#error
  }

  protected override fail (err: Error): void {
    if (err instanceof Lp2pError && err.code === codes.ERR_PNET_MISMATCH) this.#error = err
    super.fail(err)
  }

  protected override onLowerEnd (): void {
    if (!this.#codec.verified) {
      this.fail(mismatch('it ended the connection before its first bytes decrypted with our pre-shared key'))
      return
    }
    super.onLowerEnd()
  }

  protected override onLowerClose (err?: Error): void {
    if (!this.#codec.verified && !this.closed) {
      this.fail(mismatch('it closed the connection before its first bytes decrypted with our pre-shared key', err))
      return
    }
    super.onLowerClose(err)
  }
}
