/**
 * A {@link ByteChannel} over an open `ws` WebSocket (driver code). libp2p uses a
 * WebSocket as a plain byte pipe (`specs/websockets.md`: security and multiplexing run
 * on top of it, as over TCP), so message boundaries carry no meaning: every binary
 * (or text) message's payload is delivered as bytes, in order.
 *
 * Receiving: the socket's `binaryType` is `'fragments'`, so a message sent in several
 * frames arrives as the list of its frame payloads, each delivered as its own chunk
 * without the copy `ws` makes to join them. Read backpressure pauses the WebSocket
 * (`ws.pause()` pauses the TCP socket; the kernel window then stops the sender).
 *
 * Sending: one `writev` is one WebSocket message (split at {@link MAX_SEND_MESSAGE}),
 * written inside one socket cork so all its frames leave in one syscall. Each large
 * piece is a frame of its own (no copy on a server, which does not mask), and each
 * run of small pieces is joined into one frame. Measured between two processes on
 * loopback (2-core machine, 512 MiB, median of 5, zero client mask so that masking
 * does not hide the difference): for Noise-shaped writevs `[30 B, 65503 B, 16 B]`,
 * one message per piece 9.2 Gbit/s, this 8.6, all pieces joined into one buffer 6.8
 * (the copy); for writevs of twenty 60-byte pieces, one message per piece 0.70 (a
 * frame header and a `'message'` event per piece), this ~1.0, joined 1.0-1.3 (raw TCP
 * 1.15). Frames of one message reach the receiver as separate chunks (`binaryType =
 * 'fragments'`), so the receiver does not join them either.
 *
 * Closing: a WebSocket has no half-close. `end()` sends a Close frame (code 1000)
 * after everything written before it; the remote answers with its own Close frame
 * and the TCP connection closes. Bytes the remote sends before it sees our Close
 * frame are still delivered, but nothing after: a peer that keeps a stream open for
 * writing after we ended cannot send on it any more. The layers above do not depend
 * on a transport half-close (yamux ends the channel only when the whole session is
 * done, Noise and TLS pass `end()` down), so this is enough for libp2p. A Close frame
 * received with code 1000 (normal), 1001 (going away) or 1005 (no code) is an end
 * (`onEnd`) followed by a clean close; any other code, a protocol violation (an
 * oversized message, bad framing), or a TCP connection lost without a Close frame
 * (1006) closes the channel with an `ERR_CONNECTION_CLOSED` error whose `cause` says
 * what happened.
 */
import type { Duplex } from 'node:stream'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { WebSocket } from 'ws'
import { ChannelBase } from './channel-base.js'
import { codes, Lp2pError } from '../errors.js'

/** WebSocket close codes (RFC 6455 §7.4.1) that end a connection cleanly. */
const CLEAN_CLOSE_CODES = new Set([1000, 1001, 1005])

/** `WebSocket.OPEN` (RFC 6455 readyState 1), without importing the runtime class. */
const OPEN = 1

/**
 * Largest message we send, in bytes: 65537, one whole Noise transport message on the
 * wire (2-byte length + 65535; `specs/noise.md`). Other libp2p peers send messages
 * at least that large (go-libp2p and py-libp2p send each Noise message as one
 * WebSocket message, rust-libp2p up to 192 KiB, js-libp2p 3 the ciphertext of each
 * Noise message as one), so every peer accepts them whatever its own limit; a larger
 * `writev` is split over several messages.
 */
export const MAX_SEND_MESSAGE = 65537

/**
 * Pieces shorter than this are copied together into one frame; longer ones are sent
 * as their own frame without a copy. 1 KiB: copying that much costs less than a frame
 * header and one more buffer in the socket's writev (the same trade-off as Noise's
 * `SMALL_PIECE`).
 */
export const SMALL_PIECE = 1024

/** `ws.send` options: a binary frame that does (not) end its message. */
const MORE_FRAMES = { binary: true, fin: false } as const
const LAST_FRAME = { binary: true, fin: true } as const

/** The pieces of a run as one buffer (no copy for a single piece). */
function join (run: Uint8Array[], bytes: number): Uint8Array {
  return run.length === 1 ? run[0] as Uint8Array : Buffer.concat(run, bytes)
}

/** The close of a WebSocket for a reason other than a clean Close frame. */
export class WebSocketCloseError extends Error {
  /** The close code (RFC 6455 §7.4.1); 1006 when no Close frame was received. */
  readonly closeCode: number
  readonly reason: string

  constructor (closeCode: number, reason: string, options?: { cause?: unknown }) {
    super(`WebSocket closed with code ${closeCode}${reason !== '' ? ` (${reason})` : ''}`, options)
    this.closeCode = closeCode
    this.reason = reason
  }

  override get name (): string {
    return 'WebSocketCloseError'
  }
}

export class WebSocketChannel extends ChannelBase {
  readonly #ws: WebSocket
  /** The TCP or TLS socket under the WebSocket: write backpressure is read here. */
  readonly #socket: Duplex
  /** A WebSocket protocol error (`ws`'s 'error' event), closes with code 1002/1007/1008/1009. */
  #wsError: Error | undefined
  /** An error of the socket itself (ECONNRESET, EPIPE): `ws` does not report those. */
  #socketError: Error | undefined
  #ended = false
  #destroyed = false

