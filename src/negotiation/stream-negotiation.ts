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
 */
import type { MuxedStream } from '../interfaces/muxer.js'
import { codes, Lp2pError } from '../errors.js'
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
    stream.setInboundInterceptor((chunk) => {
      const state = chunk === null ? machine.receiveEnd() : machine.receive(chunk)
      if (state.kind === 'done') return machine.takeRemaining()
      if (state.kind === 'failed') stream.destroy(state.error)
      return undefined
    })
    stream.write(machine.start())
    return protocol
  }
  return await negotiate(stream, signal, machine)
}

export interface HandleOptions extends ListenerOptions {
  signal?: AbortSignal
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
  return await negotiate(stream, signal, machine)
}

/** Runs a machine on the stream until it agrees or fails. */
async function negotiate (stream: MuxedStream, signal: AbortSignal | undefined, machine: DialerMachine | ListenerMachine): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    let settled = false
    const finish = (err: Error | undefined, protocol?: string): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      stream.off('close', onClose)
      if (err !== undefined) {
        if (!stream.destroyed) stream.destroy(err)
        reject(err)
        return
      }
      stream.protocol = protocol
      resolve(protocol as string)
    }
    const onAbort = (): void => {
      stream.setInboundInterceptor(null)
      finish(signalError(signal as AbortSignal))
    }
    const onClose = (): void => {
      finish(closedError(stream))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    stream.once('close', onClose)
    stream.setInboundInterceptor((chunk) => {
      const state = chunk === null ? machine.receiveEnd() : machine.receive(chunk)
      const out = machine.takeOutput()
      if (out !== undefined) stream.write(out)
      if (state.kind === 'done') {
        finish(undefined, state.protocol)
        return machine.takeRemaining()
      }
      if (state.kind === 'failed') finish(state.error)
      return undefined
    })
    if (machine instanceof DialerMachine) stream.write(machine.start())
  })
}

function closedError (stream: MuxedStream): Lp2pError {
  const cause = (stream as { errored?: unknown }).errored
  if (cause instanceof Lp2pError) return cause
  return new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'the stream closed during protocol negotiation', { cause })
}
