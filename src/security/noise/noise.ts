/**
 * noise-libp2p (`specs/noise.md`, protocol id `/noise`) as a {@link SecurityProtocol}:
 * the pure handshake machine (`handshake.ts`) run over a {@link ByteChannel} by the
 * shared driver (`../handshake-run.ts`), which then hands the channel to
 * {@link NoiseChannel}. Bytes received after the last handshake message are given
 * back to the raw channel and decrypted first: the dialer sends message 3 and its
 * first muxer frames in one write, and nothing of it is lost. Errors: see
 * `handshake.ts`; ERR_ABORTED / ERR_TIMEOUT for the signal.
 */
import type { ByteChannel } from '../../interfaces/channel.js'
import type { SecureOptions, SecureResult, SecurityProtocol } from '../../interfaces/security.js'
import { runHandshake } from '../handshake-run.js'
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
    return await runHandshake(channel, options.signal, {
      name: 'Noise',
      toError: toHandshakeError,
      create: () => {
        this.#staticKey ??= generateX25519KeyPair()
        return new NoiseHandshake({
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
      },
      finish: finishNoise
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

/** The secure result of a finished handshake: the remainder goes back, NoiseChannel takes over. */
function finishNoise (channel: ByteChannel, machine: NoiseHandshake): SecureResult {
  const result = machine.result()
  channel.unshift(result.remainder)
  const out: SecureResult = {
    channel: new NoiseChannel(channel, result.keys),
    remotePeer: result.remotePeer,
    remotePublicKey: result.remotePublicKey
  }
  if (result.muxer !== undefined) out.muxer = result.muxer
  return out
}
