/**
 * What the TCP and WebSocket listeners share (driver code): one `net.Server` per
 * listener, bound with typed errors and the listener callbacks wired, closed without
 * waiting for accepted connections, and the addresses it listens on, a wildcard listen
 * address (`0.0.0.0`, `::`) expanded to the interface addresses it stands for (the
 * QUIC listener reports its addresses the same way).
 */
import type net from 'node:net'
import os from 'node:os'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from '../interfaces/channel.js'
import type { TransportListenerInit } from '../interfaces/transport.js'
import { codes, Lp2pError } from '../errors.js'

/**
 * How long an expanded wildcard address list is reused, ms: 5 s. An interface that
 * comes up (DHCP, a VPN) is announced to new connections within that time.
 */
export const INTERFACE_ADDRS_TTL_MS = 5_000

/**
 * The server of a listener: at most one `listen()` at a time, then its addresses until
 * `close()`.
 */
export class ListenerServer {
  readonly #init: TransportListenerInit<ByteChannel>
  #server: net.Server | undefined
  #addrs: ListenAddrs | undefined
  #bound: net.AddressInfo | undefined

  constructor (init: TransportListenerInit<ByteChannel>) {
    this.#init = init
  }

  /** @throws ERR_LISTEN_FAILED when a server is already bound (or binding). */
  requireIdle (): void {
    if (this.#server !== undefined) throw new Lp2pError(codes.ERR_LISTEN_FAILED, 'this listener is already listening')
  }

  /**
   * Binds `server` (see {@link bindServer}); `format` makes the addresses it reports.
   * A failed bind leaves the listener idle again.
   */
  async bind (server: net.Server, addr: Multiaddr, target: { host: string, port: number, family: number }, format: AddrFormat): Promise<void> {
    this.#server = server
    this.#addrs = new ListenAddrs(format)
    try {
      await bindServer(server, addr, target, this.#init)
    } catch (err) {
      this.#server = undefined
      this.#addrs = undefined
      throw err
    }
    // Bound once: the address no longer changes (a getsockname per identify message
    // otherwise, which every new connection sends).
    const address = server.address()
    this.#bound = address === null || typeof address === 'string' ? undefined : address
  }

  /** The addresses we listen on (see ListenAddrs: a wildcard is expanded, the answer kept). */
  getAddrs (): Multiaddr[] {
    return this.#addrs?.get(this.#bound) ?? []
  }

  /**
   * Stops accepting (see {@link closeServer}); `cleanup` runs first, only when a server
   * was bound. A second close does nothing.
   */
  async close (cleanup?: () => void): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    this.#addrs = undefined
    this.#bound = undefined
    cleanup?.()
    await closeServer(server)
  }
}

/**
 * Binds `server` to host/port; rejects with ERR_LISTEN_FAILED (address in use,
 * permission). Afterwards the server's errors and close reach `init`.
 */
async function bindServer (server: net.Server, addr: Multiaddr, target: { host: string, port: number, family: number }, init: TransportListenerInit<ByteChannel>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new Lp2pError(codes.ERR_LISTEN_FAILED, `cannot listen on ${addr.toString()}: ${err.message}`, { cause: err }))
    }
    server.once('error', onError)
    server.listen({ host: target.host, port: target.port, ipv6Only: target.family === 6 }, () => {
      server.off('error', onError)
      server.on('error', (err) => { init.onError?.(err) })
      server.on('close', () => { init.onClose?.() })
      resolve()
    })
  })
}

/**
 * Stops accepting. server.close()'s callback waits for every accepted connection to
 * end; the listening socket itself is closed at once, which is all a listener's
 * `close()` means (accepted connections stay up).
 */
async function closeServer (server: net.Server): Promise<void> {
  await new Promise<void>((resolve) => {
    if (!server.listening) {
      resolve()
      return
    }
    server.close()
    setImmediate(resolve)
  })
}

/** A socket address as a listener reports it (`family` as Node gives it: 'IPv4', 6, ...). */
export type AddrFormat = (host: string, port: number, family: string | number) => Multiaddr

/** A bound socket's address as Node reports it (`net.AddressInfo`, or the QUIC engine's port). */
export interface BoundAddress {
  address: string
  port: number
  family: string | number
}

/**
 * The addresses a listener's socket is bound to; a wildcard is expanded to every
 * interface address of its family. Identify asks on every connection, so the answer
 * is kept: a specific address for the life of the binding (a new bind makes a new
 * ListenAddrs), an expansion for {@link INTERFACE_ADDRS_TTL_MS} (interfaces come and
 * go; `os.networkInterfaces()` is a getifaddrs call and a multiaddr parse per
 * address, about 30-100 us).
 */
export class ListenAddrs {
  readonly #format: AddrFormat
  /** The last answer; `expires` (ms since the epoch) only for a wildcard's expansion. */
  #cached: { addrs: Multiaddr[], expires: number | undefined } | undefined

  constructor (format: AddrFormat) {
    this.#format = format
  }

  /** A fresh array (the caller may change it); empty while nothing is bound. */
  get (bound: BoundAddress | undefined): Multiaddr[] {
    if (bound === undefined) return []
    const cached = this.#cached
    if (cached !== undefined && (cached.expires === undefined || Date.now() < cached.expires)) return [...cached.addrs]
    const { address: host, port, family } = bound
    const wildcard = host === '0.0.0.0' || host === '::' ? (host === '::' ? 6 : 4) : undefined
    const addrs = wildcard !== undefined
      ? interfaceHosts(wildcard).map((h) => this.#format(h, port, wildcard))
      : [this.#format(host, port, family)]
    this.#cached = { addrs, expires: wildcard !== undefined ? Date.now() + INTERFACE_ADDRS_TTL_MS : undefined }
    return [...addrs]
  }
}

/**
 * Every interface address of the family (IPv6 link-local addresses left out: they
 * need a zone), for expanding a wildcard listen address.
 */
function interfaceHosts (family: 4 | 6): string[] {
  const out: string[] = []
  for (const infos of Object.values(os.networkInterfaces())) {
    for (const info of infos ?? []) {
      if (family === 4 && info.family === 'IPv4') out.push(info.address)
      else if (family === 6 && info.family === 'IPv6' && info.scopeid === 0) out.push(info.address)
    }
  }
  return out
}
