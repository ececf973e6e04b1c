/**
 * The connection upgrade (`connections/README.md`, "Upgrading Connections"):
 * raw channel -> multistream-select of the security protocol -> security handshake ->
 * muxer (agreed inside the handshake, `connections/inlined-muxer-negotiation.md`, or
 * negotiated with multistream-select over the secure channel).
 *
 * Round trips: with one security protocol configured, the dialer negotiates it lazily
 * (header, proposal and the handshake's first message leave together); with one muxer
 * and no inlined agreement it does the same for the muxer. Over TCP with Noise this
 * makes "connect + first byte" three round trips: TCP, Noise XX messages 1-2, and
 * message 3 carrying the first request.
 *
 * Errors are {@link UpgradeError}s naming the step that failed. The raw channel is
 * destroyed on any failure.
 */
import type { ByteChannel } from '../interfaces/channel.js'
import type { PeerId, PrivateKey, PublicKey } from '../interfaces/keys.js'
import type { Direction, StreamMuxerFactory } from '../interfaces/muxer.js'
import type { SecureResult, SecurityProtocol } from '../interfaces/security.js'
import { UpgradeError, type UpgradeStep } from '../errors.js'
import { deadline, signalError } from '../util/deadline.js'
import { handleOnChannel, lazySelectOnChannel, selectOnChannel, type LazyChannel } from '../negotiation/channel-negotiation.js'

export interface UpgraderOptions {
  privateKey: PrivateKey
  /** Security protocols we accept on inbound connections. */
  security: readonly SecurityProtocol[]
  /**
   * Security protocols we propose when dialing, in preference order. Default:
   * `security`. With a single one the proposal is lazy (no round trip), so a node can
   * accept several protocols yet dial with one (the node's default: dial Noise, accept
   * Noise and TLS).
   */
  outboundSecurity?: readonly SecurityProtocol[]
  /** Muxers in preference order. */
  muxers: readonly StreamMuxerFactory[]
  /**
   * Most time an inbound upgrade may take, from accept to muxer, in ms. A peer that
   * connects and stays silent holds a socket and memory until then. Default 10 s:
   * a few round trips on the slowest links (go-libp2p uses 15 s, js-libp2p 3 s).
   */
  inboundUpgradeTimeout?: number
  /**
   * Negotiate lazily when there is a single candidate (default true). Turning it off
   * costs a round trip per step; only for peers that mishandle early data.
   */
  lazy?: boolean
}

export interface UpgradeOptions {
  /** Outbound only: the peer we expect (from `/p2p/<id>` in the dialed address). */
  remotePeer?: PeerId
  /** Aborts the upgrade (the dialer's timeout for outbound upgrades). */
  signal?: AbortSignal
}

export interface Upgraded {
  direction: Direction
  /** The secure channel the muxer runs on. */
  channel: ByteChannel
  remotePeer: PeerId
  remotePublicKey: PublicKey
  /** Protocol id of the security protocol, e.g. `/noise`. */
  encryption: string
  muxerFactory: StreamMuxerFactory
  /** Protocol id of the muxer, e.g. `/yamux/1.0.0`. */
  multiplexer: string
  /** How the muxer was agreed. */
  muxerNegotiation: 'inlined' | 'multistream' | 'lazy'
  /** Milliseconds spent in the upgrade. */
  upgradeMs: number
}

/** Default {@link UpgraderOptions.inboundUpgradeTimeout}. */
export const DEFAULT_INBOUND_UPGRADE_TIMEOUT = 10_000

export class Upgrader {
  readonly #options: UpgraderOptions
  readonly #muxerIds: string[]

  constructor (options: UpgraderOptions) {
    if (options.security.length === 0) throw new RangeError('at least one security protocol is required')
    if (options.outboundSecurity?.length === 0) throw new RangeError('at least one outbound security protocol is required')
    if (options.muxers.length === 0) throw new RangeError('at least one stream muxer is required')
    this.#options = options
    this.#muxerIds = options.muxers.map((m) => m.protocol)
  }