  /**
   * @param ws an OPEN WebSocket; the channel takes over its events.
   * @param socket the socket `ws` runs on.
   */
  constructor (ws: WebSocket, socket: Duplex, remoteAddr: Multiaddr, localAddr?: Multiaddr) {
    super(remoteAddr, localAddr)
    this.#ws = ws
    this.#socket = socket
    ws.binaryType = 'fragments'
    ws.on('message', (data: Buffer | Buffer[]) => {
      if (this.#destroyed) return
      if (Array.isArray(data)) {
        for (const fragment of data) this.deliverData(fragment)
      } else {
        this.deliverData(data)
      }
    })
    ws.on('error', (err: Error) => { this.#wsError ??= err })
    ws.on('close', (code: number, reason: Buffer) => { this.#onClose(code, reason.toString()) })
    socket.on('error', (err: Error) => { this.#socketError ??= err })
    socket.on('drain', () => { this.deliverDrain() })
    if (ws.readyState !== OPEN) this.#onClose(1006, '')
  }

  write (chunk: Uint8Array): boolean {
    return this.writev([chunk])
  }

  writev (chunks: readonly Uint8Array[]): boolean {
    if (this.#ended || this.#destroyed || this.#ws.readyState !== OPEN) return true
    const socket = this.#socket
    socket.cork()
    try {
      this.#send(chunks)
    } finally {
      socket.uncork()
    }
    return !socket.writableNeedDrain
  }

  /** Sends a Close frame (1000) after everything written so far; see the file comment. */
  end (): void {
    if (this.#ended || this.#destroyed) return
    this.#ended = true
    const state = this.#ws.readyState
    if (state === OPEN) this.#ws.close(1000)
  }

  destroy (err?: Error): void {
    if (this.#destroyed || this.closed) return
    this.#destroyed = true
    this.discardHeld()
    this.#ws.terminate()
    this.deliverClose(err)
  }

  protected pauseSource (): void {
    this.#ws.pause()
  }

  protected resumeSource (): void {
    this.#ws.resume()
  }

  /**
   * Frames `chunks` into messages of at most {@link MAX_SEND_MESSAGE} bytes: each
   * large piece is a frame of its own, each run of small pieces one joined frame.
   */
  #send (chunks: readonly Uint8Array[]): void {
    // Fast paths: one piece, or only small pieces, that fit one message.
    let total = 0
    let large = false
    for (let i = 0; i < chunks.length; i++) {
      const n = (chunks[i] as Uint8Array).byteLength
      total += n
      if (n >= SMALL_PIECE) large = true
    }
    if (total === 0) return
    if (total <= MAX_SEND_MESSAGE && (chunks.length === 1 || !large)) {
      this.#ws.send(chunks.length === 1 ? chunks[0] as Uint8Array : Buffer.concat(chunks as Uint8Array[], total), LAST_FRAME)
      return
    }
    let frames: Uint8Array[] = []
    let run: Uint8Array[] = []
    let runBytes = 0
    let messageBytes = 0
    for (let i = 0; i < chunks.length; i++) {
      let piece = chunks[i] as Uint8Array
      let length = piece.byteLength
      while (length > 0) {
        const room = MAX_SEND_MESSAGE - messageBytes
        let part = piece
        if (length > room) {
          part = piece.subarray(0, room)
          piece = piece.subarray(room)
        }
        const partLength = part.byteLength
        length -= partLength
        messageBytes += partLength
        if (partLength < SMALL_PIECE) {
          run.push(part)
          runBytes += partLength
        } else {
          if (runBytes > 0) {
            frames.push(join(run, runBytes))
            run = []
            runBytes = 0
          }
          frames.push(part)
        }
        if (messageBytes === MAX_SEND_MESSAGE) {
          if (runBytes > 0) {
            frames.push(join(run, runBytes))
            run = []
            runBytes = 0
          }
          this.#sendMessage(frames)
          frames = []
          messageBytes = 0
        }
      }
    }
    if (runBytes > 0) frames.push(join(run, runBytes))
    if (frames.length > 0) this.#sendMessage(frames)
  }

  /** One message made of `frames` (a fragmented message when there are several). */
  #sendMessage (frames: readonly Uint8Array[]): void {
    const last = frames.length - 1
    for (let j = 0; j < last; j++) this.#ws.send(frames[j] as Uint8Array, MORE_FRAMES)
    this.#ws.send(frames[last] as Uint8Array, LAST_FRAME)
  }

  #onClose (code: number, reason: string): void {
    if (this.#destroyed) return
    if (CLEAN_CLOSE_CODES.has(code) && this.#wsError === undefined) {
      this.deliverEnd()
      this.deliverClose()
      return
    }
    const detail = this.#wsError ?? new WebSocketCloseError(code, reason, this.#socketError !== undefined ? { cause: this.#socketError } : undefined)
    this.deliverClose(new Lp2pError(codes.ERR_CONNECTION_CLOSED, `WebSocket connection closed: ${detail.message}`, { cause: detail }))
  }
}
