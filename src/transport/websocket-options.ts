/**
 * Options of the WebSocket transport, their defaults and the limits that bound what a
 * remote can make us hold. Every number is justified where it is defined.
 */
import type { ConnectionOptions, SecureContextOptions } from 'node:tls'
import { invalidArgType, invalidArgValue } from '../errors.js'

export interface WebSocketOptions {
  /**
   * Certificate and key for listening on `/tls/ws` or `/wss` (any
   * `tls.SecureContextOptions`; `cert` and `key` are required, PEM or DER). Listening
   * on a secure address without them fails with ERR_LISTEN_FAILED.
   * `specs/websockets.md`, "Certificates": browsers need a certificate they can
   * verify; a self-signed one only serves loopback tests.
   */
  tls?: SecureContextOptions
  /**
   * TLS options for dialing `/tls/ws` and `/wss`, e.g. `ca` to trust a private
   * certificate authority. The server's certificate is verified against the host name
   * (or the `/sni` name) unless `rejectUnauthorized: false` is given here.
   */
  dialTls?: Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'servername' | 'ALPNProtocols'>
  /**
   * Largest WebSocket message we accept, in bytes; a larger one closes the connection
   * with code 1009 (`ws` checks the length in each frame header, before buffering the
   * payload). Default {@link DEFAULT_MAX_MESSAGE_SIZE}, at least
   * {@link MIN_MAX_MESSAGE_SIZE}.
   */
  maxMessageSize?: number
  /**
   * Milliseconds the opening handshake may take, TCP and TLS handshakes included: from
   * TCP accept to the completed upgrade on a listener, from the start of a dial to the
   * 101 response on a dial (the dialer's own timeout, passed as a signal, still applies).
   * Default {@link DEFAULT_HANDSHAKE_TIMEOUT}.
   */
  handshakeTimeout?: number
  /**
   * Milliseconds to wait for the remote's Close frame after `end()` before the socket
   * is destroyed. Default {@link DEFAULT_CLOSE_TIMEOUT}.
   */
  closeTimeout?: number
  /**
   * Most connections one listener holds at once (TCP level, upgraded or not); a
   * backstop like the TCP transport's. Default 4096.
   */
  maxListenerConnections?: number
  /** TCP keep-alive probe delay in ms (0 disables). Default 60 s, like the TCP transport. */
  keepAliveDelay?: number
  /**
   * The masking key this side uses as a WebSocket client (RFC 6455 §5.3). `'random'`
   * (default) follows the RFC: a fresh random key per frame. `'zero'` sends an all-zero
   * key, which makes masking a no-op on both ends (`ws` skips the XOR for a zero key):
   * masking and unmasking in JavaScript run at ~300-400 MB/s on this machine and cap
   * client-to-server throughput, see the transport's report. The mask protects
   * intermediaries from bytes chosen by a hostile script (RFC 6455 §10.3); libp2p's
   * traffic after the handshake is AEAD ciphertext no one can choose, but a zero key
   * is still not what the RFC says, so it is opt-in.
   */
  clientMask?: 'random' | 'zero'
}

/**
 * Default for {@link WebSocketOptions.maxMessageSize}: 256 KiB. The largest message a
 * libp2p implementation is known to send is rust-libp2p's: its Noise output is a
 * framed writer that coalesces Noise messages until 128 KiB (asynchronous-codec's
 * send high-water mark) and then adds one more whole message of up to 65537 bytes,
 * 196608 bytes in all, written as one WebSocket message. go-libp2p and py-libp2p
 * send one Noise message (<= 65537 bytes) per WebSocket message, js-libp2p 3 its
 * 2-byte length prefix and its ciphertext (<= 65535) as two messages. 256 KiB is
 * the next power of two above 192 KiB; `ws`'s own default (100 MiB) would let a peer
 * make us buffer 100 MiB per connection.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024

/**
 * The smallest {@link WebSocketOptions.maxMessageSize} allowed: 65537 bytes, one whole
 * Noise message on the wire (`specs/noise.md`), which go-libp2p, py-libp2p and lp2p
 * itself send as one WebSocket message.
 */
export const MIN_MAX_MESSAGE_SIZE = 65537

/**
 * Most frames one message may have (`ws`'s `maxFragments`). Our own sender uses at
 * most ~2 frames per KiB of a 65537-byte message (runs of small pieces are joined,
 * see `SMALL_PIECE`), so about 130; other implementations send one frame per message.
 * 1024 leaves room and bounds the fragment list a hostile peer can grow with empty
 * frames (`ws` default: 16384).
 */
export const MAX_FRAGMENTS = 1024

