/**
 * A {@link ByteChannel} over a Node `Duplex` (a `net.Socket`, a TLS socket, a
 * WebSocket stream). Driver code: it owns the socket's events.
 *
 * Writes are coalesced per turn of the event loop ("auto-cork"): the first small
 * write corks the socket and a `setImmediate` uncorks it, so everything written while
 * handling one I/O event (including the promise chains it starts) leaves in one
 * `writev` syscall. Connection setup is a chain of such events: the listener's
 * multistream-select answer and Noise message 2, the dialer's Noise message 3 and
 * first muxer frames, each pair used to cost two syscalls (and two TCP segments).
 * `setImmediate` rather than `process.nextTick`: Node runs the nextTick queue before
 * promise reactions, and the second write of such a pair comes from a promise
 * reaction (a layer that awaited the one below). Immediates run right after the poll
 * phase that delivered the event, and a pending immediate keeps the poll from
 * blocking, so the delay is microseconds.
 *
 * A write of {@link CORK_LIMIT} bytes or more is sent at once, with whatever was
 * corked before it: bulk data gains nothing from waiting, and its `write()` return
 * value (backpressure) stays what the socket reports right away.
 *
 * Socket errors close the channel with an `ERR_CONNECTION_CLOSED` error whose cause
 * is the socket's error (ECONNRESET, EPIPE, ...).
 */
import type { Duplex } from 'node:stream'
import type { Multiaddr } from '@multiformats/multiaddr'
import { ChannelBase } from './channel-base.js'
import { codes, Lp2pError } from '../errors.js'

/**
 * Writes of at least this many bytes are not held for the end of the turn: 16 KiB,
 * the default `writableHighWaterMark` of a `net.Socket`. Smaller writes are control
 * traffic (handshake messages, a few muxer frames) whose syscall costs more than the
 * copy; a Noise transport message carrying bulk data is up to 64 KiB.
 */
export const CORK_LIMIT = 16 * 1024

/** The channel of a socket, for the shared listeners below (one property, no closures). */
const kChannel = Symbol('lp2p.socketChannel')
type OwnedSocket = Duplex & { [kChannel]?: SocketChannel }

export class SocketChannel extends ChannelBase {
  /** The underlying socket; a TLS upgrade takes it over after `detach()` and `flush()`. */
  readonly socket: Duplex
  #error: Error | undefined
  #ended = false
  /** True while the socket is corked by us, until the scheduled immediate (or a flush). */
  #corked = false

  constructor (socket: Duplex, remoteAddr: Multiaddr, localAddr?: Multiaddr) {
    super(remoteAddr, localAddr)
    this.socket = socket
    // The listeners are shared functions that find this channel on the socket: an idle
    // connection keeps no closure per event (each one also costs a property dictionary
    // under tsx, whose esbuild `keepNames` renames every arrow function).
    ;(socket as OwnedSocket)[kChannel] = this
    socket.on('data', SocketChannel.#onSocketData)
    socket.on('end', SocketChannel.#onSocketEnd)
    socket.on('drain', SocketChannel.#onSocketDrain)
    socket.on('error', SocketChannel.#onSocketError)
    socket.on('close', SocketChannel.#onSocketClose)
    // A socket that already ended or closed before we wrapped it.
    if (socket.destroyed) this.deliverClose(this.#error)
  }

  static #of (socket: Duplex): SocketChannel {
    return (socket as OwnedSocket)[kChannel] as SocketChannel
  }

  static #onSocketData (this: Duplex, chunk: Buffer): void {
    SocketChannel.#of(this).deliverData(chunk)
  }

  static #onSocketEnd (this: Duplex): void {
    SocketChannel.#of(this).deliverEnd()
  }

  static #onSocketDrain (this: Duplex): void {
    SocketChannel.#of(this).deliverDrain()
  }

  static #onSocketError (this: Duplex, err: Error): void {
    const channel = SocketChannel.#of(this)
    channel.#error ??= new Lp2pError(codes.ERR_CONNECTION_CLOSED, `connection error: ${err.message}`, { cause: err })
  }

  static #onSocketClose (this: Duplex): void {
    const channel = SocketChannel.#of(this)
    channel.deliverClose(channel.#error)
  }

  static #onImmediate (channel: SocketChannel): void {
    channel.flush()
  }

  write (chunk: Uint8Array): boolean {
    if (this.#ended || this.closed || this.socket.destroyed) return true
    if (chunk.byteLength >= CORK_LIMIT) {
      const ok = this.socket.write(chunk)
      this.flush()
      return ok
    }
    this.#cork()
    return this.socket.write(chunk)
  }

  writev (chunks: readonly Uint8Array[]): boolean {
    if (this.#ended || this.closed || this.socket.destroyed) return true
    this.#cork()
    let ok = true
    let total = 0
    for (const c of chunks) {
      ok = this.socket.write(c)
      total += c.byteLength
    }
    if (total >= CORK_LIMIT) this.flush()
    return ok
  }

  /** Sends what this turn's writes corked now rather than at the end of the turn. */
  flush (): void {
    if (!this.#corked) return
    this.#corked = false
    this.socket.uncork()
  }

  end (): void {
    if (this.#ended) return
    this.#ended = true
    this.flush()
    this.socket.end()
  }

  destroy (err?: Error): void {
    if (this.closed) return
    this.#error ??= err
    this.#corked = false
    this.discardHeld()
    this.socket.destroy()
    this.deliverClose(this.#error)
  }

  protected pauseSource (): void {
    this.socket.pause()
  }

  protected resumeSource (): void {
    this.socket.resume()
  }

  #cork (): void {
    if (this.#corked) return
    this.#corked = true
    this.socket.cork()
    setImmediate(SocketChannel.#onImmediate, this)
  }
}
