/**
 * The WebSocket listener (driver): a `net.Server` accepts TCP connections, wraps them
 * in TLS for `/tls/ws` and `/wss`, and injects them into an `http.Server` that never
 * listens itself (Node documents emitting `'connection'` for this); `ws` completes the
 * upgrade. Owning the TCP server directly gives the listener what the TCP transport
 * has: `maxConnections` as a backstop, `close()` that stops accepting while accepted
 * connections stay up, TCP_NODELAY and keep-alive on every socket.
 *
 * Bounds on a client that is not (yet) a WebSocket:
 * - one deadline per connection ({@link WebSocketOptions.handshakeTimeout}) from TCP
 *   accept to the completed upgrade, TLS handshake included;
 * - the HTTP header block is at most {@link MAX_HEADER_SIZE} bytes;
 * - a plain HTTP request gets `426 Upgrade Required` and the connection closes; a
 *   malformed request or upgrade gets `400` (from Node or `ws`) and closes; a request
 *   for another path than the address's `/http-path` gets `404`.
 * Connections still in the handshake are dropped by `close()`; they were never
 * handed to the node.
 */
import http from 'node:http'
import net from 'node:net'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import type { Multiaddr } from '@multiformats/multiaddr'
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws'
import type { ByteChannel } from '../interfaces/channel.js'
import type { TransportListener, TransportListenerInit } from '../interfaces/transport.js'
import { codes, Lp2pError } from '../errors.js'
import { requireWsTarget, wsAddr, type WsTarget } from './websocket-addr.js'
import { WebSocketChannel } from './websocket-channel.js'
import { ListenerServer } from './listen-util.js'
import { MAX_HEADER_SIZE, wsReceiveOptions, type ResolvedWebSocketOptions } from './websocket-options.js'

/** ALPN for the TLS under a WebSocket: HTTP/1.1 is the only HTTP version `ws` upgrades. */
export const WS_ALPN = ['http/1.1']

const NOT_FOUND = 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'

export class WebSocketListener implements TransportListener {
  readonly #init: TransportListenerInit<ByteChannel>
  readonly #options: ResolvedWebSocketOptions
  readonly #server: ListenerServer
  /** Sockets (TCP, or TLS over TCP) still in the opening handshake, with their deadlines. */
  readonly #pending = new Map<Duplex, NodeJS.Timeout>()

  constructor (init: TransportListenerInit<ByteChannel>, options: ResolvedWebSocketOptions) {
    this.#init = init
    this.#options = options
    this.#server = new ListenerServer(init)
  }

  async listen (addr: Multiaddr): Promise<void> {
    const target = requireWsTarget(addr)
    if (target.isDns) throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `cannot listen on a DNS address: ${addr.toString()}`)
    if (target.sni !== undefined) throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `cannot listen on an /sni address: ${addr.toString()}`)
    this.#server.requireIdle()
    const secureContext = target.secure ? this.#secureContext(addr) : undefined
    const options = this.#options
    const httpServer = this.#httpServer(target)
    const keepAlive = options.keepAliveDelay > 0
    const server = net.createServer({ noDelay: true, keepAlive, keepAliveInitialDelay: options.keepAliveDelay }, (raw) => {
      raw.setNoDelay(true)
      this.#accept(raw, httpServer, secureContext)
    })
    server.maxConnections = options.maxListenerConnections
    await this.#server.bind(server, addr, target, (host, port, family) => wsAddr(host, port, family, target))
  }

  getAddrs (): Multiaddr[] {
    return this.#server.getAddrs()
  }

  /** Stops accepting; connections still in the handshake are dropped. */
  async close (): Promise<void> {
    await this.#server.close(() => {
      for (const [socket, timer] of this.#pending) {
        clearTimeout(timer)
        socket.destroy()
      }
      this.#pending.clear()
    })
  }

  #secureContext (addr: Multiaddr): tls.SecureContext {
    const options = this.#options.tls
    if (options?.cert === undefined || options.key === undefined) {
      throw new Lp2pError(codes.ERR_LISTEN_FAILED, `listening on ${addr.toString()} needs a certificate and key in the transport's "tls" option`)
    }
    try {
      return tls.createSecureContext(options)
    } catch (err) {
      throw new Lp2pError(codes.ERR_LISTEN_FAILED, `invalid TLS certificate or key for ${addr.toString()}: ${(err as Error).message}`, { cause: err })
    }
  }

  #httpServer (target: WsTarget): http.Server {
    const options = this.#options
    const serverOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      clientTracking: false,
      ...wsReceiveOptions(options)
    }
    const wss = new WebSocketServer(serverOptions)
    const httpServer = http.createServer({ maxHeaderSize: MAX_HEADER_SIZE })
    httpServer.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.shouldKeepAlive = false
      res.writeHead(426, { Upgrade: 'websocket', Connection: 'close', 'Content-Length': 0 })
      res.end()
    })
    httpServer.on('clientError', (_err: Error, socket: Duplex) => {
      this.#reject(socket, BAD_REQUEST)
    })
    httpServer.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!this.#pending.has(socket)) {
        socket.destroy()
        return
      }
      if (target.path !== '/' && requestPath(req.url) !== target.path) {
        this.#reject(socket, NOT_FOUND)
        return
      }
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        this.#upgraded(ws, socket, target)
      })
    })
    return httpServer
  }

  #accept (raw: net.Socket, httpServer: http.Server, secureContext: tls.SecureContext | undefined): void {
    const socket: Duplex = secureContext === undefined
      ? raw
      : new tls.TLSSocket(raw, { isServer: true, secureContext, ALPNProtocols: WS_ALPN })
    // An error on the TCP socket under TLS reaches us as the TLS socket's close.
    if (socket !== raw) raw.on('error', () => {})
    const timer = setTimeout(() => {
      this.#pending.delete(socket)
      socket.destroy()
    }, this.#options.handshakeTimeout)
    timer.unref()
    this.#pending.set(socket, timer)
    socket.once('close', () => {
      const t = this.#pending.get(socket)
      if (t !== undefined) {
        clearTimeout(t)
        this.#pending.delete(socket)
      }
    })
    httpServer.emit('connection', socket)
  }

  #upgraded (ws: WebSocket, socket: Duplex, target: WsTarget): void {
    const timer = this.#pending.get(socket)
    if (timer === undefined) {
      // The deadline or close() came first.
      ws.terminate()
      return
    }
    clearTimeout(timer)
    this.#pending.delete(socket)
    const s = socket as net.Socket
    const remote = wsAddr(s.remoteAddress ?? '0.0.0.0', s.remotePort ?? 0, s.remoteFamily ?? 'IPv4', target)
    const local = s.localAddress !== undefined && s.localPort !== undefined
      ? wsAddr(s.localAddress, s.localPort, s.localAddress.includes(':') ? 'IPv6' : 'IPv4', target)
      : undefined
    this.#init.onConnection(new WebSocketChannel(ws, socket, remote, local))
  }

  /** Answers a request we will not upgrade, then closes the connection. */
  #reject (socket: Duplex | null, response: string): void {
    if (socket === null) return
    if (socket.writable) {
      socket.end(response)
      // A client that does not read its answer must not keep the connection.
      socket.once('finish', () => { socket.destroy() })
    } else {
      socket.destroy()
    }
  }
}

/** The path of a request target, without its query. */
function requestPath (url: string | undefined): string {
  if (url === undefined) return ''
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}
