/**
 * The WebSocket transport (driver), `specs/websockets.md`: dial and listen on
 * `/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>/ws`, and on `/tls/ws` and `/wss` (TLS
 * WebSockets; listening on them needs `tls: { cert, key }`), optionally with
 * `/tls/sni/<name>`, `/http-path/<path>` and `/p2p/<id>` (see `websocket-addr.ts`).
 * Raw connections are {@link WebSocketChannel}s built directly on `ws` WebSockets;
 * the upgrader runs multistream-select, Noise or TLS, and a muxer on top, as over
 * TCP ("Authentication", "Encryption", "Stream Multiplexing").
 *
 * - `TCP_NODELAY` on every socket, for the same reason as the TCP transport: libp2p
 *   already coalesces writes per tick.
 * - No permessage-deflate: libp2p traffic is ciphertext, and inflating what a peer
 *   sends is a decompression-bomb risk.
 * - Every read is bounded: message size, fragments per message, buffered chunks,
 *   HTTP header size, handshake and close deadlines (`websocket-options.ts`).
 * - Dials honour an AbortSignal (the dialer passes its timeout as one) and fail with
 *   ERR_TRANSPORT_DIAL_FAILED (cause: the socket, TLS or HTTP error).
 */
import net from 'node:net'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import type { Multiaddr } from '@multiformats/multiaddr'
import { WebSocket, type ClientOptions } from 'ws'
import type { ByteChannel } from '../interfaces/channel.js'
import type { Transport, TransportDialOptions, TransportListener, TransportListenerInit } from '../interfaces/transport.js'
import { codes, Lp2pError, TimeoutError } from '../errors.js'
import { signalError } from '../util/deadline.js'
import { requireWsTarget, toWsTarget, toWsUrl, wsAddr, type WsTarget } from './websocket-addr.js'
import { WebSocketChannel } from './websocket-channel.js'
import { WebSocketListener, WS_ALPN } from './websocket-listener.js'
import { resolveOptions, wsReceiveOptions, type ResolvedWebSocketOptions, type WebSocketOptions } from './websocket-options.js'

export type { WebSocketOptions } from './websocket-options.js'

/** Creates the WebSocket transport (name `ws`). */
export function webSockets (options: WebSocketOptions = {}): Transport<ByteChannel> {
  return new WebSocketTransport(resolveOptions(options))
}

/** Fills a masking key with zeros (`clientMask: 'zero'`). */
function zeroMask (mask: Buffer): void {
  mask.fill(0)
}

class WebSocketTransport implements Transport<ByteChannel> {
  readonly name = 'ws'
  readonly #options: ResolvedWebSocketOptions

  constructor (options: ResolvedWebSocketOptions) {
    this.#options = options
  }

  canDial (addr: Multiaddr): boolean {
    return toWsTarget(addr) !== undefined
  }

  canListen (addr: Multiaddr): boolean {
    const t = toWsTarget(addr)
    return t !== undefined && !t.isDns && t.sni === undefined && (!t.secure || this.#options.tls !== undefined)
  }

  async dial (addr: Multiaddr, options: TransportDialOptions = {}): Promise<ByteChannel> {
    const target = requireWsTarget(addr)
    const signal = options.signal
    if (signal?.aborted === true) throw signalError(signal)
    const o = this.#options
    return await new Promise<ByteChannel>((resolve, reject) => {
      let socket: net.Socket | undefined
      let settled = false
      const clientOptions: ClientOptions & { closeTimeout: number } = {
        ...wsReceiveOptions(o),
        followRedirects: false,
        ...(o.clientMask === 'zero' ? { generateMask: zeroMask } : {}),
        createConnection: (() => {
          socket = this.#connect(target)
          return socket
        }) as unknown as ClientOptions['createConnection']
      }
      const fail = (err: Error): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        ws?.terminate()
        socket?.destroy()
        reject(err)
      }
      const onAbort = (): void => { fail(signalError(signal as AbortSignal)) }
      // One deadline for the whole opening handshake (TCP, TLS, HTTP upgrade). `ws`'s
      // own handshakeTimeout is an idle timeout of the HTTP request, and it does not
      // fire with a custom createConnection.
      const timer = setTimeout(() => {
        const cause = new TimeoutError(`opening handshake timed out after ${o.handshakeTimeout} ms`)
        fail(new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, `WebSocket dial to ${addr.toString()} failed: ${cause.message}`, { cause }))
      }, o.handshakeTimeout)
      let ws: WebSocket | undefined
      try {
        ws = new WebSocket(toWsUrl(target), clientOptions)
      } catch (err) {
        fail(new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, `WebSocket dial to ${addr.toString()} failed: ${(err as Error).message}`, { cause: err }))
        return
      }
      const opened = ws
      // `ws` emits 'error' again after a terminate(); the channel adds its own listener.
      opened.on('error', (err: Error) => {
        fail(new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, `WebSocket dial to ${addr.toString()} failed: ${err.message}`, { cause: err }))
      })
      opened.once('open', () => {
        if (settled || socket === undefined) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        resolve(new WebSocketChannel(opened, socket, addr, localAddr(socket, target)))
      })
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  createListener (init: TransportListenerInit<ByteChannel>): TransportListener {
    return new WebSocketListener(init, this.#options)
  }

  /** The TCP (or TLS over TCP) connection `ws` runs its HTTP request on. */
  #connect (target: WsTarget): net.Socket {
    const o = this.#options
    const tcp = {
      host: target.host,
      port: target.port,
      ...(target.family !== 0 ? { family: target.family } : {}),
      noDelay: true,
      keepAlive: o.keepAliveDelay > 0,
      keepAliveInitialDelay: o.keepAliveDelay
    }
    if (!target.secure) return net.connect(tcp)
    // RFC 6066 §3: the server name is a host name, never an IP address literal.
    const servername = target.sni ?? (net.isIP(target.host) === 0 ? target.host : undefined)
    const socket = tls.connect({
      ...o.dialTls,
      ...tcp,
      ...(servername !== undefined ? { servername } : {}),
      ALPNProtocols: WS_ALPN
    })
    socket.setNoDelay(true)
    if (o.keepAliveDelay > 0) socket.setKeepAlive(true, o.keepAliveDelay)
    return socket
  }
}

/** Our end of a dialed connection, as a WebSocket address (a client has no path). */
function localAddr (socket: Duplex, target: WsTarget): Multiaddr | undefined {
  const s = socket as net.Socket
  if (s.localAddress === undefined || s.localPort === undefined) return undefined
  return wsAddr(s.localAddress, s.localPort, s.localAddress.includes(':') ? 'IPv6' : 'IPv4', { flavour: target.flavour, path: '/' })
}
