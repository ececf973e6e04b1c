/**
 * A {@link ByteChannel} over a Node `Duplex` (a `net.Socket`, a TLS socket, a
 * WebSocket stream). Driver code: it owns the socket's events.
 *
 * `writev` corks the socket so the buffers leave in one `writev` syscall.
 * Socket errors close the channel with an `ERR_CONNECTION_CLOSED` error whose cause
 * is the socket's error (ECONNRESET, EPIPE, ...).
 */
import type { Duplex } from 'node:stream'
import type { Multiaddr } from '@multiformats/multiaddr'
import { ChannelBase } from './channel-base.js'
import { codes, Lp2pError } from '../errors.js'

export class SocketChannel extends ChannelBase {
  /** The underlying socket; a TLS upgrade takes it over after `detach()`. */
  readonly socket: Duplex
  #error: Error | undefined
  #ended = false

  constructor (socket: Duplex, remoteAddr: Multiaddr, localAddr?: Multiaddr) {
    super(remoteAddr, localAddr)
    this.socket = socket
    socket.on('data', (chunk: Buffer) => { this.deliverData(chunk) })
    socket.on('end', () => { this.deliverEnd() })
    socket.on('drain', () => { this.deliverDrain() })
    socket.on('error', (err: Error) => {
      this.#error ??= new Lp2pError(codes.ERR_CONNECTION_CLOSED, `connection error: ${err.message}`, { cause: err })
    })
    socket.on('close', () => { this.deliverClose(this.#error) })
    // A socket that already ended or closed before we wrapped it.
    if (socket.destroyed) this.deliverClose(this.#error)
  }

  write (chunk: Uint8Array): boolean {
    if (this.#ended || this.closed || this.socket.destroyed) return true
    return this.socket.write(chunk)
  }

  writev (chunks: readonly Uint8Array[]): boolean {
    if (this.#ended || this.closed || this.socket.destroyed) return true
    if (chunks.length === 1) return this.socket.write(chunks[0] as Uint8Array)
    this.socket.cork()
    let ok = true
    for (const c of chunks) ok = this.socket.write(c)
    this.socket.uncork()
    return ok
  }

  end (): void {
    if (this.#ended) return
    this.#ended = true
    this.socket.end()
  }

  destroy (err?: Error): void {
    if (this.closed) return
    this.#error ??= err
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
}