  /** Upgrades a connection we dialed. */
  async upgradeOutbound (raw: ByteChannel, options: UpgradeOptions = {}): Promise<Upgraded> {
    return await this.#upgrade(raw, 'outbound', options.signal, options.remotePeer)
  }

  /** Upgrades a connection we accepted, within the inbound upgrade timeout. */
  async upgradeInbound (raw: ByteChannel, options: UpgradeOptions = {}): Promise<Upgraded> {
    const dl = deadline(this.#options.inboundUpgradeTimeout ?? DEFAULT_INBOUND_UPGRADE_TIMEOUT, options.signal, 'inbound upgrade')
    try {
      return await this.#upgrade(raw, 'inbound', dl.signal, undefined)
    } finally {
      dl.clear()
    }
  }

  async #upgrade (raw: ByteChannel, direction: Direction, signal: AbortSignal | undefined, remotePeer: PeerId | undefined): Promise<Upgraded> {
    const started = Date.now()
    const outbound = direction === 'outbound'
    const lazy = this.#options.lazy ?? true
    let step: UpgradeStep = 'security-negotiation'
    let lazyChannel: LazyChannel | undefined
    try {
      if (signal?.aborted === true) throw signalError(signal)

      // 1. multistream-select the security protocol.
      let security: SecurityProtocol
      let channel: ByteChannel = raw
      const candidates = outbound ? (this.#options.outboundSecurity ?? this.#options.security) : this.#options.security
      const secIds = candidates.map((s) => s.protocol)
      if (outbound && lazy && secIds.length === 1) {
        security = candidates[0] as SecurityProtocol
        lazyChannel = lazySelectOnChannel(raw, security.protocol)
        channel = lazyChannel
      } else {
        const id = outbound
          ? await selectOnChannel(raw, secIds, { signal })
          : await handleOnChannel(raw, { isSupported: (p) => secIds.includes(p), signal })
        security = candidates.find((s) => s.protocol === id) as SecurityProtocol
      }

      // 2. The security handshake, offering our muxers inside it.
      step = 'security-handshake'
      const secureOptions = {
        localKey: this.#options.privateKey,
        muxers: this.#muxerIds,
        ...(remotePeer !== undefined ? { remotePeer } : {}),
        ...(signal !== undefined ? { signal } : {})
      }
      let secure: SecureResult
      try {
        secure = outbound
          ? await security.secureOutbound(channel, secureOptions)
          : await security.secureInbound(channel, secureOptions)
      } catch (err) {
        // A lazily negotiated protocol the remote refused: report the refusal, not
        // the handshake's view of a closed channel.
        if (lazyChannel?.error !== undefined) {
          step = 'security-negotiation'
          throw lazyChannel.error
        }
        throw err
      }

      // 3. The muxer: inlined, or negotiated over the secure channel.
      step = 'muxer-negotiation'
      let muxerId = secure.muxer
      let how: Upgraded['muxerNegotiation'] = 'inlined'
      let muxedChannel = secure.channel
      if (muxerId === undefined || !this.#muxerIds.includes(muxerId)) {
        if (outbound && lazy && this.#muxerIds.length === 1) {
          muxerId = this.#muxerIds[0] as string
          muxedChannel = lazySelectOnChannel(secure.channel, muxerId)
          how = 'lazy'
        } else {
          muxerId = outbound
            ? await selectOnChannel(secure.channel, this.#muxerIds, { signal })
            : await handleOnChannel(secure.channel, { isSupported: (p) => this.#muxerIds.includes(p), signal })
          how = 'multistream'
        }
      }
      const muxerFactory = this.#options.muxers.find((m) => m.protocol === muxerId) as StreamMuxerFactory
      return {
        direction,
        channel: muxedChannel,
        remotePeer: secure.remotePeer,
        remotePublicKey: secure.remotePublicKey,
        encryption: security.protocol,
        muxerFactory,
        multiplexer: muxerFactory.protocol,
        muxerNegotiation: how,
        upgradeMs: Date.now() - started
      }
    } catch (err) {
      const error = err instanceof UpgradeError ? err : new UpgradeError(step, direction, err)
      raw.destroy(error)
      throw error
    }
  }
}
