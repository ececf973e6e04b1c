/**
 * The noise-libp2p handshake (`specs/noise.md`), as a pure state machine over bytes:
 * framing (`frame-decoder.ts`), the XX pattern (`handshake-xx.ts`), the libp2p payload
 * (`payload.ts`), identity checks and early muxer negotiation
 * (`connections/inlined-muxer-negotiation.md`).
 *
 * ```
 * initiator                                   responder
 *   -> e                         (msg 1, empty payload)
 *   <- e, ee, s, es              (msg 2, responder identity + its muxers)
 *   -> s, se                     (msg 3, initiator identity + its muxers)
 * ```
 *
 * sans-IO contract: `handleData(bytes)` in; `takeOutput()` gives the framed messages
 * to send; `status` turns `done` (then `result()` holds the transport keys, the remote
 * identity, the muxer and any bytes that followed the last handshake message) or
 * `failed` (after `handleData` threw the typed error). No I/O, timers or awaits; the
 * driver is `noise.ts`.
 *
 * Identity (`specs/noise.md`, "Static Key Authentication"): each payload carries the
 * sender's identity key and its signature over `noise-libp2p-static-key:` || the
 * sender's static Noise key (the 32 raw bytes, RFC 7748 §5); the signature is checked
 * against the static key the XX pattern authenticated, the peer id is derived from the
 * identity key, and an expected peer must match (ERR_UNEXPECTED_PEER).
 *
 * Errors: ERR_UNEXPECTED_PEER and ERR_MESSAGE_TOO_LARGE keep their own codes; anything
 * else is ERR_HANDSHAKE_FAILED whose `cause` says what (ERR_INVALID_SIGNATURE,
 * ERR_INVALID_KEY, ERR_DECRYPTION_FAILED, ERR_INVALID_MESSAGE, ERR_NEGOTIATION_FAILED).
 */
import { codes, Lp2pError } from '../../errors.js'
import { toHandshakeErrorOf } from '../handshake-run.js'
import { peerIdFromPublicKey, publicKeyFromProtobuf } from '../../identity/index.js'
import type { PeerId, PrivateKey, PublicKey } from '../../interfaces/keys.js'
import { LENGTH_PREFIX_LENGTH, MAX_NOISE_MESSAGE_LENGTH } from './constants.js'
import { FrameDecoder } from './frame-decoder.js'
import type { IdentityCache } from './identity-cache.js'
import { XXHandshake, type XXTransportKeys } from './handshake-xx.js'
import { DEFAULT_PAYLOAD_LIMITS, decodeHandshakePayload, encodeHandshakePayload, type NoiseExtensions, type PayloadLimits } from './payload.js'
import { generateX25519KeyPair, type X25519KeyPair } from './x25519.js'

/** The prefix of the signed data (`specs/noise.md`, "The libp2p Handshake Payload"). */
const SIGNATURE_PREFIX = Buffer.from('noise-libp2p-static-key:', 'utf8')

/** The bytes an identity key signs to vouch for a static Noise key. */
export function staticKeySignatureData (staticPublicKey: Uint8Array): Buffer {
  return Buffer.concat([SIGNATURE_PREFIX, staticPublicKey])
}

export interface NoiseHandshakeInit {
  /** True on the side that dialed (sends message 1). */
  initiator: boolean
  /** Our identity key; signs our static Noise key. */
  localKey: PrivateKey
  /** Our static Noise key pair; a fresh one when absent (spec: MAY be per session). */
  staticKey?: X25519KeyPair
  /**
   * Our ephemeral key pair, used for this handshake only (the driver makes it ahead of
   * time; tests inject vectors); fresh when absent.
   */
  ephemeralKey?: X25519KeyPair
  /** The peer we expect; anyone else fails with ERR_UNEXPECTED_PEER. */
  remotePeer?: PeerId
  /** Muxer protocol ids to offer, in preference order; empty or absent offers none. */
  muxers?: readonly string[]
  /**
   * Largest handshake message accepted (bytes after the length prefix). Default 65535,
   * the Noise maximum: legitimate messages are a few hundred bytes (an RSA-8192
   * identity makes them about 2.2 KiB), but the extension registry lets future
   * extensions grow them, so only the spec's own bound is safe for interop.
   */
  maxHandshakeMessageLength?: number
  /** Bounds of payload fields (see `payload.ts`). */
  payloadLimits?: Partial<PayloadLimits>
  /** Noise prologue (§6); libp2p's is empty. Only tests set it (a deliberately broken peer). */
  prologue?: Uint8Array
  /**
   * Remembers our signature and the remote identities that verified, across the
   * handshakes of one `noise()` instance (`identity-cache.ts`); none when absent.
   */
  identityCache?: IdentityCache
}