/**
 * Most TCP chunks `ws` may hold while a frame is incomplete (`maxBufferedChunks`).
 * A full {@link DEFAULT_MAX_MESSAGE_SIZE} message arriving one 1460-byte TCP segment
 * per read is ~180 chunks; 4096 is far above what a real peer produces, while a peer
 * trickling 1-byte segments can make `ws` hold at most 4096 small Buffer objects
 * (`ws` default: 262144, ~25 MB of object overhead).
 */
export const MAX_BUFFERED_CHUNKS = 4096

/**
 * Largest HTTP header block of an upgrade request, in bytes (Node's `maxHeaderSize`).
 * A WebSocket upgrade request is a few hundred bytes; 16 KiB is Node's own default,
 * kept for browsers that send large cookies.
 */
export const MAX_HEADER_SIZE = 16 * 1024

/**
 * Default for {@link WebSocketOptions.handshakeTimeout}: 10 s. The opening handshake
 * is the TCP handshake, a TLS handshake for `/wss` and one HTTP round trip; 10 s covers
 * a few seconds of RTT with retransmissions, and bounds how long a silent client can
 * hold a listener's connection slot.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000

/**
 * Default for {@link WebSocketOptions.closeTimeout}: 5 s. The closing handshake is one
 * round trip behind data already queued; `ws`'s own default (30 s) would keep a dead
 * connection's socket and timer six times longer.
 */
export const DEFAULT_CLOSE_TIMEOUT = 5_000

/** Default for {@link WebSocketOptions.maxListenerConnections}, as in the TCP transport. */
export const DEFAULT_MAX_LISTENER_CONNECTIONS = 4096

/** Default for {@link WebSocketOptions.keepAliveDelay}, as in the TCP transport. */
export const DEFAULT_KEEP_ALIVE_DELAY = 60_000

/** The options with defaults applied. */
export interface ResolvedWebSocketOptions {
  tls: SecureContextOptions | undefined
  dialTls: WebSocketOptions['dialTls']
  maxMessageSize: number
  handshakeTimeout: number
  closeTimeout: number
  maxListenerConnections: number
  keepAliveDelay: number
  clientMask: 'random' | 'zero'
}

/**
 * The `ws` settings both ends of a connection use, dialer (`ClientOptions`) and
 * listener (`ServerOptions`) alike: what a remote can make us hold is bounded the
 * same way whichever side opened the connection.
 */
export function wsReceiveOptions (o: ResolvedWebSocketOptions): {
  perMessageDeflate: false
  maxPayload: number
  maxFragments: number
  maxBufferedChunks: number
  skipUTF8Validation: true
  closeTimeout: number
} {
  return {
    // Compressing ciphertext gains nothing, and inflating is a decompression-bomb risk.
    perMessageDeflate: false,
    maxPayload: o.maxMessageSize,
    maxFragments: MAX_FRAGMENTS,
    maxBufferedChunks: MAX_BUFFERED_CHUNKS,
    // Text messages are delivered as bytes like binary ones; their UTF-8 is irrelevant.
    skipUTF8Validation: true,
    closeTimeout: o.closeTimeout
  }
}

/** Validates `options` (TypeError / RangeError at the API edge) and applies defaults. */
export function resolveOptions (options: WebSocketOptions): ResolvedWebSocketOptions {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options)
  const mask = options.clientMask ?? 'random'
  if (mask !== 'random' && mask !== 'zero') throw invalidArgValue('options.clientMask', "must be 'random' or 'zero'")
  return {
    tls: options.tls,
    dialTls: options.dialTls,
    maxMessageSize: atLeast('maxMessageSize', positiveInt('maxMessageSize', options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE), MIN_MAX_MESSAGE_SIZE),
    handshakeTimeout: positiveInt('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT),
    closeTimeout: positiveInt('closeTimeout', options.closeTimeout, DEFAULT_CLOSE_TIMEOUT),
    maxListenerConnections: positiveInt('maxListenerConnections', options.maxListenerConnections, DEFAULT_MAX_LISTENER_CONNECTIONS),
    keepAliveDelay: options.keepAliveDelay === 0 ? 0 : positiveInt('keepAliveDelay', options.keepAliveDelay, DEFAULT_KEEP_ALIVE_DELAY),
    clientMask: mask
  }
}

function atLeast (name: string, value: number, min: number): number {
  if (value < min) throw invalidArgValue(`options.${name}`, `must be at least ${min}, got ${value}`)
  return value
}

function positiveInt (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw invalidArgType(`options.${name}`, 'a number', value)
  if (!Number.isSafeInteger(value) || value <= 0) throw invalidArgValue(`options.${name}`, `must be a positive integer, got ${value}`)
  return value
}
