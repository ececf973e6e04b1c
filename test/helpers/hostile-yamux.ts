/**
 * The hostile peer's yamux layer (`specs/yamux.md`), inside a correct Noise channel:
 * frames built with lp2p's header codec and sent exactly as a test says (bad versions,
 * unknown types, data beyond the window, floods), and the node's frames decoded and
 * recorded so a test can wait for a reset, an ACK, a GoAway or stream bytes.
 *
 * By default it behaves like a quiet but correct peer: it answers the node's pings and
 * otherwise ignores the streams the node opens (identify), which the node's own
 * deadlines then reset. Tests that act on those streams install `onRemoteStream`.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { encodeHeader, Flag, FrameDecoder, FrameType, GoAwayCode, type FrameHeader } from '../../src/muxer/yamux/frame.js'
import { encodeMessages, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { ByteInbox, parseMultistream, RawPeer, Wakeups, type Parse } from './hostile.js'
import { noiseInitiator, type InitiatorOptions, type SecureSession } from './hostile-noise.js'

export { Flag, FrameType, GoAwayCode }

export interface YamuxFrame {
  readonly header: FrameHeader
  /** Data frames: the whole payload. */
  readonly payload: Buffer
}

export interface YamuxPeerOptions {
  /** Answer the node's pings (default true). */
  answerPings?: boolean
  /** Keep every received frame in `frames` (default true; floods turn it off). */
  log?: boolean
  /**
   * What to do with streams the node opens (its identify query): `ignore` (default;
   * the node's deadline resets them), `reset` them at once, or a function.
   */
  onRemoteStream?: 'ignore' | 'reset' | ((id: number, peer: YamuxPeer) => void)
}

/** Builds one frame: a 12-byte header (any version, type, flags) and its payload. */
export function rawFrame (type: number, flags: number, streamId: number, length: number, payload?: Uint8Array, version = 0): Buffer {
  const h = Buffer.from(encodeHeader({ type: (type & 0xff) as FrameHeader['type'], flags, streamId, length }))
  h[0] = version
  return payload === undefined ? h : Buffer.concat([h, payload])
}

export class YamuxPeer {
  readonly secure: SecureSession
  readonly frames: YamuxFrame[] = []
  /** Data received per stream (payload bytes, in order). */
  readonly inboxes = new Map<number, ByteInbox>()
  readonly resets = new Set<number>()
  readonly fins = new Set<number>()
  readonly acks = new Set<number>()
  /** Frames received, by type (counted even when not logged). */
  readonly counts = { data: 0, windowUpdate: 0, ping: 0, goAway: 0, rst: 0 }
  /** Window credit the node granted per stream (initial 256 KiB plus its updates). */
  readonly credit = new Map<number, number>()
  goAway: number | undefined
  /** The node's frames did not decode (they always should). */
  decodeError: Error | undefined
  /** Payload bytes we framed per stream (counted against the node's window). */
  readonly sent = new Map<number, number>()
  readonly #options: Required<YamuxPeerOptions>
  readonly #decoder = new FrameDecoder({ maxDataLength: 0xffffffff })
  #current: { header: FrameHeader, parts: Buffer[] } | undefined
  readonly #wakeups = new Wakeups()

