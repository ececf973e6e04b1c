/**
 * noise-libp2p (`specs/noise.md`, protocol id `/noise`) as a {@link SecurityProtocol}:
 * the thin driver that runs the pure handshake machine (`handshake.ts`) over a
 * {@link ByteChannel} and then hands the channel to {@link NoiseChannel}.
 *
 * The driver attaches a handler to the raw channel, writes what the machine outputs
 * and feeds it what arrives. It ends in exactly one of two ways:
 * - success: the handler detaches, bytes received after the last handshake message
 *   are given back to the raw channel (`unshift`) and the NoiseChannel attaches and
 *   decrypts them first. (The dialer sends message 3 and its first muxer frames in one
 *   write; nothing of it is lost.)
 * - failure (invalid message, remote end or close, abort): the handler detaches, the
 *   raw channel is destroyed with the error, the abort listener is removed, and the
 *   promise rejects with a typed error (see `handshake.ts`; ERR_ABORTED / ERR_TIMEOUT
 *   for the signal).
 */
import { AbortError, codes, Lp2pError, TimeoutError } from '../../errors.js'
import type { ByteChannel, ByteChannelHandler } from '../../interfaces/channel.js'
import type { SecureOptions, SecureResult, SecurityProtocol } from '../../interfaces/security.js'
import { NoiseHandshake, toHandshakeError } from './handshake.js'
import { DEFAULT_IDENTITY_CACHE_ENTRIES, IdentityCache } from './identity-cache.js'
import { NoiseChannel } from './noise-channel.js'
import type { PayloadLimits } from './payload.js'
import { generateX25519KeyPair, x25519KeyPairFromPrivateKey, type X25519KeyPair } from './x25519.js'

export const NOISE_PROTOCOL_ID = '/noise'

export interface NoiseOptions {
  /**
   * Our static X25519 private key (32 bytes). Default: one key generated per
   * `noise()` instance and used for all its sessions, which the spec allows ("a single
   * static keypair may be generated when noise-libp2p is initialized"); it is never
   * stored. Saves one key generation per connection.
   */
  staticNoiseKey?: Uint8Array
  /** Largest handshake message accepted; default 65535 (see `NoiseHandshakeInit`). */
  maxHandshakeMessageLength?: number
  /** Bounds on the remote payload's fields (see `payload.ts`). */
  payloadLimits?: Partial<PayloadLimits>
  /**
   * The Noise prologue (Noise §6). libp2p's is empty (noise.md) and any other value
   * makes every handshake with another implementation fail: it exists so tests can
   * build a deliberately broken peer and prove the interop harness fails.
   */
  prologue?: Uint8Array
  /**
   * Remote identities remembered once verified, so that a reconnection between the
   * same two nodes skips the key import and signature check (`identity-cache.ts`).
   * Default {@link DEFAULT_IDENTITY_CACHE_ENTRIES}; 0 verifies every handshake.
   */
  identityCacheEntries?: number
}

/** Creates the Noise security protocol. */
export function noise (options: NoiseOptions = {}): SecurityProtocol {
  return new Noise(options)
}

