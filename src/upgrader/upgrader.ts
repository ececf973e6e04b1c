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
 *
 * A connection from a transport with built-in security and streams (QUIC) arrives
 * already upgraded: it is passed through unchanged, after the one check that applies
 * to every connection, the dialed `/p2p/` id against the authenticated peer
 * (`ERR_UNEXPECTED_PEER`, step `security-handshake`).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from '../interfaces/channel.js'
import type { PeerId, PrivateKey, PublicKey } from '../interfaces/keys.js'
import type { Direction, StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from '../interfaces/muxer.js'
import type { SecureResult, SecurityProtocol } from '../interfaces/security.js'
import type { UpgradedConnection } from '../interfaces/transport.js'
import { codes, Lp2pError, UpgradeError, type UpgradeStep } from '../errors.js'
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

/** What an upgrade yields (see {@link UpgradedConnection}). */
export type Upgraded = UpgradedConnection

/** True for a connection a transport already secured and multiplexed (QUIC). */
export function isUpgraded (c: ByteChannel | UpgradedConnection): c is UpgradedConnection {
  return typeof (c as Partial<UpgradedConnection>).createMuxer === 'function'
}

/** A byte channel the upgrader secured: the muxer runs over {@link channel}. */
export class ChannelUpgrade implements UpgradedConnection {
  readonly direction: Direction
  /** The secure channel the muxer runs on. */
  readonly channel: ByteChannel
  readonly remotePeer: PeerId
  readonly remotePublicKey: PublicKey
  readonly encryption: string
  readonly muxerFactory: StreamMuxerFactory
  readonly multiplexer: string
  readonly muxerNegotiation: 'inlined' | 'multistream' | 'lazy'
  readonly upgradeMs: number

  constructor (init: Omit<ChannelUpgrade, 'remoteAddr' | 'localAddr' | 'createMuxer' | 'destroy'>) {
    this.direction = init.direction
    this.channel = init.channel
    this.remotePeer = init.remotePeer
    this.remotePublicKey = init.remotePublicKey
    this.encryption = init.encryption
    this.muxerFactory = init.muxerFactory
    this.multiplexer = init.multiplexer
    this.muxerNegotiation = init.muxerNegotiation
    this.upgradeMs = init.upgradeMs
  }

  get remoteAddr (): Multiaddr { return this.channel.remoteAddr }
  get localAddr (): Multiaddr | undefined { return this.channel.localAddr }

  createMuxer (init: StreamMuxerInit): StreamMuxer {
    return this.muxerFactory.createStreamMuxer(this.channel, init)
  }

  destroy (err: Error): void {
    this.channel.destroy(err)
  }
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

  /**
   * Upgrades a connection we dialed. An already upgraded one (QUIC) is returned as it
   * is once its peer is checked against `remotePeer`.
   */
  async upgradeOutbound (raw: ByteChannel | UpgradedConnection, options: UpgradeOptions = {}): Promise<Upgraded> {
    if (isUpgraded(raw)) return passThrough(raw, options.remotePeer)
    return await this.#upgrade(raw, 'outbound', options.signal, options.remotePeer)
  }

  /** Upgrades a connection we accepted, within the inbound upgrade timeout. */
  async upgradeInbound (raw: ByteChannel | UpgradedConnection, options: UpgradeOptions = {}): Promise<Upgraded> {
    if (isUpgraded(raw)) return passThrough(raw, undefined)
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
      let how: ChannelUpgrade['muxerNegotiation'] = 'inlined'
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
      return new ChannelUpgrade({
        direction,
        channel: muxedChannel,
        remotePeer: secure.remotePeer,
        remotePublicKey: secure.remotePublicKey,
        encryption: security.protocol,
        muxerFactory,
        multiplexer: muxerFactory.protocol,
        muxerNegotiation: how,
        upgradeMs: Date.now() - started
      })
    } catch (err) {
      const error = err instanceof UpgradeError ? err : new UpgradeError(step, direction, err)
      raw.destroy(error)
      throw error
    }
  }
}

/**
 * A transport's own upgrade, checked like any other: the peer it authenticated must
 * be the one the dialed address named (`specs/addressing.md`, "The p2p multiaddr").
 */
function passThrough (upgraded: UpgradedConnection, remotePeer: PeerId | undefined): Upgraded {
  if (remotePeer !== undefined && !remotePeer.equals(upgraded.remotePeer)) {
    const err = new UpgradeError('security-handshake', upgraded.direction, new Lp2pError(codes.ERR_UNEXPECTED_PEER,
      `dialed ${remotePeer.toString()} but the remote authenticated as ${upgraded.remotePeer.toString()}`))
    upgraded.destroy(err)
    throw err
  }
  return upgraded
}