  constructor (secure: SecureSession, options: YamuxPeerOptions = {}) {
    this.secure = secure
    this.#options = { answerPings: true, log: true, onRemoteStream: 'ignore', ...options }
    secure.onPlaintext((p) => { this.#receive(p) })
  }

  // --- sending ---------------------------------------------------------------------

  /** Sends frames (or any plaintext) in one sealed write. */
  send (...frames: Uint8Array[]): boolean {
    return this.secure.send(...frames)
  }

  /** A Data frame; `flags` may add SYN, FIN, RST. */
  data (id: number, payload: Uint8Array, flags = 0): Buffer {
    this.sent.set(id, (this.sent.get(id) ?? 0) + payload.byteLength)
    return rawFrame(FrameType.Data, flags, id, payload.byteLength, payload)
  }

  windowUpdate (id: number, delta: number, flags = 0): Buffer {
    return rawFrame(FrameType.WindowUpdate, flags, id, delta)
  }

  /**
   * Opens stream `id` (odd: we dialed) proposing `protocol`, and waits for the node's
   * answer: `'agreed'`, `'na'`, or `'reset'`.
   */
  async open (id: number, protocol: string, ms = 3000): Promise<'agreed' | 'na' | 'reset'> {
    this.send(this.data(id, encodeMessages([PROTOCOL_ID, protocol]), Flag.SYN))
    return await this.answer(id, protocol, ms)
  }

  /** Reads the header and the answer to `protocol` on stream `id`. */
  async answer (id: number, protocol: string, ms = 3000): Promise<'agreed' | 'na' | 'reset'> {
    try {
      const header = await this.pull(id, parseMultistream, 'the multistream header', ms)
      if (header !== PROTOCOL_ID) throw new Error(`stream ${id}: header ${header}`)
      const answer = await this.pull(id, parseMultistream, `the answer to ${protocol}`, ms)
      if (answer === protocol) return 'agreed'
      if (answer === 'na') return 'na'
      throw new Error(`stream ${id}: answer ${answer}`)
    } catch (err) {
      if (this.resets.has(id)) return 'reset'
      throw err
    }
  }

  /**
   * A ping (`specs/ping.md`) on a new stream `id`: 32 random bytes, checked when
   * echoed. Proves the connection, the node's muxer and its handlers still work.
   */
  async ping (id: number, ms = 3000): Promise<void> {
    const answer = await this.open(id, '/ipfs/ping/1.0.0', ms)
    if (answer !== 'agreed') throw new Error(`ping on stream ${id}: ${answer}`)
    const payload = randomBytes(32)
    this.send(this.data(id, payload))
    const echo = await this.inbox(id).read(32, `the echo on stream ${id}`, ms)
    if (!echo.equals(payload)) throw new Error(`ping on stream ${id}: wrong echo`)
    this.send(this.windowUpdate(id, 0, Flag.FIN))
  }

  /** Window the node still grants us on stream `id`: its credit minus what we sent. */
  remaining (id: number): number {
    return (this.credit.get(id) ?? 256 * 1024) - (this.sent.get(id) ?? 0)
  }

  // --- receiving -------------------------------------------------------------------

  inbox (id: number): ByteInbox {
    let box = this.inboxes.get(id)
    if (box === undefined) {
      box = new ByteInbox()
      this.inboxes.set(id, box)
    }
    return box
  }

  async pull<T> (id: number, parse: Parse<T>, what: string, ms = 3000): Promise<T> {
    return await this.inbox(id).pull(parse, `stream ${id}: ${what}`, ms)
  }

  /**
   * Waits until `cond` holds, checked after every batch of frames and at least every
   * 50 ms (a condition may watch the node too); throws after `ms`.
   */
  async waitFor (cond: () => boolean, ms: number, what: string): Promise<void> {
    const started = performance.now()
    while (!cond()) {
      const left = ms - (performance.now() - started)
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
      await this.#wakeups.next(Math.min(left, 50))
    }
  }

  async waitReset (id: number, ms = 3000): Promise<void> {
    await this.waitFor(() => this.resets.has(id), ms, `a reset of stream ${id}`)
  }

  async waitGoAway (ms = 3000): Promise<number> {
    await this.waitFor(() => this.goAway !== undefined, ms, 'a GoAway')
    return this.goAway as number
  }

  #receive (plaintext: Buffer): void {
    if (this.decodeError !== undefined) return
    this.#decoder.push(plaintext)
    try {
      for (let ev = this.#decoder.next(); ev !== undefined; ev = this.#decoder.next()) {
        if (ev instanceof Uint8Array) {
          const cur = this.#current as { header: FrameHeader, parts: Buffer[] }
          cur.parts.push(Buffer.from(ev))
          this.inbox(cur.header.streamId).push(ev)
          if (this.#decoder.payloadRemaining === 0) this.#endFrame()
        } else {
          this.#current = { header: ev, parts: [] }
          if (ev.type !== FrameType.Data || ev.length === 0) this.#endFrame()
        }
      }
    } catch (err) {
      this.decodeError = err as Error
    }
    this.#wakeups.wake()
  }

  #endFrame (): void {
    const { header: h, parts } = this.#current as { header: FrameHeader, parts: Buffer[] }
    this.#current = undefined
    const payload = parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts)
    if (this.#options.log) this.frames.push({ header: h, payload })
    switch (h.type) {
      case FrameType.Data: this.counts.data++; break
      case FrameType.WindowUpdate: this.counts.windowUpdate++; break
      case FrameType.Ping: this.counts.ping++; break
      case FrameType.GoAway: this.counts.goAway++; break
    }
    if (h.type === FrameType.GoAway) {
      this.goAway = h.length
      return
    }
    if (h.type === FrameType.Ping) {
      if ((h.flags & Flag.SYN) !== 0 && this.#options.answerPings) this.send(rawFrame(FrameType.Ping, Flag.ACK, 0, h.length))
      return
    }
    const id = h.streamId
    if ((h.flags & Flag.SYN) !== 0) {
      this.credit.set(id, 256 * 1024)
      const act = this.#options.onRemoteStream
      if (act === 'reset') this.send(this.windowUpdate(id, 0, Flag.RST))
      else if (typeof act === 'function') act(id, this)
    }
    if ((h.flags & Flag.ACK) !== 0) this.acks.add(id)
    if (h.type === FrameType.WindowUpdate && (h.flags & Flag.RST) === 0) {
      this.credit.set(id, (this.credit.get(id) ?? 256 * 1024) + h.length)
    }
    if ((h.flags & Flag.RST) !== 0) {
      this.counts.rst++
      this.resets.add(id)
      this.inbox(id).end('reset the stream')
    }
    if ((h.flags & Flag.FIN) !== 0) {
      this.fins.add(id)
      this.inbox(id).end('half-closed the stream')
    }
  }
}

/**
 * A hostile peer connected to the node at `port`: TCP, `/noise` negotiated, a correct
 * XX handshake (with `options` for a hostile one) and yamux agreed inside it.
 */
export async function connectYamux (port: number, options: InitiatorOptions & YamuxPeerOptions = {}): Promise<YamuxPeer> {
  const peer = await RawPeer.connect(port)
  const secure = await noiseInitiator(peer, options)
  return new YamuxPeer(secure, options)
}
