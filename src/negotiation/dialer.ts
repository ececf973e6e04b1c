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
import {
  clip, decodeLsResponse, encodeMessage, encodeMessages, LS, MAX_LS_RESPONSE_LENGTH,
  MAX_MESSAGE_LENGTH, MessageDecoder, NA, PROTOCOL_ID
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
  /** Default {@link MAX_MESSAGE_LENGTH}. */
  maxMessageLength?: number
}

export class DialerMachine {
  #state: DialerState = { kind: 'idle' }
  /** What we wait for once the header has arrived. */
  #next: DialerState
  readonly #protocols: readonly string[]
  readonly #decoder: MessageDecoder
  readonly #query: boolean
  #output: Uint8Array | undefined

  /**
   * @param protocols protocols in preference order, or the string `'ls'` for a list
   *   query.
   */
  constructor (protocols: readonly string[] | 'ls', options: DialerOptions = {}) {
    this.#query = protocols === 'ls'
    this.#protocols = protocols === 'ls' ? [] : protocols
    if (!this.#query && this.#protocols.length === 0) {
      throw new RangeError('at least one protocol is required')
    }
    for (const p of this.#protocols) {
      if (p.length === 0 || p.includes('\n') || p === NA || p === LS || p === PROTOCOL_ID) {
        throw new RangeError(`invalid protocol id ${JSON.stringify(p)}`)
      }
    }
    this.#decoder = new MessageDecoder(options.maxMessageLength ?? MAX_MESSAGE_LENGTH)
    this.#next = this.#query ? { kind: 'await-list' } : { kind: 'await-answer', index: 0 }
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
    return encodeMessages([PROTOCOL_ID, this.#query ? LS : this.#protocols[0] as string])
  }

  /** Processes inbound bytes. Never throws: a violation moves to the `failed` state. */
  receive (chunk: Uint8Array): DialerState {
    const kind = this.#state.kind
    if (kind === 'done' || kind === 'failed' || kind === 'listed' || kind === 'idle') return this.#state
    this.#decoder.push(chunk)
    try {
      for (;;) {
        if (this.#state.kind === 'await-list') {
          this.#decoder.maxLength = MAX_LS_RESPONSE_LENGTH
          const body = this.#decoder.nextRaw()
          if (body === undefined) break
          this.#state = { kind: 'listed', protocols: decodeLsResponse(body) }
          break
        }
        const msg = this.#decoder.next()
        if (msg === undefined) break
        this.#handle(msg)
        if (isFinal(this.#state)) break
      }
    } catch (err) {
      this.#fail(err)
    }
    return this.#state
  }

  /** The remote half-closed before negotiation finished. */
  receiveEnd (): DialerState {
    const k = this.#state.kind
    if (k !== 'done' && k !== 'failed' && k !== 'listed') {
      this.#fail(new Lp2pError(codes.ERR_NEGOTIATION_FAILED, 'the remote closed the channel during protocol negotiation'))
    }
    return this.#state
  }

  /** A proposal to send after an `na`, or undefined. */
  takeOutput (): Uint8Array | undefined {
    const out = this.#output
    this.#output = undefined
    return out
  }

  /** Bytes that arrived after the agreement (the protocol's first data). */
  takeRemaining (): Uint8Array {
    return this.#decoder.takeRemaining()
  }

  #handle (msg: string): void {
    const state = this.#state
    if (state.kind === 'await-header') {
      if (msg !== PROTOCOL_ID) {
        throw new Lp2pError(codes.ERR_NEGOTIATION_FAILED, `expected the multistream header, got ${JSON.stringify(clip(msg))}`)
      }
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
    this.#output = encodeMessage(this.#protocols[index] as string)
    this.#state = { kind: 'await-answer', index }
  }

  #fail (err: unknown): void {
    const error = err instanceof Lp2pError
      ? err
      : new Lp2pError(codes.ERR_NEGOTIATION_FAILED, 'protocol negotiation failed', { cause: err })
    this.#state = { kind: 'failed', error }
  }
}

function isFinal (state: DialerState): boolean {
  return state.kind === 'done' || state.kind === 'failed' || state.kind === 'listed'
}
