/**
 * The TCP transport (driver): dial and listen on `/ip4`, `/ip6`, `/dns`, `/dns4`,
 * `/dns6` + `/tcp`. Raw connections are {@link SocketChannel}s.
 *
 * - `TCP_NODELAY` on every socket: libp2p writes are already coalesced per tick by
 *   the muxer, and Nagle's delay would add up to one RTT to small request/response
 *   exchanges (a ping, a negotiation answer).
 * - Dials honour an AbortSignal (the dialer passes its timeout as one).
 * - Closing a listener stops accepting; accepted connections stay up.
 */
import net from 'node:net'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from '../interfaces/channel.js'
import type { Transport, TransportDialOptions, TransportListener, TransportListenerInit } from '../interfaces/transport.js'
import { codes, Lp2pError } from '../errors.js'
import { signalError } from '../util/deadline.js'
import { SocketChannel } from './socket-channel.js'
import { fromSocketAddress, requireTcpTarget, toTcpTarget } from './tcp-addr.js'
import { ListenerServer } from './listen-util.js'
import { multiaddrCache } from '../util/multiaddr-cache.js'

export interface TcpOptions {
  /**
   * Most connections one listener holds at once (`net.Server.maxConnections`); the
   * connection manager enforces the real limits, this is a backstop against a flood
   * that arrives faster than upgrades finish. Default 4096.
   */
  maxListenerConnections?: number
  /** TCP keep-alive probe delay in ms (0 disables). Default 60 s, like go-libp2p. */
  keepAliveDelay?: number
}

export function tcp (options: TcpOptions = {}): Transport<ByteChannel> {
  return new TcpTransport(options)
}

class TcpTransport implements Transport<ByteChannel> {
  readonly name = 'tcp'
  readonly #options: TcpOptions

  constructor (options: TcpOptions) {
    this.#options = options
  }

  canDial (addr: Multiaddr): boolean {
    return toTcpTarget(addr) !== undefined
  }

  canListen (addr: Multiaddr): boolean {
    const t = toTcpTarget(addr)
    return t !== undefined && !t.isDns
  }

  async dial (addr: Multiaddr, options: TransportDialOptions = {}): Promise<ByteChannel> {
    const target = requireTcpTarget(addr)
    const signal = options.signal
    if (signal?.aborted === true) throw signalError(signal)
    return await new Promise<ByteChannel>((resolve, reject) => {
      const socket = net.connect({
        host: target.host,
        port: target.port,
        ...(target.family !== 0 ? { family: target.family } : {}),
        allowHalfOpen: true,
        noDelay: true,
        keepAlive: (this.#options.keepAliveDelay ?? 60_000) > 0,
        keepAliveInitialDelay: this.#options.keepAliveDelay ?? 60_000
      })
      const cleanup = (): void => {
        socket.off('connect', onConnect)
        socket.off('error', onError)
        signal?.removeEventListener('abort', onAbort)
      }
      const onConnect = (): void => {
        cleanup()
        resolve(wrapSocket(socket, addr))
      }
      const onError = (err: Error): void => {
        cleanup()
        socket.destroy()
        reject(new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, `TCP dial to ${addr.toString()} failed: ${err.message}`, { cause: err }))
      }
      const onAbort = (): void => {
        cleanup()
        socket.destroy()
        reject(signalError(signal as AbortSignal))
      }
      socket.once('connect', onConnect)
      socket.once('error', onError)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  createListener (init: TransportListenerInit<ByteChannel>): TransportListener {
    return new TcpListener(init, this.#options)
  }
}

function wrapSocket (socket: net.Socket, dialed?: Multiaddr): SocketChannel {
  socket.setNoDelay(true)
  // For a dial, report the address we dialed (it may be a DNS name the user wants to
  // see again), for an accepted connection the socket's peer address. Both come from
  // the shared cache: a connection's addresses live as long as it does, and many
  // connections have the same one (every inbound connection of a listener has the
  // same local address; every dial to a server, the same remote one).
  const remote = dialed !== undefined
    ? multiaddrCache.fromString(dialed.toString())
    : socket.remoteAddress !== undefined && socket.remotePort !== undefined
      ? fromSocketAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily ?? 'IPv4')
      : multiaddrCache.fromString('/ip4/0.0.0.0/tcp/0')
  const { localAddress, localPort } = socket
  const local = localAddress !== undefined && localPort !== undefined
    ? fromSocketAddress(localAddress, localPort, localAddress.includes(':') ? 'IPv6' : 'IPv4')
    : undefined
  return new SocketChannel(socket, remote, local)
}

class TcpListener implements TransportListener {
  readonly #init: TransportListenerInit<ByteChannel>
  readonly #options: TcpOptions
  readonly #server: ListenerServer

  constructor (init: TransportListenerInit<ByteChannel>, options: TcpOptions) {
    this.#init = init
    this.#options = options
    this.#server = new ListenerServer(init)
  }

  async listen (addr: Multiaddr): Promise<void> {
    const target = requireTcpTarget(addr)
    if (target.isDns) throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `cannot listen on a DNS address: ${addr.toString()}`)
    this.#server.requireIdle()
    const keepAliveDelay = this.#options.keepAliveDelay ?? 60_000
    const server = net.createServer({
      allowHalfOpen: true,
      noDelay: true,
      keepAlive: keepAliveDelay > 0,
      keepAliveInitialDelay: keepAliveDelay
    }, (socket) => {
      this.#init.onConnection(wrapSocket(socket))
    })
    server.maxConnections = this.#options.maxListenerConnections ?? 4096
    await this.#server.bind(server, addr, target, fromSocketAddress)
  }

  getAddrs (): Multiaddr[] {
    return this.#server.getAddrs()
  }

  async close (): Promise<void> {
    await this.#server.close()
  }
}
