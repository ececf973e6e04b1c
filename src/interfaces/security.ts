/**
 * Security protocols (`specs/noise.md`, `specs/tls.md`): turn a raw channel into an
 * encrypted, mutually authenticated one.
 */
import type { ByteChannel } from './channel.js'
import type { PeerId, PrivateKey, PublicKey } from './keys.js'

export interface SecureOptions {
  /** Our identity key, which signs the handshake payload. */
  localKey: PrivateKey
  /**
   * The peer we expect (outbound dials of an address with `/p2p/<id>`). A remote that
   * authenticates as anyone else fails with `ERR_UNEXPECTED_PEER`.
   */
  remotePeer?: PeerId
  /**
   * Stream muxer protocol ids to offer inside the handshake, in our preference order
   * (`connections/inlined-muxer-negotiation.md`). Empty or absent: offer none, and the
   * muxer is then negotiated with multistream-select over the secure channel.
   */
  muxers?: readonly string[]
  /** Aborts the handshake; the upgrader uses it for the handshake timeout too. */
  signal?: AbortSignal
}

export interface SecureResult {
  /** The encrypted channel; plaintext goes in and out. */
  channel: ByteChannel
  remotePeer: PeerId
  remotePublicKey: PublicKey
  /**
   * The muxer agreed inside the handshake, if both sides offered muxers and they
   * share one. Undefined: fall back to multistream-select.
   */
  muxer?: string
}

export interface SecurityProtocol {
  /** The multistream-select protocol id, e.g. `/noise`. */
  readonly protocol: string
  /**
   * A deprecated protocol kept for old peers (SECIO): the upgrader proposes it after
   * every other one, whatever the configured order.
   */
  readonly legacy?: boolean
  /** Runs the handshake as initiator (we dialed). Rejects with a typed error. */
  secureOutbound (channel: ByteChannel, options: SecureOptions): Promise<SecureResult>
  /** Runs the handshake as responder (we accepted). Rejects with a typed error. */
  secureInbound (channel: ByteChannel, options: SecureOptions): Promise<SecureResult>
}
