/**
 * The Node stream node:tls runs over, made from a {@link ByteChannel}.
 *
 * node:tls needs a Duplex (ideally a `net.Socket`, whose C++ handle TLS drives
 * directly). Two cases:
 * - a {@link SocketChannel} over a `net.Socket`: the socket itself is taken over
 *   ({@link takeOverSocket}), so TLS reads and writes the kernel socket with no JS hop;
 * - any other channel (memory pipes in tests, a WebSocket stream): {@link ChannelDuplex},
 *   a small Duplex over the channel, which node wraps in its JS stream adapter.
 *
 * Driver code.
 */
import { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import type { ByteChannel, ByteChannelHandler } from '../../interfaces/channel.js'
import { SocketChannel } from '../../transport/socket-channel.js'
import { codes, Lp2pError } from '../../errors.js'

/**
 * A Duplex over a ByteChannel: no copies, channel backpressure in both directions
 * (`push()` false pauses the channel; a `write()` false holds the write callback until
 * `onDrain`), half-close both ways.
 *
 * It attaches to the channel only at the first `_read()`, when TLS starts reading:
 * until then the channel keeps holding its bytes (its own bounded buffer, source
 * paused), and nothing is buffered twice.
 */
export class ChannelDuplex extends Duplex {
  readonly #channel: ByteChannel
  #attached = false
  #pendingWrite: ((err?: Error | null) => void) | undefined

  constructor (channel: ByteChannel) {
    super({ allowHalfOpen: true })
    this.#channel = channel
  }

  override _read (): void {
    if (this.#attached) {
      this.#channel.resume()
      return
    }
    this.#attached = true
    const handler: ByteChannelHandler = {
      onData: (chunk) => {
        if (!this.push(chunk)) this.#channel.pause()
      },
      onEnd: () => { this.push(null) },
      onClose: (err) => {
        this.#releaseWrite()
        if (err !== undefined) this.destroy(err)
        else this.push(null) // both directions ended; autoDestroy finishes the stream
      },
      onDrain: () => { this.#releaseWrite() }
    }
    this.#channel.attach(handler)
  }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#channel.write(chunk)) cb()
    else this.#pendingWrite = cb
  }

  override _writev (chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    if (this.#channel.writev(chunks.map((c) => c.chunk))) cb()
    else this.#pendingWrite = cb
  }

  override _final (cb: (err?: Error | null) => void): void {
    this.#channel.end()
    cb()
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.#releaseWrite()
    this.#channel.destroy(err ?? undefined)
    cb(err)
  }

  #releaseWrite (): void {
    const cb = this.#pendingWrite
    this.#pendingWrite = undefined
    cb?.()
  }
}

/**
 * Takes the `net.Socket` out of a SocketChannel for TLS, with every byte the channel
 * holds put back in front of the socket's read buffer (node:tls drains that buffer
 * when it starts). Those bytes matter: a multistream-select dialer that negotiates
 * lazily sends its ClientHello right behind its protocol proposal, and the listener's
 * negotiation gave those bytes back to the channel with `unshift`.
 *
 * The channel is dead afterwards: its `'data'` listener is removed so the socket's
 * buffered bytes reach TLS only, and TLS owns the socket's handle from here on.
 *
 * Throws `ERR_HANDSHAKE_FAILED` if the channel already ended or closed.
 */
export async function takeOverSocket (channel: SocketChannel): Promise<Socket> {
  const socket = channel.socket as Socket
  const held: Uint8Array[] = []
  let ended = false
  let closed = false
  channel.attach({
    onData: (chunk) => { held.push(chunk) },
    onEnd: () => { ended = true },
    onClose: () => { closed = true },
    onDrain: () => {}
  })
  channel.resume()
  // attach() delivers held bytes on a microtask queued before this await resumes.
  await Promise.resolve()
  channel.detach()
  if (ended || closed || channel.closed || socket.destroyed) {
    throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'the connection closed before the TLS handshake')
  }
  // Bytes we wrote that wait for the end of the turn (SocketChannel's auto-cork, e.g.
  // our multistream-select answer) must reach the socket's handle before TLS writes
  // to that handle directly, or the ServerHello would overtake them.
  channel.flush()
  socket.pause()
  socket.removeAllListeners('data')
  if (held.length === 1) socket.unshift(held[0] as Uint8Array)
  else if (held.length > 1) socket.unshift(Buffer.concat(held))
  return socket
}

/** True when TLS can drive the channel's socket directly. */
export function hasTakeableSocket (channel: ByteChannel): channel is SocketChannel {
  return channel instanceof SocketChannel && channel.socket instanceof Socket && !channel.closed
}
