/**
 * The listener (responder) side of multistream-select as a pure state machine
 * (`specs/multistream-select.md`, "Protocol"; `connections/README.md`,
 * "multistream-select").
 *
 * - The first message must be the multistream header; we answer it with ours. Both
 *   sides may send the header at once (Note 3), so we never wait for anything before
 *   answering a message the dialer has already sent.
 * - Each proposal is answered with its echo (agreement: negotiation is over) or `na`,
 *   after which the dialer may propose again.
 * - `ls` is answered with the list of protocols, or `na` when listing is disabled
 *   (listing is optional in the spec).
 * - All answers produced by one `receive()` leave in one buffer, so the header and the
 *   first answer share a packet ("Implementation Recommendations").
 *
 * Feed bytes with `receive()`, send what `takeOutput()` returns, read `state`. Bytes
 * after the accepted proposal belong to the negotiated protocol: `takeRemaining()`.
 */
import { codes, Lp2pError } from '../errors.js'
import { concatBytes } from '../wire/bytes.js'
import { expectHeader, NegotiationMachine, type MessageObserver } from './machine.js'
import { encodeLsResponse, encodeMessage, LS, NA, PROTOCOL_ID } from './message.js'

/**
 * Proposals (and `ls` requests) we answer on one channel before giving up on the
 * dialer. A dialer tries its protocols in order of preference; real dialers send a
 * handful. 32 bounds the work (and the `na` and list answers) a hostile dialer can
 * cause per stream.
 */
export const MAX_PROPOSALS = 32

export interface ListenerOptions {
  /** True when we support `protocol` (a handler is registered for it). */
  isSupported: (protocol: string) => boolean
  /** The protocols to answer `ls` with; absent: answer `ls` with `na`. */
  list?: () => readonly string[]
  /** Default {@link MAX_PROPOSALS}. */
  maxProposals?: number
  /** Default `MAX_MESSAGE_LENGTH` (message.ts). */
  maxMessageLength?: number
  /** Sees every message sent and read (a trace). */
  observe?: MessageObserver
}

export type ListenerState =
  | { readonly kind: 'await-header' }
  | { readonly kind: 'await-proposal', readonly proposals: number }
  | { readonly kind: 'done', readonly protocol: string }
  | { readonly kind: 'failed', readonly error: Lp2pError }

export class ListenerMachine extends NegotiationMachine<ListenerState> {
  #state: ListenerState = { kind: 'await-header' }
  readonly #options: ListenerOptions
  readonly #maxProposals: number
  #output: Uint8Array[] = []

  constructor (options: ListenerOptions) {
    super(options.maxMessageLength, options.observe)
    this.#options = options
    this.#maxProposals = options.maxProposals ?? MAX_PROPOSALS
  }

  get state (): ListenerState {
    return this.#state
  }

  /** Bytes to send, concatenated, or undefined when there is nothing to send. */
  takeOutput (): Uint8Array | undefined {
    const out = this.#output
    if (out.length === 0) return undefined
    this.#output = []
    return concatBytes(out)
  }

  protected isOver (): boolean {
    return this.#state.kind === 'done' || this.#state.kind === 'failed'
  }

  protected fail (error: Lp2pError): void {
    this.#state = { kind: 'failed', error }
  }

  protected handle (msg: string): void {
    const state = this.#state
    if (state.kind === 'await-header') {
      expectHeader(msg)
      this.#send(PROTOCOL_ID)
      this.#state = { kind: 'await-proposal', proposals: 0 }
      return
    }
    if (state.kind !== 'await-proposal') return
    // Every message after the header earns an answer, so every one counts against the
    // bound, `ls` included: uncounted, a stream of 4-byte `ls` requests would make us
    // queue the whole protocol list for each, without end.
    const proposals = state.proposals + 1
    if (proposals > this.#maxProposals) {
      throw new Lp2pError(codes.ERR_TOO_MANY_PROPOSALS, `the remote proposed more than ${this.#maxProposals} protocols`)
    }
    if (msg === LS) {
      const list = this.#options.list
      if (list === undefined) this.#send(NA)
      else {
        this.observe?.('out', '(ls list)')
        this.#output.push(encodeLsResponse(list()))
      }
      this.#state = { kind: 'await-proposal', proposals }
      return
    }
    if (msg !== NA && msg !== PROTOCOL_ID && this.#options.isSupported(msg)) {
      this.#send(msg)
      this.#state = { kind: 'done', protocol: msg }
      return
    }
    this.#send(NA)
    this.#state = { kind: 'await-proposal', proposals }
  }

  #send (msg: string): void {
    this.observe?.('out', msg)
    this.#output.push(encodeMessage(msg))
  }
}
