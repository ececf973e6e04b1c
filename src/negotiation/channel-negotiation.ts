/**
 * multistream-select over a {@link ByteChannel}: the connection upgrade's negotiation
 * of the security protocol (on the raw connection) and of the muxer (on the secure
 * channel) (`connections/README.md`, "Upgrading Connections").
 *
 * Driver code: attaches to the channel, writes the machine's output, and hands the
 * channel on. Bytes read past the end of the negotiation are given back with
 * `unshift`, so the next layer sees them first. A failed negotiation destroys the
 * channel (it is unusable afterwards) and rejects with the typed error.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel, ByteChannelHandler } from '../interfaces/channel.js'
import { codes, Lp2pError } from '../errors.js'
import { signalError } from '../util/deadline.js'
import { DialerMachine, type DialerState } from './dialer.js'
import type { MessageObserver } from './machine.js'
import { ListenerMachine, type ListenerOptions, type ListenerState } from './listener.js'

export interface ChannelNegotiationOptions {
  signal?: AbortSignal
  /** Sees every message sent and read (a trace). */
  observe?: MessageObserver
}

/** As the dialer: proposes `protocols` in order; resolves with the one agreed. */
export async function selectOnChannel (channel: ByteChannel, protocols: readonly string[], options: ChannelNegotiationOptions = {}): Promise<string> {
  const machine = new DialerMachine(protocols, options.observe !== undefined ? { observe: options.observe } : {})
  return await run(channel, options.signal, (handler) => {
    channel.attach(handler)
    channel.write(machine.start())
  }, {
    receive: (chunk) => machine.receive(chunk),
    end: () => machine.receiveEnd(),
    output: () => machine.takeOutput(),
    remaining: () => machine.takeRemaining()
  })
}

/** As the listener: answers proposals; resolves with the protocol agreed. */
export async function handleOnChannel (channel: ByteChannel, options: ListenerOptions & ChannelNegotiationOptions): Promise<string> {
  const machine = new ListenerMachine(options)
  return await run(channel, options.signal, (handler) => {
    channel.attach(handler)
  }, {
    receive: (chunk) => machine.receive(chunk),
    end: () => machine.receiveEnd(),
    output: () => machine.takeOutput(),
    remaining: () => machine.takeRemaining()
  })
}

interface MachineOps {
  receive: (chunk: Uint8Array) => DialerState | ListenerState
  end: () => DialerState | ListenerState
  output: () => Uint8Array | undefined
  remaining: () => Uint8Array
}

async function run (channel: ByteChannel, signal: AbortSignal | undefined, begin: (h: ByteChannelHandler) => void, ops: MachineOps): Promise<string> {
  if (signal?.aborted === true) {
    const err = signalError(signal)
    channel.destroy(err)
    throw err
  }
  return await new Promise<string>((resolve, reject) => {
    let settled = false
    const finish = (err: Error | undefined, protocol?: string): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      if (err !== undefined) {
        channel.destroy(err)
        reject(err)
        return
      }
      channel.detach()
      channel.unshift(ops.remaining())
      resolve(protocol as string)
    }
    const after = (state: DialerState | ListenerState): void => {
      const out = ops.output()
      if (out !== undefined) channel.write(out)
      if (state.kind === 'done') finish(undefined, state.protocol)
      else if (state.kind === 'failed') finish(state.error)
    }
    const onAbort = (): void => { finish(signalError(signal as AbortSignal)) }
    signal?.addEventListener('abort', onAbort, { once: true })
    begin({
      onData: (chunk) => { if (!settled) after(ops.receive(chunk)) },
      onEnd: () => { if (!settled) after(ops.end()) },
      onClose: (err) => {
        finish(new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'the connection closed during protocol negotiation', { cause: err }))
      },
      onDrain: () => {}
    })
  })
}

/**
 * Lazy negotiation of a single protocol on a channel: sends the header and the
 * proposal at once and returns a channel that the next protocol can use right away
 * (its first bytes leave in the same flight). The answer is checked when it arrives:
 * the header and the echo are stripped before anything reaches the next layer's
 * handler; an `na` or anything else destroys the channel with the typed error, which
 * `error` then holds (the next layer sees only a close).
 *
 * Used for the security protocol when only one is configured: it saves the round trip
 * of the negotiation (the GUIDE, "Facts that bite": lazy negotiation).
 */
