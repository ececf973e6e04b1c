/**
 * What the two multistream-select machines (dialer.ts, listener.ts) share
 * (`specs/multistream-select.md`, "Protocol"): the message decoder and the loop that
 * feeds it whole messages, the header check (each side's first message is
 * `/multistream/1.0.0`), and failure on a violation or on a close before the end.
 * Each machine keeps its own states and answers.
 */
import { codes, Lp2pError } from '../errors.js'
import { clip, MAX_MESSAGE_LENGTH, MessageDecoder, PROTOCOL_ID } from './message.js'

/**
 * Called with every message a machine sends or reads, for a negotiation trace (the
 * CLI's `--trace`); absent, nothing is recorded.
 */
export type MessageObserver = (direction: 'in' | 'out', message: string) => void

export abstract class NegotiationMachine<State extends { readonly kind: string }> {
  protected readonly decoder: MessageDecoder
  protected readonly observe: MessageObserver | undefined

  /** @param maxMessageLength default {@link MAX_MESSAGE_LENGTH}. */
  constructor (maxMessageLength: number | undefined, observe?: MessageObserver) {
    this.decoder = new MessageDecoder(maxMessageLength ?? MAX_MESSAGE_LENGTH)
    this.observe = observe
  }

  abstract get state (): State

  /** True once the outcome is known: bytes after it belong to the protocol. */
  protected abstract isOver (): boolean

  /** Moves to the `failed` state. */
  protected abstract fail (error: Lp2pError): void

  /** Acts on one whole message; throws for a violation. */
  protected abstract handle (msg: string): void

  /** Processes inbound bytes. Never throws: a violation moves to the `failed` state. */
  receive (chunk: Uint8Array): State {
    if (this.isOver()) return this.state
    this.decoder.push(chunk)
    try {
      while (this.step()) {}
    } catch (err) {
      this.fail(err instanceof Lp2pError
        ? err
        : new Lp2pError(codes.ERR_NEGOTIATION_FAILED, 'protocol negotiation failed', { cause: err }))
    }
    return this.state
  }

  /** Reads and acts on the next message: false when it needs more bytes or is over. */
  protected step (): boolean {
    const msg = this.decoder.next()
    if (msg === undefined) return false
    this.observe?.('in', msg)
    this.handle(msg)
    return !this.isOver()
  }

  /** The remote half-closed before negotiation finished. */
  receiveEnd (): State {
    if (!this.isOver()) {
      this.fail(new Lp2pError(codes.ERR_NEGOTIATION_FAILED, 'the remote closed the channel during protocol negotiation'))
    }
    return this.state
  }

  /** Bytes that arrived after the agreement (the protocol's first data). */
  takeRemaining (): Uint8Array {
    return this.decoder.takeRemaining()
  }
}

/** @throws ERR_NEGOTIATION_FAILED unless `msg` is the multistream header. */
export function expectHeader (msg: string): void {
  if (msg !== PROTOCOL_ID) {
    throw new Lp2pError(codes.ERR_NEGOTIATION_FAILED, `expected the multistream header, got ${JSON.stringify(clip(msg))}`)
  }
}
