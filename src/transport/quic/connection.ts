/**
 * A QUIC connection as the upgrader would have made it: secure (TLS 1.3 inside QUIC,
 * with the libp2p certificate the engine verified, `specs/tls.md`), multiplexed (QUIC
 * streams) and authenticated (the peer id its certificate proved). The node turns it
 * into a `Connection` like any other, through the upgrader's pass-through.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PublicKey } from '../../interfaces/keys.js'
import type { Direction, StreamMuxer, StreamMuxerInit } from '../../interfaces/muxer.js'
import type { UpgradedConnection } from '../../interfaces/transport.js'
import { codes, Lp2pError } from '../../errors.js'
import { peerIdFromString } from '../../identity/index.js'
import type { EngineConnection, QuicEngine } from './engine.js'
import type { QuicConfig } from './config.js'
import { QuicMuxer } from './muxer.js'
import { QUIC_PROTOCOL } from './protocol.js'
import { splitRemoteAddr } from './quic-addr.js'

export class QuicUpgrade implements UpgradedConnection {
  readonly direction: Direction
  readonly remotePeer: PeerId
  readonly remotePublicKey: PublicKey | undefined
  readonly remoteAddr: Multiaddr
  readonly localAddr: Multiaddr | undefined
  readonly encryption = QUIC_PROTOCOL
  readonly multiplexer = QUIC_PROTOCOL
  readonly muxerNegotiation = 'transport'
  readonly upgradeMs: number
  readonly #engine: QuicEngine
  readonly #conn: EngineConnection
  readonly #config: QuicConfig
  readonly #onClosed: (() => void) | undefined
  #muxer: QuicMuxer | undefined
  #closed = false

  /**
   * @param onClosed called once when the engine connection is closed (the endpoint
   *   that carries it is kept open until then).
   * @throws ERR_HANDSHAKE_FAILED when the engine names no valid peer id (the engine
   *   connection is closed first, and `onClosed` follows).
   */
  constructor (engine: QuicEngine, conn: EngineConnection, direction: Direction, localAddr: Multiaddr | undefined, config: QuicConfig, upgradeMs: number, onClosed?: () => void) {
    this.#engine = engine
    this.#conn = conn
    this.#config = config
    this.#onClosed = onClosed
    engine.closed(conn).then(() => { this.#connectionClosed(undefined) }, (err: unknown) => { this.#connectionClosed(err) })
    this.direction = direction
    this.localAddr = localAddr
    this.upgradeMs = upgradeMs
    try {
      const { addr, peer } = splitRemoteAddr(engine.remoteAddr(conn))
      this.remoteAddr = addr
      this.remotePeer = peerIdFromString(peer)
    } catch (err) {
      engine.close(conn)
      throw err instanceof Lp2pError && err.code === codes.ERR_HANDSHAKE_FAILED
        ? err
        : new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `the QUIC engine authenticated an invalid peer id: ${(err as Error).message}`, { cause: err })
    }
    // Ed25519 and secp256k1 ids inline the key; RSA and ECDSA ids are its hash, and the
    // engine keeps the certificate to itself: identify supplies those keys.
    this.remotePublicKey = this.remotePeer.publicKey
  }

  createMuxer (init: StreamMuxerInit): StreamMuxer {
    if (this.#muxer !== undefined) throw new Lp2pError(codes.ERR_MUXER_CLOSED, 'this QUIC connection already has its muxer')
    const muxer = new QuicMuxer({
      engine: this.#engine,
      connection: this.#conn,
      client: this.direction === 'outbound',
      maxOutboundStreams: this.#config.maxOutboundStreams,
      streamHighWaterMark: this.#config.streamHighWaterMark
    }, init)
    this.#muxer = muxer
    if (this.#closed) muxer.connectionClosed(undefined)
    return muxer
  }

  destroy (err: Error): void {
    if (this.#muxer !== undefined) this.#muxer.abort(err)
    else this.#engine.close(this.#conn)
  }

  #connectionClosed (err: unknown): void {
    if (this.#closed) return
    this.#closed = true
    this.#muxer?.connectionClosed(err)
    this.#onClosed?.()
  }
}
