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
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from '../interfaces/channel.js'
import type { Transport, TransportDialOptions, TransportListener, TransportListenerInit } from '../interfaces/transport.js'
import { codes, Lp2pError } from '../errors.js'
import { signalError } from '../util/deadline.js'
import { SocketChannel } from './socket-channel.js'
import { fromSocketAddress, requireTcpTarget, toTcpTarget } from './tcp-addr.js'
import { bindServer, interfaceHosts } from './listen-util.js'
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

export function tcp (options: TcpOptions = {}): Transport {
  return new TcpTransport(options)
}

class TcpTransport implements Transport {
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

  createListener (init: TransportListenerInit): TransportListener {
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

/**
 * How long an expanded wildcard address list is reused, ms: 5 s. An interface that
 * comes up (DHCP, a VPN) is announced to new connections within that time.
 */
export const INTERFACE_ADDRS_TTL_MS = 5_000

class TcpListener implements TransportListener {
  readonly #init: TransportListenerInit
  readonly #options: TcpOptions
  #server: net.Server | undefined
  /** The last getAddrs() answer; `expires` (ms since the epoch) only for a wildcard's expansion. */
  #addrs: { addrs: Multiaddr[], expires: number | undefined } | undefined

  constructor (init: TransportListenerInit, options: TcpOptions) {
    this.#init = init
    this.#options = options
  }

  async listen (addr: Multiaddr): Promise<void> {
    const target = requireTcpTarget(addr)
    if (target.isDns) throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `cannot listen on a DNS address: ${addr.toString()}`)
    if (this.#server !== undefined) throw new Lp2pError(codes.ERR_LISTEN_FAILED, 'this listener is already listening')
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
    this.#server = server
    try {
      await bindServer(server, addr, target, this.#init)
    } catch (err) {
      this.#server = undefined
      throw err
    }
  }

  /**
   * The addresses we listen on; a wildcard (`0.0.0.0`, `::`) is expanded to every
   * interface address of its family. Identify asks on every connection, so the answer
   * is kept: a specific address until the listener closes, an expansion for
   * {@link INTERFACE_ADDRS_TTL_MS} (interfaces come and go; `os.networkInterfaces()`
   * is a getifaddrs call and a multiaddr parse per address, about 30-100 us).
   */
  getAddrs (): Multiaddr[] {
    const server = this.#server
    if (server === undefined) return []
    const cached = this.#addrs
    if (cached !== undefined && (cached.expires === undefined || Date.now() < cached.expires)) return [...cached.addrs]
    const address = server.address()
    if (address === null || typeof address === 'string') return []
    const { address: host, port, family } = address
    const wildcard = host === '0.0.0.0' || host === '::'
    const addrs = wildcard ? expandWildcard(host === '::' ? 6 : 4, port) : [fromSocketAddress(host, port, family)]
    this.#addrs = { addrs, expires: wildcard ? Date.now() + INTERFACE_ADDRS_TTL_MS : undefined }
    return [...addrs]
  }

  async close (): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    this.#addrs = undefined
    // server.close()'s callback waits for every accepted connection to end; the
    // listening socket itself is closed at once, which is all "close" means here.
    await new Promise<void>((resolve) => {
      if (!server.listening) {
        resolve()
        return
      }
      server.close()
      setImmediate(resolve)
    })
  }
}

/** Every interface address of the family (link-local IPv6 left out: it needs a zone). */
function expandWildcard (family: 4 | 6, port: number): Multiaddr[] {
  return interfaceHosts(family).map((host) => multiaddr(`/ip${family}/${host}/tcp/${port}`))
}
