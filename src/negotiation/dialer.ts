/**
 * The dialer (initiator) side of multistream-select as a pure state machine
 * (`specs/multistream-select.md`; `connections/README.md`, "multistream-select").
 *
 * `start()` gives the header and the first proposal in one buffer ("the initiator
 * SHOULD send the multistream protocol AND the desired protocol in the same packet").
 * Each `na` moves to the next protocol in preference order; the echo of the current
 * proposal ends the negotiation.
 *
 * Lazy negotiation: with a single proposal, the driver may send `start()`'s bytes
 * and the protocol's first data together without waiting for the answer, and feed
 * the answer to this machine when it arrives. The machine is the same; only the
 * driver's waiting differs.
 *
 * `ls` queries (`query: 'ls'`) send the header and `ls` and end with the remote's list.
 */
import { codes, Lp2pError } from '../errors.js'
import { expectHeader, NegotiationMachine, type MessageObserver } from './machine.js'
import {
  clip, decodeLsResponse, encodeMessage, encodeMessages, LS, MAX_LS_RESPONSE_LENGTH, NA, PROTOCOL_ID
} from './message.js'

export type DialerState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'await-header' }
  | { readonly kind: 'await-answer', readonly index: number }
  | { readonly kind: 'await-list' }
  | { readonly kind: 'done', readonly protocol: string }
  | { readonly kind: 'listed', readonly protocols: readonly string[] }
  | { readonly kind: 'failed', readonly error: Lp2pError }

export interface DialerOptions {
  /** Default `MAX_MESSAGE_LENGTH` (message.ts). */
  maxMessageLength?: number
  /** Sees every message sent and read (a trace). */
  observe?: MessageObserver
}

export class DialerMachine extends NegotiationMachine<DialerState> {
  #state: DialerState = { kind: 'idle' }
  /** What we wait for once the header has arrived. */
  #next: DialerState
  readonly #protocols: readonly string[]
  readonly #query: boolean
  #output: Uint8Array | undefined

  /**
   * @param protocols protocols in preference order, or the string `'ls'` for a list
   *   query.
   */
  constructor (protocols: readonly string[] | 'ls', options: DialerOptions = {}) {
    const query = protocols === 'ls'
    const proposals = protocols === 'ls' ? [] : protocols
    if (!query && proposals.length === 0) {
      throw new RangeError('at least one protocol is required')
    }
    for (const p of proposals) {
      if (p.length === 0 || p.includes('\n') || p === NA || p === LS || p === PROTOCOL_ID) {
        throw new RangeError(`invalid protocol id ${JSON.stringify(p)}`)
      }
    }
    super(options.maxMessageLength, options.observe)
    this.#query = query
    this.#protocols = proposals
    this.#next = query ? { kind: 'await-list' } : { kind: 'await-answer', index: 0 }
  }

  get state (): DialerState {
    return this.#state
  }

  /** The protocol currently proposed (the one a lazy dialer assumes). */
  get proposed (): string | undefined {
    const s = this.#state.kind === 'await-header' ? this.#next : this.#state
    return s.kind === 'await-answer' ? this.#protocols[s.index] : undefined
  }

  /** Begins: returns the header and first proposal (or `ls`) to send in one write. */
  start (): Uint8Array {
    if (this.#state.kind !== 'idle') throw new Error('negotiation already started')
    this.#state = { kind: 'await-header' }
    const first = this.#query ? LS : this.#protocols[0] as string
    this.observe?.('out', PROTOCOL_ID)
    this.observe?.('out', first)
    return encodeMessages([PROTOCOL_ID, first])
  }

  /** As the base `receive`; bytes before `start()` are ignored. */
  override receive (chunk: Uint8Array): DialerState {
    return this.#state.kind === 'idle' ? this.#state : super.receive(chunk)
  }

  /** A proposal to send after an `na`, or undefined. */
  takeOutput (): Uint8Array | undefined {
    const out = this.#output
    this.#output = undefined
    return out
  }

  protected isOver (): boolean {
    const k = this.#state.kind
    return k === 'done' || k === 'failed' || k === 'listed'
  }

  protected fail (error: Lp2pError): void {
    this.#state = { kind: 'failed', error }
  }

  /** After `ls`, the answer is one message of embedded messages, read whole. */
  protected override step (): boolean {
    if (this.#state.kind !== 'await-list') return super.step()
    this.decoder.maxLength = MAX_LS_RESPONSE_LENGTH
    const body = this.decoder.nextRaw()
    if (body !== undefined) this.#state = { kind: 'listed', protocols: decodeLsResponse(body) }
    return false
  }

  protected handle (msg: string): void {
    const state = this.#state
    if (state.kind === 'await-header') {
      expectHeader(msg)
      this.#state = this.#next
      return
    }
    if (state.kind !== 'await-answer') return
    const proposed = this.#protocols[state.index] as string
    if (msg === proposed) {
      this.#state = { kind: 'done', protocol: proposed }
      return
    }
    if (msg !== NA) {
      throw new Lp2pError(codes.ERR_NEGOTIATION_FAILED, `unexpected answer ${JSON.stringify(clip(msg))} to proposal ${proposed}`)
    }
    const index = state.index + 1
    if (index >= this.#protocols.length) {
      throw new Lp2pError(codes.ERR_UNSUPPORTED_PROTOCOL, `the remote supports none of ${this.#protocols.join(', ')}`)
    }
    this.observe?.('out', this.#protocols[index] as string)
    this.#output = encodeMessage(this.#protocols[index] as string)
    this.#state = { kind: 'await-answer', index }
  }
}