class Noise implements SecurityProtocol {
  readonly protocol = NOISE_PROTOCOL_ID
  readonly #options: NoiseOptions
  readonly #identityCache: IdentityCache
  #staticKey: X25519KeyPair | undefined
  /**
   * The ephemeral key of the next handshake, made while the process waits for the
   * network (a handshake takes it and an immediate makes the next one), so that key
   * generation is off the critical path: the dialer's message 1 and the listener's
   * message 2 each waited for it (~45 us warm, several times that in a process that
   * has made only a few connections). Each key serves exactly one handshake.
   */
  #spareEphemeral: X25519KeyPair | undefined
  #refillScheduled = false
  readonly #refill = (): void => {
    this.#refillScheduled = false
    this.#spareEphemeral ??= generateX25519KeyPair()
  }

  constructor (options: NoiseOptions) {
    this.#options = options
    this.#identityCache = new IdentityCache({ maxEntries: options.identityCacheEntries ?? DEFAULT_IDENTITY_CACHE_ENTRIES })
    if (options.staticNoiseKey !== undefined) this.#staticKey = x25519KeyPairFromPrivateKey(options.staticNoiseKey)
  }

  async secureOutbound (channel: ByteChannel, options: SecureOptions): Promise<SecureResult> {
    return await this.#secure(channel, options, true)
  }

  async secureInbound (channel: ByteChannel, options: SecureOptions): Promise<SecureResult> {
    return await this.#secure(channel, options, false)
  }

  async #secure (channel: ByteChannel, options: SecureOptions, initiator: boolean): Promise<SecureResult> {
    const signal = options.signal
    if (signal?.aborted === true) {
      const err = abortError(signal)
      channel.destroy(err)
      throw err
    }
    let machine: NoiseHandshake
    try {
      this.#staticKey ??= generateX25519KeyPair()
      machine = new NoiseHandshake({
        initiator,
        localKey: options.localKey,
        staticKey: this.#staticKey,
        ephemeralKey: this.#takeEphemeral(),
        ...(options.remotePeer !== undefined ? { remotePeer: options.remotePeer } : {}),
        muxers: options.muxers ?? [],
        identityCache: this.#identityCache,
        ...(this.#options.maxHandshakeMessageLength !== undefined ? { maxHandshakeMessageLength: this.#options.maxHandshakeMessageLength } : {}),
        ...(this.#options.payloadLimits !== undefined ? { payloadLimits: this.#options.payloadLimits } : {}),
        ...(this.#options.prologue !== undefined ? { prologue: this.#options.prologue } : {})
      })
    } catch (err) {
      const error = toHandshakeError(err)
      channel.destroy(error)
      throw error
    }
    return await new Promise<SecureResult>((resolve, reject) => {
      new HandshakeRun(channel, machine, signal, resolve, reject).start()
    })
  }

  /** A fresh ephemeral key pair, never handed out twice; schedules the next one. */
  #takeEphemeral (): X25519KeyPair {
    const key = this.#spareEphemeral ?? generateX25519KeyPair()
    this.#spareEphemeral = undefined
    if (!this.#refillScheduled) {
      this.#refillScheduled = true
      setImmediate(this.#refill)
    }
    return key
  }
}

/** One handshake over one channel: the handler, the abort listener and the outcome. */
class HandshakeRun implements ByteChannelHandler {
  readonly #channel: ByteChannel
  readonly #machine: NoiseHandshake
  readonly #signal: AbortSignal | undefined
  readonly #resolve: (result: SecureResult) => void
  readonly #reject: (err: Error) => void
  #settled = false

  constructor (channel: ByteChannel, machine: NoiseHandshake, signal: AbortSignal | undefined,
    resolve: (result: SecureResult) => void, reject: (err: Error) => void) {
    this.#channel = channel
    this.#machine = machine
    this.#signal = signal
    this.#resolve = resolve
    this.#reject = reject
  }

  start (): void {
    // The run itself is the abort listener (EventTarget calls handleEvent), as in
    // stream-negotiation.ts: no closure per handshake.
    this.#signal?.addEventListener('abort', this, { once: true })
    this.#channel.attach(this)
    this.#flush()
  }

  /** The signal aborted. */
  handleEvent (): void {
    this.#fail(abortError(this.#signal as AbortSignal))
  }

  onData (chunk: Uint8Array): void {
    if (this.#settled) return
    try {
      this.#machine.handleData(chunk)
    } catch (err) {
      this.#fail(err)
      return
    }
    this.#flush()
    if (this.#machine.status === 'done') this.#succeed()
  }

  onEnd (): void {
    const cause = new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'the remote ended the connection')
    this.#fail(new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `the remote ended the connection during the Noise handshake (at ${this.#machine.xxState})`, { cause }))
  }

  onClose (err?: Error): void {
    const cause = err ?? new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'the connection closed')
    this.#fail(new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `the connection closed during the Noise handshake (at ${this.#machine.xxState})`, { cause }))
  }

  onDrain (): void {
    // Handshake messages are a few hundred bytes each; nothing waits for drain.
  }

  #flush (): void {
    const out = this.#machine.takeOutput()
    if (out.length === 1) this.#channel.write(out[0] as Uint8Array)
    else if (out.length > 1) this.#channel.writev(out)
  }

  #succeed (): void {
    this.#settled = true
    this.#signal?.removeEventListener('abort', this)
    const channel = this.#channel
    channel.detach()
    const result = this.#machine.result()
    channel.unshift(result.remainder)
    const secure = new NoiseChannel(channel, result.keys)
    const out: SecureResult = {
      channel: secure,
      remotePeer: result.remotePeer,
      remotePublicKey: result.remotePublicKey
    }
    if (result.muxer !== undefined) out.muxer = result.muxer
    this.#resolve(out)
  }

  #fail (err: unknown): void {
    if (this.#settled) return
    this.#settled = true
    this.#signal?.removeEventListener('abort', this)
    const error = toHandshakeError(err)
    this.#channel.detach()
    this.#channel.destroy(error)
    this.#reject(error)
  }
}

/** The error for an aborted handshake: TimeoutError when the signal's reason is a timeout. */
function abortError (signal: AbortSignal): Lp2pError {
  const reason: unknown = signal.reason
  const isTimeout = (reason instanceof Lp2pError && reason.code === codes.ERR_TIMEOUT) ||
    (reason instanceof Error && reason.name === 'TimeoutError')
  return isTimeout
    ? new TimeoutError('the Noise handshake timed out', { cause: reason })
    : new AbortError('the Noise handshake was aborted', { cause: reason })
}
