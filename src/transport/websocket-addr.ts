/**
 * Multiaddr <-> WebSocket target conversion (pure), after `specs/websockets.md`,
 * "Addressing":
 *
 * ```
 * /<ip4|ip6|dns|dns4|dns6>/<host>[/tcp/<port>][/tls[/sni/<name>]]/ws[/http-path/<path>][/p2p/<id>]
 * /<ip4|ip6|dns|dns4|dns6>/<host>[/tcp/<port>]/wss[/http-path/<path>][/p2p/<id>]
 * ```
 *
 * - `/tls/ws` and `/wss` (a deprecated alias, `multiaddr-protocols.csv`) are TLS
 *   WebSockets; `/ws` is plain.
 * - Without `/tcp`, the port is 443 for a secure WebSocket and 80 for a plain one
 *   ("If a TCP port is omitted ...").
 * - `/sni/<name>` is the TLS server name (and the HTTP Host) to use when the host part
 *   is an already resolved address.
 * - `/http-path` (`multiaddr-http-path.md`) may sit before or after `/p2p` ("should be
 *   appended to the end of an existing multiaddr, including after the peer id"). Its
 *   value, as the multiaddr codec decodes it, is the HTTP path in its HTTP form
 *   (`/http-path/a%2520space` is the HTTP path `/a%20space`), so it is used verbatim as
 *   the request target; a value that is not a valid request target (bytes outside
 *   printable ASCII, or `?` / `#`, which would start a query or a fragment) makes the
 *   address unusable rather than being silently re-encoded.
 * - `/p2p/<id>` names the peer, not the route (`specs/addressing.md`), and is ignored.
 */
import { multiaddr, type Component, type Multiaddr } from '@multiformats/multiaddr'
import { codes, Lp2pError } from '../errors.js'
import { HOST_PROTOCOLS, socketAddressText, tcpPort, type HostKind } from './tcp-addr.js'

/** How the WebSocket part of an address was written; kept for the addresses we report. */
export type WsFlavour = 'ws' | 'tls/ws' | 'wss'

export interface WsTarget extends HostKind {
  /** IP address or DNS name to connect to. */
  host: string
  port: number
  /** True for `/tls/ws` and `/wss`. */
  secure: boolean
  flavour: WsFlavour
  /** The TLS server name from `/sni`, if any. */
  sni: string | undefined
  /** The HTTP request path: `/` unless the address has `/http-path`. */
  path: string
}

/** Default ports when `/tcp` is omitted (`specs/websockets.md`, "Addressing"). */
export const DEFAULT_WS_PORT = 80
export const DEFAULT_WSS_PORT = 443

/** A request target we can send as it is: printable ASCII without `?` and `#`. */
const VALID_PATH = /^\/[\x21-\x22\x24-\x3e\x40-\x7e]*$/

/** The WebSocket target of `addr`, or undefined when it is not a WebSocket address. */
export function toWsTarget (addr: Multiaddr): WsTarget | undefined {
  const parts = addr.getComponents()
  const host = parts[0]
  const kind = host === undefined ? undefined : HOST_PROTOCOLS[host.name]
  if (host === undefined || kind === undefined || host.value === undefined || host.value === '') return undefined
  let i = 1
  let port: number | undefined
  if (parts[i]?.name === 'tcp') {
    port = tcpPort(parts[i]?.value)
    if (port === undefined) return undefined
    i++
  }
  let tls = false
  let sni: string | undefined
  if (parts[i]?.name === 'tls') {
    tls = true
    i++
    if (parts[i]?.name === 'sni') {
      sni = parts[i]?.value
      if (sni === undefined || sni === '') return undefined
      i++
    }
  }
  let flavour: WsFlavour
  const ws = parts[i]?.name
  if (ws === 'ws') flavour = tls ? 'tls/ws' : 'ws'
  else if (ws === 'wss' && !tls) flavour = 'wss'
  else return undefined
  i++
  // The rest: at most one /http-path and at most one /p2p, in either order.
  let path = '/'
  let seenPath = false
  let seenPeer = false
  for (; i < parts.length; i++) {
    const part = parts[i] as Component
    if (part.name === 'p2p' && !seenPeer) {
      seenPeer = true
    } else if (part.name === 'http-path' && !seenPath) {
      seenPath = true
      const value = part.value ?? ''
      path = value.startsWith('/') ? value : `/${value}`
      if (!VALID_PATH.test(path)) return undefined
    } else {
      return undefined
    }
  }
  const secure = flavour !== 'ws'
  return {
    host: host.value,
    port: port ?? (secure ? DEFAULT_WSS_PORT : DEFAULT_WS_PORT),
    ...kind,
    secure,
    flavour,
    sni,
    path
  }
}

/** Like {@link toWsTarget} but throws ERR_INVALID_MULTIADDR. */
export function requireWsTarget (addr: Multiaddr): WsTarget {
  const t = toWsTarget(addr)
  if (t === undefined) {
    throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `not a WebSocket multiaddr: ${addr.toString()}`)
  }
  return t
}

/**
 * The URL to request. With `/sni` the URL names the SNI host, so that the HTTP `Host`
 * header matches the TLS server name (what go-libp2p sends too); the TCP connection
 * itself always goes to `target.host`.
 */
export function toWsUrl (target: WsTarget): string {
  const name = target.sni ?? target.host
  const host = name.includes(':') ? `[${name}]` : name
  return `${target.secure ? 'wss' : 'ws'}://${host}:${target.port}${target.path}`
}

/**
 * The multiaddr of a socket address followed by the WebSocket part of `target`
 * (its flavour and `/http-path`, never `/sni` or `/p2p`): what a listener reports and
 * what an accepted connection's remote address looks like.
 */
export function wsAddr (ip: string, port: number, family: string | number, target: Pick<WsTarget, 'flavour' | 'path'>): Multiaddr {
  const base = socketAddressText(ip, port, family)
  const suffix = target.path === '/' ? '' : `/http-path/${encodeURIComponent(target.path.slice(1))}`
  return multiaddr(`${base}/${target.flavour}${suffix}`)
}
