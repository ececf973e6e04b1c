/**
 * An upgraded connection: the muxer over the secure channel, plus what the node and
 * users need to know about it (`connections/README.md`, "Opening New Streams Over a
 * Connection").
 *
 * Driver code. Outbound streams negotiate their protocol here; inbound streams are
 * handed to the node, which owns the protocol handlers.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection, ConnectionStatus, NewStreamOptions, Stream } from '../interfaces/connection.js'
import type { PeerId, PublicKey } from '../interfaces/keys.js'
import type { Direction, MuxedStream, StreamMuxer, StreamMuxerInit } from '../interfaces/muxer.js'
import type { Upgraded } from '../upgrader/upgrader.js'
import { codes, invalidArgType, Lp2pError } from '../errors.js'
import { deadline } from '../util/deadline.js'
import { selectOnStream } from '../negotiation/stream-negotiation.js'

/**
 * What a connection tells its node. One object per node, shared by all its
 * connections (each callback gets the connection), so a connection costs no closures.
 */
export interface ConnectionInit {
  /** A stream the remote opened; the node negotiates and dispatches it. */
  onIncomingStream: (stream: Stream, connection: ConnectionImpl) => void
  /** A stream of ours whose protocol is agreed (or assumed, when lazy). */
  onStreamOpen: (stream: Stream, connection: ConnectionImpl) => void
  /** The connection closed; final. */
  onClose: (connection: ConnectionImpl, err?: Error) => void
  /** Time allowed to negotiate an outbound stream's protocol, ms. */
  streamNegotiationTimeout: number
  /** Time a graceful close waits for streams before resetting them, ms. */
  closeTimeout: number
  /**
   * Time a new stream waits for a liveness probe on a stale connection (the muxer's
   * `stale`), ms, before failing with ERR_CONNECTION_STALE.
   */
  livenessProbeTimeout: number
}

export class ConnectionImpl implements Connection {
  readonly id: string
  readonly remotePeer: PeerId
  readonly remotePublicKey: PublicKey | undefined
  readonly remoteAddr: Multiaddr
  readonly localAddr: Multiaddr | undefined
  readonly direction: Direction
  readonly encryption: string
  readonly multiplexer: string
  readonly timeline: { readonly open: number, readonly upgraded: number, close?: number }
  /** How the muxer was agreed (inlined in the handshake, lazily, or by multistream). */
  readonly muxerNegotiation: Upgraded['muxerNegotiation']

  #status: ConnectionStatus = 'open'
  readonly #muxer: StreamMuxer
  readonly #init: ConnectionInit
  #closeError: Error | undefined

  constructor (upgraded: Upgraded, opened: number, id: string, init: ConnectionInit) {
    this.id = id
    this.#init = init
    this.remotePeer = upgraded.remotePeer
    this.remotePublicKey = upgraded.remotePublicKey
    this.remoteAddr = upgraded.remoteAddr
    this.localAddr = upgraded.localAddr
    this.direction = upgraded.direction
    this.encryption = upgraded.encryption
    this.multiplexer = upgraded.multiplexer
    this.muxerNegotiation = upgraded.muxerNegotiation
    this.timeline = { open: opened, upgraded: Date.now() }
    this.#muxer = upgraded.createMuxer(new ConnectionImpl.#MuxerHooks(this))
  }

  /** The muxer's {@link StreamMuxerInit}: prototype methods, no closures per connection. */
  static readonly #MuxerHooks = class MuxerHooks implements StreamMuxerInit {
    readonly #c: ConnectionImpl
    readonly direction: Direction
    constructor (connection: ConnectionImpl) {
      this.#c = connection
      this.direction = connection.direction
    }

    onIncomingStream (stream: MuxedStream): void {
      const c = this.#c
      c.#init.onIncomingStream(c.#adopt(stream), c)
    }

    onClose (err?: Error): void { this.#c.#closed(err) }
  }

  get status (): ConnectionStatus {
    return this.#status
  }

  get streams (): readonly Stream[] {
    return this.#muxer.streams as readonly Stream[]
  }

  /** Why the connection closed, when it closed with an error. */
  get closeError (): Error | undefined {
    return this.#closeError
  }

  async newStream (protocols: string | readonly string[], options: NewStreamOptions = {}): Promise<Stream> {
    const list = typeof protocols === 'string' ? [protocols] : protocols
    if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string')) {
      throw invalidArgType('protocols', 'a protocol id or a non-empty array of protocol ids', protocols)
    }
    if (this.#status !== 'open') {
      throw new Lp2pError(codes.ERR_CONNECTION_CLOSED, `connection ${this.id} is ${this.#status}`)
    }
    // A connection silent for too long is proven alive before a stream is handed out
    // on it: a probe that meets a dead path fails here, typed, instead of leaving the
    // caller a stream that hangs (ARCHITECTURE.md, "Liveness").
    if (this.#muxer.stale === true) await this.#probe(options.signal)
    const stream = this.#adopt(this.#muxer.newStream())
    // A lazy negotiation returns at once; one that waits is bounded by the timeout (a
    // timer inside the negotiation, no AbortController per stream) and the signal.
    await selectOnStream(stream, list, {
      timeout: this.#init.streamNegotiationTimeout,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.lazy !== undefined ? { lazy: options.lazy } : {})
    })
    this.#init.onStreamOpen(stream, this)
    return stream
  }

  async #probe (signal: AbortSignal | undefined): Promise<void> {
    const muxer = this.#muxer
    if (muxer.probe === undefined) return
    const ms = this.#init.livenessProbeTimeout
    const dl = deadline(ms, signal, 'liveness probe')
    try {
      await muxer.probe(dl.signal)
    } catch (err) {
      if (err instanceof Lp2pError && err.code === codes.ERR_TIMEOUT) {
        throw new Lp2pError(codes.ERR_CONNECTION_STALE, `connection ${this.id} is silent and did not answer a liveness probe within ${ms} ms`, { cause: err })
      }
      throw err
    } finally {
      dl.clear()
    }
  }

  async close (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#status === 'closed') return
    this.#status = 'closing'
    const dl = deadline(this.#init.closeTimeout, options.signal, 'connection close')
    try {
      await this.#muxer.close({ signal: dl.signal })
    } catch (err) {
      this.#muxer.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      dl.clear()
    }
  }

  abort (err?: Error): void {
    if (this.#status === 'closed') return
    this.#status = 'closing'
    this.#muxer.abort(err ?? new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'connection aborted'))
  }

  #adopt (stream: MuxedStream): Stream {
    Object.defineProperty(stream, 'connection', { value: this, enumerable: false, configurable: true })
    // A remote reset destroys the stream with an error. Without any 'error' listener
    // Node would turn that into an uncaught exception, letting a peer crash the
    // process. The error still reaches every listener the application adds, `for
    // await` loops and `pipeline()`.
    stream.on('error', ignore)
    return stream as Stream
  }

  #closed (err?: Error): void {
    if (this.#status === 'closed') return
    this.#status = 'closed'
    this.#closeError = err
    this.timeline.close = Date.now()
    this.#init.onClose(this, err)
  }
}

function ignore (): void {}
