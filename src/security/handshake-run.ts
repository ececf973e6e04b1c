/**
 * The thin driver every handshake machine of the security layer shares (Noise, SECIO,
 * plaintext): it attaches to the raw channel, writes what the machine outputs, feeds
 * it what arrives, and ends in exactly one of two ways:
 * - success: the handler detaches and `finish` builds the secure result (it gives back
 *   the bytes received after the last handshake message with `unshift`, so the secure
 *   channel reads them first: a dialer may send its last handshake message and its
 *   first data in one write, and nothing of it is lost);
 * - failure (an invalid message, the remote's end or close, an abort): the handler
 *   detaches, the raw channel is destroyed with the error, the abort listener is
 *   removed, and the promise rejects with the protocol's typed error (ERR_ABORTED /
 *   ERR_TIMEOUT for the signal).
 */
import { AbortError, codes, Lp2pError, TimeoutError } from '../errors.js'
import type { ByteChannel, ByteChannelHandler } from '../interfaces/channel.js'
import type { SecureResult } from '../interfaces/security.js'

/** The sans-IO contract of a handshake machine. */
export interface HandshakeMachine {
  /** `done` once the handshake is complete; `failed` after `handleData` threw. */
  readonly status: 'handshaking' | 'done' | 'failed'
  /** Where the handshake is, for error messages. */
  readonly stage: string
  /** Messages to send now, in order; the queue is emptied. */
  takeOutput (): Uint8Array[]
  /** Feeds received bytes; throws the typed error when they are invalid. */
  handleData (chunk: Uint8Array): void
}

export interface HandshakeSpec<M extends HandshakeMachine> {
  /** The protocol's name in messages ("Noise", "SECIO", ...). */
  name: string
  /** Maps any failure to the protocol's error contract. */
  toError: (err: unknown) => Lp2pError
  /** Builds the machine; may throw (an invalid option or key). */
  create: () => M
  /** Builds the result once the machine is done; the raw channel is detached. */
  finish: (channel: ByteChannel, machine: M) => SecureResult
}

/** Runs one handshake over `channel` (see the module comment). */
export async function runHandshake<M extends HandshakeMachine> (channel: ByteChannel, signal: AbortSignal | undefined, spec: HandshakeSpec<M>): Promise<SecureResult> {
  if (signal?.aborted === true) {
    const err = abortError(signal, spec.name)
    channel.destroy(err)
    throw err
  }
  let machine: M
  try {
    machine = spec.create()
  } catch (err) {
    const error = spec.toError(err)
    channel.destroy(error)
    throw error
  }
  return await new Promise<SecureResult>((resolve, reject) => {
    new HandshakeRun(channel, machine, signal, spec, resolve, reject).start()
  })
}

/** One handshake over one channel: the handler, the abort listener and the outcome. */
class HandshakeRun<M extends HandshakeMachine> implements ByteChannelHandler {
  readonly #channel: ByteChannel
  readonly #machine: M
  readonly #signal: AbortSignal | undefined
  readonly #spec: HandshakeSpec<M>
  readonly #resolve: (result: SecureResult) => void
  readonly #reject: (err: Error) => void
  #settled = false

  constructor (channel: ByteChannel, machine: M, signal: AbortSignal | undefined, spec: HandshakeSpec<M>,
    resolve: (result: SecureResult) => void, reject: (err: Error) => void) {
    this.#channel = channel
    this.#machine = machine
    this.#signal = signal
    this.#spec = spec
    this.#resolve = resolve
    this.#reject = reject
  }

  start (): void {
    // The run itself is the abort listener (EventTarget calls handleEvent), as in
    // stream-negotiation.ts: no closure per handshake.
    this.#signal?.addEventListener('abort', this, { once: true })
    this.#channel.attach(this)
    this.#flush()
  }

  /** The signal aborted. */
  handleEvent (): void {
    this.#fail(abortError(this.#signal as AbortSignal, this.#spec.name))
  }

  onData (chunk: Uint8Array): void {
    if (this.#settled) return
    try {
      this.#machine.handleData(chunk)
    } catch (err) {
      this.#fail(err)
      return
    }
    this.#flush()
    if (this.#machine.status === 'done') this.#succeed()
  }

  onEnd (): void {
    const cause = new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'the remote ended the connection')
    this.#fail(new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `the remote ended the connection during the ${this.#spec.name} handshake (at ${this.#machine.stage})`, { cause }))
  }

  onClose (err?: Error): void {
    const cause = err ?? new Lp2pError(codes.ERR_CONNECTION_CLOSED, 'the connection closed')
    this.#fail(new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `the connection closed during the ${this.#spec.name} handshake (at ${this.#machine.stage})`, { cause }))
  }

  onDrain (): void {
    // Handshake messages are small; nothing waits for drain.
  }

  #flush (): void {
    const out = this.#machine.takeOutput()
    if (out.length === 1) this.#channel.write(out[0] as Uint8Array)
    else if (out.length > 1) this.#channel.writev(out)
  }

  #succeed (): void {
    this.#settled = true
    this.#signal?.removeEventListener('abort', this)
    this.#channel.detach()
    let result: SecureResult
    try {
      result = this.#spec.finish(this.#channel, this.#machine)
    } catch (err) {
      this.#settled = false
      this.#fail(err)
      return
    }
    this.#resolve(result)
  }

  #fail (err: unknown): void {
    if (this.#settled) return
    this.#settled = true
    this.#signal?.removeEventListener('abort', this)
    const error = this.#spec.toError(err)
    this.#channel.detach()
    this.#channel.destroy(error)
    this.#reject(error)
  }
}

/** The error for an aborted handshake: TimeoutError when the signal's reason is a timeout. */
export function abortError (signal: AbortSignal, name: string): Lp2pError {
  const reason: unknown = signal.reason
  const isTimeout = (reason instanceof Lp2pError && reason.code === codes.ERR_TIMEOUT) ||
    (reason instanceof Error && reason.name === 'TimeoutError')
  return isTimeout
    ? new TimeoutError(`the ${name} handshake timed out`, { cause: reason })
    : new AbortError(`the ${name} handshake was aborted`, { cause: reason })
}

/**
 * The error contract every handshake shares: ERR_HANDSHAKE_FAILED, except the codes
 * a caller acts on (a wrong peer, an oversize message, a timeout or an abort), which
 * keep their own; anything else becomes the `cause` of an ERR_HANDSHAKE_FAILED.
 */
export function toHandshakeErrorOf (name: string): (err: unknown) => Lp2pError {
  return (err) => {
    if (err instanceof Lp2pError) {
      if (err.code === codes.ERR_HANDSHAKE_FAILED || err.code === codes.ERR_UNEXPECTED_PEER ||
        err.code === codes.ERR_MESSAGE_TOO_LARGE || err.code === codes.ERR_TIMEOUT || err.code === codes.ERR_ABORTED) {
        return err
      }
    }
    const message = err instanceof Error ? err.message : String(err)
    return new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `${name} handshake failed: ${message}`, { cause: err })
  }
}