export interface NoiseHandshakeResult {
  remotePeer: PeerId
  remotePublicKey: PublicKey
  /** The muxer both sides agreed on inside the handshake, if any. */
  muxer: string | undefined
  /** The remote's extensions as received (after the signature was verified). */
  remoteExtensions: NoiseExtensions | undefined
  /** Transport cipher states: `send` for what we write, `receive` for what we read. */
  keys: XXTransportKeys
  /** The final handshake hash `h` (Noise §11.2 channel binding). */
  handshakeHash: Buffer
  /** Bytes received after the last handshake message: transport data, to decode next. */
  remainder: Uint8Array
}

export type NoiseHandshakeStatus = 'handshaking' | 'done' | 'failed'

interface VerifiedRemote {
  peer: PeerId
  publicKey: PublicKey
  extensions: NoiseExtensions | undefined
}

export class NoiseHandshake {
  readonly initiator: boolean
  readonly #localKey: PrivateKey
  readonly #staticKey: X25519KeyPair
  readonly #expected: PeerId | undefined
  readonly #muxers: readonly string[]
  readonly #limits: Readonly<PayloadLimits>
  readonly #xx: XXHandshake
  readonly #decoder: FrameDecoder
  readonly #cache: IdentityCache | undefined
  #output: Uint8Array[] = []
  #status: NoiseHandshakeStatus = 'handshaking'
  #remote: VerifiedRemote | undefined
  #muxer: string | undefined
  #result: NoiseHandshakeResult | undefined

  constructor (init: NoiseHandshakeInit) {
    this.initiator = init.initiator
    this.#localKey = init.localKey
    this.#staticKey = init.staticKey ?? generateX25519KeyPair()
    this.#expected = init.remotePeer
    this.#muxers = init.muxers ?? []
    this.#limits = { ...DEFAULT_PAYLOAD_LIMITS, ...init.payloadLimits }
    this.#cache = init.identityCache
    this.#decoder = new FrameDecoder({ maxLength: init.maxHandshakeMessageLength ?? MAX_NOISE_MESSAGE_LENGTH })
    const xxInit = {
      initiator: init.initiator,
      staticKey: this.#staticKey,
      ...(init.prologue !== undefined ? { prologue: init.prologue } : {})
    }
    this.#xx = new XXHandshake(init.ephemeralKey !== undefined ? { ...xxInit, ephemeralKey: init.ephemeralKey } : xxInit)
    if (this.initiator) {
      // Message 1 carries no payload: nothing in it would be encrypted (spec, "The libp2p
      // Handshake Payload": the initiator MUST NOT send extensions in its first message).
      this.#send(this.#xx.writeMessage(new Uint8Array(0)))
    }
  }

  get status (): NoiseHandshakeStatus {
    return this.#status
  }

  /** The XX machine's state, for diagnostics. */
  get xxState (): string {
    return this.#xx.state
  }

  /** Where the handshake is (the XX state), for error messages. */
  get stage (): string {
    return this.#xx.state
  }

  /** Framed handshake messages to send now, in order; the queue is emptied. */
  takeOutput (): Uint8Array[] {
    const out = this.#output
    this.#output = []
    return out
  }

  /**
   * Feeds received bytes. Throws the typed handshake error (and `status` becomes
   * `failed`) when they are invalid. Bytes after the last handshake message are kept
   * for `result().remainder`.
   */
  handleData (chunk: Uint8Array): void {
    if (this.#status === 'failed') throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'the Noise handshake already failed')
    this.#decoder.push(chunk)
    if (this.#status === 'done') return
    try {
      for (;;) {
        const message = this.#decoder.next()
        if (message === undefined) return
        if (this.#onMessage(message)) return
      }
    } catch (err) {
      this.#status = 'failed'
      throw toHandshakeError(err)
    }
  }

  /** The outcome, once `status` is `done`. */
  result (): NoiseHandshakeResult {
    if (this.#status !== 'done' || this.#remote === undefined) {
      throw new Error(`Noise handshake result requested in status ${this.#status}`)
    }
    if (this.#result === undefined) {
      this.#result = {
        remotePeer: this.#remote.peer,
        remotePublicKey: this.#remote.publicKey,
        muxer: this.#muxer,
        remoteExtensions: this.#remote.extensions,
        keys: this.#xx.split(),
        handshakeHash: this.#xx.handshakeHash,
        remainder: this.#decoder.takeRemainder()
      }
    } else {
      // Bytes pushed after the result was first taken are still handed over.
      const more = this.#decoder.takeRemainder()
      if (more.byteLength > 0) this.#result.remainder = Buffer.concat([this.#result.remainder, more])
    }
    return this.#result
  }

  /** Handles one handshake message; true once the handshake is complete. */
  #onMessage (message: Uint8Array): boolean {
    const payload = this.#xx.readMessage(message)
    switch (this.#xx.state) {
      case 'send-e-ee-s-es': {
        // Responder after message 1. Its payload is unauthenticated and unused by
        // libp2p (empty from every implementation); it is ignored.
        this.#send(this.#xx.writeMessage(this.#localPayload(this.#muxers)))
        return false
      }
      case 'send-s-se': {
        // Initiator after message 2: authenticate the responder, agree on a muxer.
        this.#remote = this.#verify(payload)
        const remoteMuxers = this.#remote.extensions?.streamMuxers ?? []
        this.#muxer = selectMuxer(this.#muxers, remoteMuxers)
        // Sending only the chosen muxer is allowed (inlined-muxer-negotiation.md) and
        // leaves the responder no other choice, whatever order it applies.
        this.#send(this.#xx.writeMessage(this.#localPayload(this.#muxer !== undefined ? [this.#muxer] : this.#muxers)))
        this.#status = 'done'
        return true
      }
      case 'done': {
        // Responder after message 3.
        this.#remote = this.#verify(payload)
        this.#muxer = selectMuxer(this.#remote.extensions?.streamMuxers ?? [], this.#muxers)
        this.#status = 'done'
        return true
      }
      default:
        throw new Error(`unexpected XX state ${this.#xx.state}`)
    }
  }

  #localPayload (muxers: readonly string[]): Uint8Array {
    const staticKey = this.#staticKey.publicKey
    const data = staticKeySignatureData(staticKey)
    const identitySig = this.#cache !== undefined
      ? this.#cache.signature(this.#localKey, staticKey, data)
      : this.#localKey.sign(data)
    return encodeHandshakePayload({
      identityKey: this.#localKey.publicKey.bytes,
      identitySig,
      ...(muxers.length > 0 ? { extensions: { webtransportCerthashes: [], streamMuxers: [...muxers] } } : {})
    })
  }