export function lazySelectOnChannel (channel: ByteChannel, protocol: string, observe?: MessageObserver): LazyChannel {
  return new LazyChannel(channel, protocol, observe)
}

export class LazyChannel implements ByteChannel {
  readonly #inner: ByteChannel
  /**
   * The negotiation, until the answer is settled (then dropped: nothing kept per
   * connection); `undefined` is what "settled" means.
   */
  #machine: DialerMachine | undefined
  #handler: ByteChannelHandler | undefined
  /** Destroyed by us (the next layer failed, timed out or was aborted). */
  #destroyed = false
  #error: Lp2pError | undefined

  constructor (inner: ByteChannel, protocol: string, observe?: MessageObserver) {
    this.#inner = inner
    this.#machine = new DialerMachine([protocol], observe !== undefined ? { observe } : {})
    // Read the answer as soon as it arrives, whether or not the next layer is
    // listening yet: a refusal must be known even if that layer never reads.
    inner.attach({
      onData: (chunk) => { this.#onData(chunk) },
      onEnd: () => {
        if (this.#machine !== undefined) this.#after(this.#machine.receiveEnd())
        else this.#handler?.onEnd()
      },
      onClose: (err) => {
        // Reaches us only before the answer was settled, or with no handler attached:
        // a later attach() of the inner channel redelivers the close. A close we
        // caused is not the remote refusing the protocol: `error` stays unset, so the
        // next layer's own error (a timeout, an abort) is what gets reported.
        if (this.#machine !== undefined && !this.#destroyed) this.#after(this.#machine.receiveEnd())
        this.#handler?.onClose(this.#error ?? err)
      },
      onDrain: () => { this.#handler?.onDrain() }
    })
    inner.write(this.#machine.start())
  }

  /** The negotiation error, once the answer was wrong. */
  get error (): Lp2pError | undefined {
    return this.#error
  }

  /** True once the remote's answer confirmed the protocol. */
  get confirmed (): boolean {
    return this.#machine === undefined && this.#error === undefined
  }

  get remoteAddr (): Multiaddr { return this.#inner.remoteAddr }
  get localAddr (): Multiaddr | undefined { return this.#inner.localAddr }
  get closed (): boolean { return this.#inner.closed }

  attach (handler: ByteChannelHandler): void {
    this.#handler = handler
    // Once the answer is in, the next layer reads the inner channel directly.
    if (this.#machine === undefined) this.#inner.attach(handler)
  }

  detach (): void {
    this.#handler = undefined
    if (this.#machine === undefined) this.#inner.detach()
  }

  unshift (chunk: Uint8Array): void { this.#inner.unshift(chunk) }
  write (chunk: Uint8Array): boolean { return this.#inner.write(chunk) }
  writev (chunks: readonly Uint8Array[]): boolean { return this.#inner.writev(chunks) }
  end (): void { this.#inner.end() }
  destroy (err?: Error): void {
    this.#destroyed = true
    this.#inner.destroy(err)
  }

  pause (): void { this.#inner.pause() }
  resume (): void { this.#inner.resume() }

  #onData (chunk: Uint8Array): void {
    if (this.#machine === undefined) {
      this.#handler?.onData(chunk)
      return
    }
    this.#after(this.#machine.receive(chunk))
  }

  #after (state: DialerState): void {
    if (state.kind === 'failed') {
      this.#machine = undefined
      this.#error = state.error
      this.#inner.destroy(state.error)
      return
    }
    if (state.kind !== 'done') return
    const rest = (this.#machine as DialerMachine).takeRemaining()
    this.#machine = undefined
    const handler = this.#handler
    if (handler === undefined) {
      // Nobody reads yet: the inner channel holds the rest until attach().
      this.#inner.detach()
      this.#inner.unshift(rest)
      return
    }
    this.#inner.attach(handler)
    if (rest.byteLength > 0) handler.onData(rest)
  }
}
