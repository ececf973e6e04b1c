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
 * Private networks (`specs/pnet.md`): with a `psk`, the raw channel is first wrapped
 * in a {@link PnetChannel} (nonce exchange, XSalsa20), before any multistream byte;
 * a remote outside the network fails the upgrade with ERR_PNET_MISMATCH at step
 * `private-network`.
 *
 * Legacy protocols (SECIO, `legacy: true`) are proposed after every other one.
 *
 * Trace: with `DEBUG=lp2p:upgrader` (the CLI's `--trace`) every multistream message
 * of the security and muxer negotiations and each step's outcome are logged; off, it
 * costs one property read per upgrade.
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
import { encodeMessage, PROTOCOL_ID } from '../negotiation/message.js'
import { PnetChannel } from '../pnet/pnet-channel.js'
import { checkPsk } from '../pnet/psk.js'
import { logger } from '../util/log.js'

const log = logger('upgrader')
/** What every libp2p peer sends first on a new connection: a private network checks it. */
const MULTISTREAM_HEADER = encodeMessage(PROTOCOL_ID)

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
  /** A private network's 32-byte pre-shared key (`specs/pnet.md`); absent: none. */
  psk?: Uint8Array
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
  readonly #inbound: readonly SecurityProtocol[]
  readonly #outbound: readonly SecurityProtocol[]

  constructor (options: UpgraderOptions) {
    if (options.security.length === 0) throw new RangeError('at least one security protocol is required')
    if (options.outboundSecurity?.length === 0) throw new RangeError('at least one outbound security protocol is required')
    if (options.muxers.length === 0) throw new RangeError('at least one stream muxer is required')
    if (options.psk !== undefined) checkPsk(options.psk)
    this.#options = options
    this.#muxerIds = options.muxers.map((m) => m.protocol)
    this.#inbound = legacyLast(options.security)
    this.#outbound = legacyLast(options.outboundSecurity ?? options.security)
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
    let pnet: PnetChannel | undefined
    const trace = log.enabled ? traceOf(direction, raw) : undefined
    try {
      if (signal?.aborted === true) throw signalError(signal)

      // 0. A private network wraps the raw channel before anything is sent.
      let base: ByteChannel = raw
      const psk = this.#options.psk
      if (psk !== undefined) {
        pnet = new PnetChannel(raw, { psk, expectPrefix: MULTISTREAM_HEADER })
        base = pnet
        trace?.('upgrade', 'private network: nonce sent, XSalsa20 with the pre-shared key')
      }

      // 1. multistream-select the security protocol.
      let security: SecurityProtocol
      let channel: ByteChannel = base
      const candidates = outbound ? this.#outbound : this.#inbound
      const secIds = candidates.map((s) => s.protocol)
      const observe = trace !== undefined ? (dir: 'in' | 'out', m: string) => { trace('security', `${dir === 'out' ? '->' : '<-'} ${m}`) } : undefined
      if (outbound && lazy && secIds.length === 1) {
        security = candidates[0] as SecurityProtocol
        lazyChannel = lazySelectOnChannel(base, security.protocol, observe)
        channel = lazyChannel
      } else {
        const id = outbound
          ? await selectOnChannel(base, secIds, { signal, ...(observe !== undefined ? { observe } : {}) })
          : await handleOnChannel(base, { isSupported: (p) => secIds.includes(p), signal, ...(observe !== undefined ? { observe } : {}) })
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
      trace?.('security', `${security.protocol} handshake done: remote peer ${secure.remotePeer.toString()}${secure.muxer !== undefined ? `, muxer ${secure.muxer} agreed inside it` : ''}`)

      // 3. The muxer: inlined, or negotiated over the secure channel.
      step = 'muxer-negotiation'
      let muxerId = secure.muxer
      let how: ChannelUpgrade['muxerNegotiation'] = 'inlined'
      let muxedChannel = secure.channel
      if (muxerId === undefined || !this.#muxerIds.includes(muxerId)) {
        const observeMuxer = trace !== undefined ? (dir: 'in' | 'out', m: string) => { trace('muxer', `${dir === 'out' ? '->' : '<-'} ${m} (over ${security.protocol})`) } : undefined
        if (outbound && lazy && this.#muxerIds.length === 1) {
          muxerId = this.#muxerIds[0] as string
          muxedChannel = lazySelectOnChannel(secure.channel, muxerId, observeMuxer)
          how = 'lazy'
        } else {
          const opts = { signal, ...(observeMuxer !== undefined ? { observe: observeMuxer } : {}) }
          muxerId = outbound
            ? await selectOnChannel(secure.channel, this.#muxerIds, opts)
            : await handleOnChannel(secure.channel, { isSupported: (p) => this.#muxerIds.includes(p), ...opts })
          how = 'multistream'
        }
      }
      trace?.('muxer', `${muxerId} (${how})`)
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
      // A stranger to our private network: say so, not what the next step saw of it.
      // A failure (a timeout) before the remote proved the key is that step's too: a
      // peer without the key may just wait for bytes that never make sense to it.
      const cause = pnet?.error ?? err
      if (pnet !== undefined && !pnet.verified) step = 'private-network'
      const error = cause instanceof UpgradeError ? cause : new UpgradeError(step, direction, cause)
      trace?.('upgrade', `failed at ${step}: ${error.message}`)
      raw.destroy(error)
      throw error
    }
  }
}

/** `list` with the legacy protocols (SECIO) moved to the end, otherwise in order. */
function legacyLast (list: readonly SecurityProtocol[]): readonly SecurityProtocol[] {
  return [...list.filter((s) => s.legacy !== true), ...list.filter((s) => s.legacy === true)]
}

/** The trace of one upgrade: lines `<direction> <remote address> <step>: <text>`. */
function traceOf (direction: Direction, raw: ByteChannel): (step: string, text: string) => void {
  const prefix = `${direction} ${raw.remoteAddr.toString()}`
  return (step, text) => { log('%s %s: %s', prefix, step, text) }
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