  #verify (payloadBytes: Uint8Array): VerifiedRemote {
    const payload = decodeHandshakePayload(payloadBytes, this.#limits)
    const remoteStatic = this.#xx.remoteStaticKey as Buffer
    const cache = this.#cache
    let identity = cache?.verified(payload.identityKey, remoteStatic, payload.identitySig)
    if (identity === undefined) {
      let publicKey: PublicKey
      try {
        publicKey = publicKeyFromProtobuf(payload.identityKey)
      } catch (err) {
        throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `the remote identity key is invalid: ${(err as Error).message}`, { cause: err })
      }
      if (!publicKey.verify(staticKeySignatureData(remoteStatic), payload.identitySig)) {
        const cause = new Lp2pError(codes.ERR_INVALID_SIGNATURE, 'the identity signature over the static Noise key does not verify')
        throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'the remote identity does not vouch for its Noise static key', { cause })
      }
      identity = { publicKey, peer: peerIdFromPublicKey(publicKey) }
      cache?.add(payload.identityKey, remoteStatic, payload.identitySig, identity)
    }
    const { peer, publicKey } = identity
    if (this.#expected !== undefined && !this.#expected.equals(peer)) {
      throw new Lp2pError(codes.ERR_UNEXPECTED_PEER, `expected peer ${this.#expected.toString()}, the remote authenticated as ${peer.toString()}`)
    }
    return { peer, publicKey, extensions: payload.extensions }
  }

  #send (message: Buffer): void {
    const framed = Buffer.allocUnsafe(LENGTH_PREFIX_LENGTH + message.byteLength)
    framed.writeUInt16BE(message.byteLength, 0)
    message.copy(framed, LENGTH_PREFIX_LENGTH)
    this.#output.push(framed)
  }
}

/**
 * Early muxer choice (`connections/inlined-muxer-negotiation.md`): the first entry of
 * the initiator's list that the responder also lists. `undefined` when either list is
 * empty (fall back to multistream-select); ERR_NEGOTIATION_FAILED when both offered
 * muxers but none in common ("the handshake MUST fail").
 *
 * Interop note: js-libp2p (@chainsafe/libp2p-noise 17) picks, on both sides, the first
 * entry of the REMOTE list it supports. That agrees with this rule whenever the two
 * lists order their common muxers alike (in practice both offer just yamux), and our
 * initiator sends only the chosen muxer, so a js responder cannot diverge from it.
 */
export function selectMuxer (initiatorMuxers: readonly string[], responderMuxers: readonly string[]): string | undefined {
  if (initiatorMuxers.length === 0 || responderMuxers.length === 0) return undefined
  for (const m of initiatorMuxers) {
    if (responderMuxers.includes(m)) return m
  }
  throw new Lp2pError(codes.ERR_NEGOTIATION_FAILED, `no common stream muxer: initiator offers [${initiatorMuxers.join(', ')}], responder [${responderMuxers.join(', ')}]`)
}

/** Maps any failure to the handshake's error contract (see the module comment). */
export const toHandshakeError = toHandshakeErrorOf('Noise')
