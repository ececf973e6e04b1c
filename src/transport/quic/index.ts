/**
 * The QUIC transport, `/ip4|ip6/<address>/udp/<port>/quic-v1` (`specs/quic.md`): a
 * transport that brings its own security (TLS 1.3 with the libp2p certificate,
 * `specs/tls.md`) and its own streams, so its dials and listeners yield upgraded
 * connections ({@link Transport.secure}) that the upgrader passes through. Connect +
 * first response byte is two round trips (QUIC + TLS handshake, then the request),
 * against three over TCP + Noise.
 *
 * ```ts
 * const node = createNode({ listen: ['/ip4/0.0.0.0/udp/0/quic-v1'] })   // quic() is a default transport
 * ```
 *
 * The engine is native and optional (engine.ts): without it for this platform, the
 * transport still recognises QUIC addresses and fails each dial and listen with
 * ERR_TRANSPORT_UNAVAILABLE naming the missing package, so a peer's other addresses
 * are tried and the user is told what to install.
 */
import { performance } from 'node:perf_hooks'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '../../interfaces/keys.js'
import type { Transport, TransportContext, TransportDialOptions, TransportListener, TransportListenerInit, UpgradedConnection } from '../../interfaces/transport.js'
import { codes, Lp2pError } from '../../errors.js'
import { deadline, signalError } from '../../util/deadline.js'
import { engineError, loadEngine, type EngineClient, type EngineConfig, type EngineConnection, type QuicEngine } from './engine.js'
import { engineSettings, resolveQuicOptions, type QuicConfig, type QuicOptions } from './config.js'
import { QuicUpgrade } from './connection.js'
import { QuicListener, type QuicEndpointSource } from './listener.js'
import { requireQuicTarget, toQuicTarget } from './quic-addr.js'

export type { QuicOptions } from './config.js'
export { QUIC_DEFAULTS } from './config.js'
export { QUIC_PROTOCOL } from './protocol.js'
export { loadEngine as loadQuicEngine } from './engine.js'

/** A QUIC transport; options are validated here (TypeError / RangeError). */
export function quic (options: QuicOptions = {}): Transport<UpgradedConnection> {
  return new QuicTransport(options)
}

/** A client endpoint (one UDP socket) shared by the dials of one address family. */
interface ClientEndpoint {
  native: EngineClient
  /** Connections dialed from it and not yet closed, plus dials in progress. */
  users: number
}

class QuicTransport implements Transport<UpgradedConnection>, QuicEndpointSource {
  readonly name = 'quic-v1'
  readonly secure = true
  readonly config: QuicConfig
  #key: PrivateKey | undefined
  #engine: { engine: QuicEngine, config: EngineConfig } | undefined
  readonly #clients: Partial<Record<4 | 6, ClientEndpoint>> = {}

  constructor (options: QuicOptions) {
    this.config = resolveQuicOptions(options)
    this.#key = options.privateKey
  }

  init (context: TransportContext): void {
    this.#key ??= context.privateKey
  }

  canDial (addr: Multiaddr): boolean {
    return toQuicTarget(addr) !== undefined
  }

  canListen (addr: Multiaddr): boolean {
    return toQuicTarget(addr) !== undefined
  }

  /** The engine and a config for our key, made on first use (a certificate per key). */
  engine (): { engine: QuicEngine, config: EngineConfig } {
    if (this.#engine === undefined) {
      const engine = loadEngine()
      if (this.#key === undefined) throw new Lp2pError(codes.ERR_INVALID_KEY, 'the QUIC transport has no identity key (give quic({ privateKey }) or use it in a node)')
      this.#engine = { engine, config: engine.config(this.#key.bytes, engineSettings(this.config)) }
    }
    return this.#engine
  }

  async dial (addr: Multiaddr, options: TransportDialOptions = {}): Promise<UpgradedConnection> {
    const target = requireQuicTarget(addr)
    if (options.signal?.aborted === true) throw signalError(options.signal)
    const { engine, config } = this.engine()
    const client = this.#client(engine, config, target.family)
    const started = performance.now()
    const dl = deadline(this.config.handshakeTimeout, options.signal, `QUIC handshake with ${addr.toString()}`)
    const connecting = engine.connect(client.native, target.host, target.port)
    let conn: EngineConnection
    try {
      conn = await new Promise<EngineConnection>((resolve, reject) => {
        const onAbort = (): void => { reject(signalError(dl.signal)) }
        dl.signal.addEventListener('abort', onAbort, { once: true })
        connecting.then(resolve, (err: unknown) => {
          const e = engineError(err, `QUIC dial to ${addr.toString()} failed`)
          reject(e.code === codes.ERR_HANDSHAKE_FAILED ? e : new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, e.message, { cause: err }))
        }).finally(() => { dl.signal.removeEventListener('abort', onAbort) })
      })
    } catch (err) {
      // A handshake we gave up on may still complete: close it then.
      connecting.then((c) => { engine.close(c) }, () => {}).finally(() => { this.#release(engine, target.family) })
      throw err
    } finally {
      dl.clear()
    }
    return new QuicUpgrade(engine, conn, 'outbound', undefined, this.config, performance.now() - started, () => { this.#release(engine, target.family) })
  }

  createListener (init: TransportListenerInit<UpgradedConnection>): TransportListener {
    return new QuicListener(this, init)
  }

  /** The client endpoint of the family, opened on demand; counts one more user. */
  #client (engine: QuicEngine, config: EngineConfig, family: 4 | 6): ClientEndpoint {
    let c = this.#clients[family]
    if (c === undefined) {
      let native: EngineClient
      try {
        native = engine.client(config, family)
      } catch (err) {
        throw new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, `cannot open a QUIC client socket for IPv${family}: ${(err as Error).message}`, { cause: err })
      }
      c = { native, users: 0 }
      this.#clients[family] = c
    }
    c.users++
    return c
  }

  /**
   * One user of the family's endpoint is done. The last one closes it, so an idle
   * transport holds no socket (the endpoint's close would end its connections, so it
   * waits for them).
   */
  #release (engine: QuicEngine, family: 4 | 6): void {
    const c = this.#clients[family]
    if (c === undefined || --c.users > 0) return
    delete this.#clients[family]
    engine.closeClient(c.native)
  }
}
