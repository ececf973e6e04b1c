/**
 * Protocol handlers by protocol id (`connections/README.md`, "Opening New Streams
 * Over a Connection": exact literal matching by default).
 */
import type { Connection, Stream } from '../interfaces/connection.js'
import { codes, invalidArgType, invalidArgValue, Lp2pError } from '../errors.js'

export type StreamHandler = (stream: Stream, connection: Connection) => void | Promise<void>

export interface HandlerOptions {
  /**
   * Most inbound streams of this protocol open at once on one connection; more are
   * reset. Default {@link DEFAULT_MAX_INBOUND_STREAMS}.
   */
  maxInboundStreams?: number
  /** Replace an existing handler instead of failing with ERR_HANDLER_EXISTS. */
  force?: boolean
}

/**
 * Default per-protocol, per-connection inbound stream cap. A protocol that needs more
 * concurrency (perf, bulk transfer) raises it; 32 bounds what one peer can make one
 * handler do at once (js-libp2p uses the same default).
 */
export const DEFAULT_MAX_INBOUND_STREAMS = 32

export interface RegisteredHandler {
  protocol: string
  handler: StreamHandler
  maxInboundStreams: number
}

/** Longest protocol id we register: the negotiation's message limit minus the newline. */
const MAX_PROTOCOL_ID_LENGTH = 1023

export class ProtocolRegistry {
  readonly #handlers = new Map<string, RegisteredHandler>()

  add (protocol: string, handler: StreamHandler, options: HandlerOptions = {}): void {
    if (typeof protocol !== 'string') throw invalidArgType('protocol', 'a string', protocol)
    if (protocol.length === 0 || protocol.length > MAX_PROTOCOL_ID_LENGTH || protocol.includes('\n')) {
      throw invalidArgValue('protocol', 'must be 1-1023 characters without a newline')
    }
    if (typeof handler !== 'function') throw invalidArgType('handler', 'a function', handler)
    const max = options.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS
    if (!Number.isInteger(max) || max < 1) throw invalidArgValue('maxInboundStreams', 'must be a positive integer')
    if (this.#handlers.has(protocol) && options.force !== true) {
      throw new Lp2pError(codes.ERR_HANDLER_EXISTS, `a handler for ${protocol} is already registered`)
    }
    this.#handlers.set(protocol, { protocol, handler, maxInboundStreams: max })
  }

  remove (protocol: string): boolean {
    return this.#handlers.delete(protocol)
  }

  get (protocol: string): RegisteredHandler | undefined {
    return this.#handlers.get(protocol)
  }

  has (protocol: string): boolean {
    return this.#handlers.has(protocol)
  }

  protocols (): string[] {
    return [...this.#handlers.keys()]
  }
}
