/**
 * SECIO 1.0.0 (`specs/secio.md`, protocol id `/secio/1.0.0`) as a
 * {@link SecurityProtocol}: a LEGACY protocol, deprecated by the spec ("we advise
 * against using it"), kept for peers that speak nothing newer.
 *
 * - Off by default: nothing in lp2p offers it unless the application passes `secio()`
 *   in `connectionEncrypters` (or `--security ...,secio` in the CLI).
 * - `legacy: true`, so the upgrader proposes it after every other protocol, whatever
 *   the list's order.
 * - Creating it writes one deprecation warning per process (`[LP2P_SECIO]`): one line
 *   on stderr, silenced by `--no-deprecation` like Node's own.
 * - The handshake is the pure machine of `handshake.ts`, run by the shared driver
 *   (`../handshake-run.ts`); the session is a {@link SecioChannel}. No muxer is agreed
 *   inside SECIO: the upgrader negotiates it with multistream-select over the channel.
 */
import type { ByteChannel } from '../../interfaces/channel.js'
import type { SecureOptions, SecureResult, SecurityProtocol } from '../../interfaces/security.js'
import { CodecChannel, type ChannelCodec } from '../codec-channel.js'
import { runHandshake } from '../handshake-run.js'
import { checkPreferences, type SecioPreferences } from './algorithms.js'
import { SECIO_MAX_MESSAGE_BYTES, SecioFrameDecoder } from './frame-decoder.js'
import { SecioHandshake, toSecioError } from './handshake.js'
import type { PacketReader, PacketWriter } from './packets.js'

export const SECIO_PROTOCOL_ID = '/secio/1.0.0'

export interface SecioOptions extends Partial<SecioPreferences> {
  /** Largest handshake message accepted (see `handshake.ts`), default 16 KiB. */
  maxHandshakeMessageLength?: number
  /**
   * Largest packet accepted after the handshake, bytes, MAC included. Default and
   * ceiling: the spec's 8 MiB - 1 ("should always be inferior to 0x800000"), since
   * a peer may send any packet size up to it (py-libp2p sends each write as one
   * packet). It is also what one connection can make us hold before a MAC is checked.
   */
  maxPacketLength?: number
}

let warned = false

/**
 * Writes the deprecation warning once per process, as one line on stderr (Node's
 * `emitWarning` would add a second line of advice); `--no-deprecation` silences it,
 * as it does Node's own deprecation warnings.
 */
function warnOnce (): void {
  if (warned) return
  warned = true
  if (process.noDeprecation === true) return
  process.stderr.write('lp2p: DeprecationWarning [LP2P_SECIO]: SECIO (/secio/1.0.0) is deprecated by the libp2p specs; enable it only for peers that speak nothing newer\n')
}

/** Creates the SECIO security protocol (opt-in legacy; see the module comment). */
export function secio (options: SecioOptions = {}): SecurityProtocol {
  checkPreferences(options)
  const max = options.maxPacketLength ?? SECIO_MAX_MESSAGE_BYTES
  if (!Number.isInteger(max) || max < 1 || max > SECIO_MAX_MESSAGE_BYTES) {
    throw new RangeError(`maxPacketLength must be an integer in [1, ${SECIO_MAX_MESSAGE_BYTES}]`)
  }
  warnOnce()
  return new Secio(options)
}

class Secio implements SecurityProtocol {
  readonly protocol = SECIO_PROTOCOL_ID
  readonly legacy = true
  readonly #options: SecioOptions

  constructor (options: SecioOptions) {
    this.#options = options
  }

  async secureOutbound (channel: ByteChannel, options: SecureOptions): Promise<SecureResult> {
    return await this.#secure(channel, options)
  }

  async secureInbound (channel: ByteChannel, options: SecureOptions): Promise<SecureResult> {
    // SECIO is symmetric: both sides send a Propose at once; only `remotePeer` differs.
    return await this.#secure(channel, options)
  }

  async #secure (channel: ByteChannel, options: SecureOptions): Promise<SecureResult> {
    const o = this.#options
    return await runHandshake(channel, options.signal, {
      name: 'SECIO',
      toError: toSecioError,
      create: () => new SecioHandshake({
        localKey: options.localKey,
        ...(options.remotePeer !== undefined ? { remotePeer: options.remotePeer } : {}),
        preferences: { ...(o.exchanges !== undefined ? { exchanges: o.exchanges } : {}), ...(o.ciphers !== undefined ? { ciphers: o.ciphers } : {}), ...(o.hashes !== undefined ? { hashes: o.hashes } : {}) },
        ...(o.maxHandshakeMessageLength !== undefined ? { maxHandshakeMessageLength: o.maxHandshakeMessageLength } : {})
      }),
      finish: (raw, machine) => {
        const result = machine.result()
        raw.unshift(result.remainder)
        return {
          channel: new SecioChannel(raw, result.writer, result.reader, o.maxPacketLength ?? SECIO_MAX_MESSAGE_BYTES),
          remotePeer: result.remotePeer,
          remotePublicKey: result.remotePublicKey
        }
      }
    })
  }
}

/** The packet codec of an established session. */
class SecioCodec implements ChannelCodec {
  readonly name = 'SECIO'
  readonly #writer: PacketWriter
  readonly #reader: PacketReader
  readonly #decoder: SecioFrameDecoder

  constructor (writer: PacketWriter, reader: PacketReader, maxPacketLength: number) {
    this.#writer = writer
    this.#reader = reader
    this.#decoder = new SecioFrameDecoder(maxPacketLength)
    this.#decoder.minLength = reader.macBytes
  }

  get partial (): boolean {
    return this.#decoder.partial
  }

  encode (chunks: readonly Uint8Array[], total: number): Uint8Array[] {
    return this.#writer.seal(chunks, total)
  }

  decode (chunk: Uint8Array, out: Uint8Array[]): void {
    this.#decoder.push(chunk)
    for (let packet = this.#decoder.next(); packet !== undefined; packet = this.#decoder.next()) {
      const plaintext = this.#reader.open(packet)
      if (plaintext.byteLength > 0) out.push(plaintext)
    }
  }
}

/**
 * An established SECIO session as a {@link ByteChannel} (`../codec-channel.ts`):
 * writes leave as packets of at most 64 KiB of plaintext; a packet over the limit is
 * ERR_MESSAGE_TOO_LARGE, a bad MAC ERR_DECRYPTION_FAILED, and either destroys it.
 */
export class SecioChannel extends CodecChannel {
  constructor (lower: ByteChannel, writer: PacketWriter, reader: PacketReader, maxPacketLength: number = SECIO_MAX_MESSAGE_BYTES) {
    super(lower, new SecioCodec(writer, reader, maxPacketLength))
  }
}
