/**
 * multistream-select on a new stream (`connections/README.md`, "Opening New Streams
 * Over a Connection").
 *
 * Driver code over a {@link MuxedStream}: it writes with `stream.write()` (the muxer
 * coalesces the writes of one tick into one frame batch) and reads through the
 * stream's inbound interceptor, so negotiation bytes never reach the application and
 * the bytes that follow them reach it in order.
 *
 * The dialer with a single protocol negotiates lazily by default: the stream is handed
 * to the caller at once, the header and proposal leave with its first data in the same
 * packet, and the answer is checked when it arrives. An `na` then destroys the stream
 * with `ERR_UNSUPPORTED_PROTOCOL`, which the caller sees on its next read or write.
 * That saves the round trip of the negotiation on every stream.
 *
 * A negotiation that waits is bounded by `timeout` (a plain timer, cleared when it
 * ends) and by `signal`. It is one object holding its state and listeners rather than
 * a set of closures: it runs for nearly every stream, so what it allocates counts
 * (`bench/micro/connection-cpu.ts`).
 */
import type { MuxedStream } from '../interfaces/muxer.js'
import { codes, Lp2pError, TimeoutError } from '../errors.js'
import { signalError } from '../util/deadline.js'
import { DialerMachine } from './dialer.js'
import { ListenerMachine, type ListenerOptions } from './listener.js'

export interface SelectOptions {
  signal?: AbortSignal
  /**
   * Negotiate lazily when a single protocol is proposed (default true). Set false to
   * wait for the remote's agreement before resolving.
   */
  lazy?: boolean
  /**
   * Most time to wait for the agreement, ms (ERR_TIMEOUT); 0 or absent: no limit.
   * When lazy, the stream is destroyed with the TimeoutError if the answer has not
   * arrived by then.
   */
  timeout?: number
}

/** As the dialer: resolves with the protocol agreed (at once when lazy). */
export async function selectOnStream (stream: MuxedStream, protocols: readonly string[], options: SelectOptions = {}): Promise<string> {
  const machine = new DialerMachine(protocols)
  const lazy = (options.lazy ?? true) && protocols.length === 1
  const signal = options.signal
  if (signal?.aborted === true) {
    const err = signalError(signal)
    stream.destroy(err)
    throw err
  }
  if (lazy) {
    const protocol = protocols[0] as string
    stream.protocol = protocol
    const timeout = options.timeout
    // A plain timer with arguments (no closure); cleared when the answer arrives. On a
    // stream destroyed before its answer it fires once and does nothing.
    const timer = timeout !== undefined && timeout > 0 && Number.isFinite(timeout)
      ? setTimeout(onLazyTimeout, timeout, stream, timeout)
      : undefined
    timer?.unref()
    stream.setInboundInterceptor((chunk) => {
      const state = chunk === null ? machine.receiveEnd() : machine.receive(chunk)
      if (state.kind === 'done') {
        if (timer !== undefined) clearTimeout(timer)
        return machine.takeRemaining()
      }
      if (state.kind === 'failed') {
        if (timer !== undefined) clearTimeout(timer)
        stream.destroy(state.error)
      }
      return undefined
    })
    stream.write(machine.start())
    return protocol
  }
  return await negotiate(stream, signal, options.timeout, machine)
}

/** A lazily negotiated stream got no answer in time. */
function onLazyTimeout (stream: MuxedStream, timeout: number): void {
  if (stream.destroyed) return
  stream.setInboundInterceptor(null)
  stream.destroy(new TimeoutError(`no answer to the protocol proposal ${JSON.stringify(stream.protocol)} within ${timeout} ms (lazy stream negotiation)`))
}

export interface HandleOptions extends ListenerOptions {
  signal?: AbortSignal
  /** Most time to wait for an agreement, ms (ERR_TIMEOUT); 0 or absent: no limit. */
  timeout?: number
}

/**
 * As the listener: answers the remote's proposals; resolves with the protocol agreed
 * once the agreement is written. Bytes after the proposal wait in the stream's
 * readable side for the handler.
 */
export async function handleOnStream (stream: MuxedStream, options: HandleOptions): Promise<string> {
  const machine = new ListenerMachine(options)
  const signal = options.signal
  if (signal?.aborted === true) {
    const err = signalError(signal)
    stream.destroy(err)
    throw err
  }
  return await negotiate(stream, signal, options.timeout, machine)
}

/** Runs a machine on the stream until it agrees or fails. */
async function negotiate (stream: MuxedStream, signal: AbortSignal | undefined, timeout: number | undefined, machine: DialerMachine | ListenerMachine): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    new Negotiation(stream, signal, machine, resolve, reject).start(timeout)
  })
}

/** One waiting negotiation: the interceptor, the close and abort listeners, the timer. */
class Negotiation {
  readonly #stream: MuxedStream
  readonly #signal: AbortSignal | undefined
  readonly #machine: DialerMachine | ListenerMachine
  readonly #resolve: (protocol: string) => void
  readonly #reject: (err: Error) => void
  readonly #onClose: () => void
  #timer: NodeJS.Timeout | undefined
  #settled = false

  constructor (stream: MuxedStream, signal: AbortSignal | undefined, machine: DialerMachine | ListenerMachine,
    resolve: (protocol: string) => void, reject: (err: Error) => void) {
    this.#stream = stream
    this.#signal = signal
    this.#machine = machine
    this.#resolve = resolve
    this.#reject = reject
    this.#onClose = () => { this.#finish(closedError(stream)) }
  }

  start (timeout: number | undefined): void {
    const stream = this.#stream
    // The negotiation itself is the abort listener (EventTarget calls handleEvent).
    this.#signal?.addEventListener('abort', this, { once: true })
    stream.once('close', this.#onClose)
    stream.setInboundInterceptor((chunk) => this.#receive(chunk))
    if (timeout !== undefined && timeout > 0 && Number.isFinite(timeout)) {
      this.#timer = setTimeout(() => {
        stream.setInboundInterceptor(null)
        this.#finish(new TimeoutError(`stream protocol negotiation timed out after ${timeout} ms`))
      }, timeout)
      this.#timer.unref()
    }
    const machine = this.#machine
    if (machine instanceof DialerMachine) stream.write(machine.start())
  }

  /** The signal aborted. */
  handleEvent (): void {
    this.#stream.setInboundInterceptor(null)
    this.#finish(signalError(this.#signal as AbortSignal))
  }

  #receive (chunk: Uint8Array | null): Uint8Array | undefined {
    const machine = this.#machine
    const state = chunk === null ? machine.receiveEnd() : machine.receive(chunk)
    const out = machine.takeOutput()
    if (out !== undefined) this.#stream.write(out)
    if (state.kind === 'done') {
      this.#finish(undefined, state.protocol)
      return machine.takeRemaining()
    }
    if (state.kind === 'failed') this.#finish(state.error)
    return undefined
  }

  #finish (err: Error | undefined, protocol?: string): void {
    if (this.#settled) return
    this.#settled = true
    const stream = this.#stream
    this.#signal?.removeEventListener('abort', this)
    stream.off('close', this.#onClose)
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    if (err !== undefined) {
      if (!stream.destroyed) stream.destroy(err)
      this.#reject(err)
      return
    }
    stream.protocol = protocol
    this.#resolve(protocol as string)
  }
}

function closedError (stream: MuxedStream): Lp2pError {
  const cause = (stream as { errored?: unknown }).errored
  if (cause instanceof Lp2pError) return cause
  return new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'the stream closed during protocol negotiation', { cause })
}
