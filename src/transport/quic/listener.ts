/**
 * The QUIC listener (driver): one engine endpoint on a UDP socket, and
 * `maxPendingHandshakes` accept calls waiting on it, each taking one inbound
 * handshake to its end. A handshake that completes becomes an upgraded connection
 * handed to the node (which admits it or closes it, as any inbound connection);
 * one that fails or times out frees its slot for the next.
 *
 * Junk datagrams never reach JavaScript: the engine drops what does not parse or
 * decrypt. Handshake floods are bounded by the slots and the idle timeout (see
 * `maxPendingHandshakes` in config.ts), since the engine sends no Retry.
 *
 * The engine's endpoint owns its connections (closing it closes them), so `close()`
 * stops accepting at once (a handshake that still completes is closed) and the
 * endpoint itself closes when its last connection has.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { TransportListener, TransportListenerInit, UpgradedConnection } from '../../interfaces/transport.js'
import { codes, Lp2pError } from '../../errors.js'
import { ListenAddrs } from '../listen-util.js'
import type { EngineConfig, EngineServer, QuicEngine } from './engine.js'
import type { QuicConfig } from './config.js'
import { QuicUpgrade } from './connection.js'
import { quicAddr, requireQuicTarget } from './quic-addr.js'

/** What the listener needs from its transport: the engine and its config, made on first use. */
export interface QuicEndpointSource {
  readonly config: QuicConfig
  /** @throws ERR_TRANSPORT_UNAVAILABLE, ERR_INVALID_KEY */
  engine (): { engine: QuicEngine, config: EngineConfig }
}

interface Bound {
  engine: QuicEngine
  server: EngineServer
  local: Multiaddr
  bound: { address: string, port: number, family: number }
  addrs: ListenAddrs
  /** Connections handed over and not yet closed. */
  open: number
  /** Set by close(): the endpoint closes when `open` reaches 0. */
  closing: (() => void) | undefined
}

export class QuicListener implements TransportListener {
  readonly #source: QuicEndpointSource
  readonly #init: TransportListenerInit<UpgradedConnection>
  #bound: Bound | undefined

  constructor (source: QuicEndpointSource, init: TransportListenerInit<UpgradedConnection>) {
    this.#source = source
    this.#init = init
  }

  async listen (addr: Multiaddr): Promise<void> {
    const target = requireQuicTarget(addr)
    if (this.#bound !== undefined) throw new Lp2pError(codes.ERR_LISTEN_FAILED, 'this listener is already listening')
    const { engine, config } = this.#source.engine()
    let server: EngineServer
    try {
      server = engine.listen(config, target.host, target.port)
    } catch (err) {
      throw new Lp2pError(codes.ERR_LISTEN_FAILED, `cannot listen on ${addr.toString()}: ${(err as Error).message}`, { cause: err })
    }
    const port = engine.port(server)
    const bound: Bound = {
      engine,
      server,
      local: quicAddr(target.family, target.host, port),
      bound: { address: target.host, port, family: target.family },
      addrs: new ListenAddrs((host, p, family) => quicAddr(family === 6 || family === 'IPv6' ? 6 : 4, host, p)),
      open: 0,
      closing: undefined
    }
    this.#bound = bound
    for (let i = 0; i < this.#source.config.maxPendingHandshakes; i++) this.#acceptNext(bound)
  }

  getAddrs (): Multiaddr[] {
    const b = this.#bound
    return b === undefined ? [] : b.addrs.get(b.bound)
  }

  async close (): Promise<void> {
    const b = this.#bound
    if (b === undefined) return
    this.#bound = undefined
    this.#init.onClose?.()
    if (b.open === 0) {
      await b.engine.closeServer(b.server)
      return
    }
    b.closing = () => { void b.engine.closeServer(b.server).catch(() => {}) }
  }

  /** One accept slot: takes a handshake to its end, hands the connection over, and waits again. */
  #acceptNext (b: Bound): void {
    b.engine.accept(b.server).then((conn) => {
      if (this.#bound !== b) {
        b.engine.close(conn)
        return
      }
      let upgrade: QuicUpgrade
      try {
        // The engine does not say when the handshake began: 0 ms for inbound.
        b.open++
        upgrade = new QuicUpgrade(b.engine, conn, 'inbound', b.local, this.#source.config, 0, () => {
          if (--b.open === 0) b.closing?.()
        })
      } catch {
        // An invalid peer id: the upgrade closed the connection.
        this.#acceptNext(b)
        return
      }
      this.#acceptNext(b)
      this.#init.onConnection(upgrade)
    }, () => {
      // A failed or timed-out handshake frees this slot; a closed endpoint ends it.
      // Taken up again on the next turn, so a burst of failures never loops in one.
      if (this.#bound === b) setImmediate(() => { if (this.#bound === b) this.#acceptNext(b) })
    })
  }
}
