/**
 * The SECIO 1.0.0 handshake (`specs/secio.md`, "Protocol") as a pure state machine:
 *
 * ```
 * both sides, at once                        state after
 *   -> Propose{rand, pubkey, exchanges, ciphers, hashes}
 *   <- Propose                                await-propose -> await-exchange
 *   -> Exchange{epubkey, sign(ours || theirs || epubkey)}
 *   <- Exchange                               await-exchange -> await-nonce
 *   -> packet(their rand)   (first encrypted packet)
 *   <- packet(our rand)                       await-nonce -> done
 * ```
 *
 * - Roles and algorithms: `algorithms.ts` (`preferenceOrder`, `agree`).
 * - The signature corpus is the two Propose messages exactly as they crossed the wire
 *   (sender's first), then the sender's ephemeral point ("Key Exchange").
 * - Identity: the peer id comes from the Propose's `pubkey`; an expected peer that
 *   does not match fails at once with ERR_UNEXPECTED_PEER, before any key work
 *   ("they may attempt to validate ... and may close the connection").
 * - Keys: ECDH on the agreed curve, stretched into k1 and k2 (`keys.ts`); k1 is ours
 *   unless the remote's preferences won ("Creating the Cipher and HMAC signer").
 * - "Initial Packet Verification": our first packet carries the remote's nonce, and
 *   the remote's must decrypt to ours.
 *
 * sans-IO (the shared driver is `../handshake-run.ts`): `handleData` in, `takeOutput`
 * out, `status`, then `result()`. Errors: ERR_UNEXPECTED_PEER and ERR_MESSAGE_TOO_LARGE
 * keep their codes; everything else is ERR_HANDSHAKE_FAILED whose `cause` says what
 * (ERR_INVALID_MESSAGE, ERR_INVALID_KEY, ERR_INVALID_SIGNATURE, ERR_NEGOTIATION_FAILED,
 * ERR_DIALED_SELF, ERR_DECRYPTION_FAILED).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { codes, Lp2pError } from '../../errors.js'
import { peerIdFromPublicKey, publicKeyFromProtobuf } from '../../identity/index.js'
import type { PeerId, PrivateKey, PublicKey } from '../../interfaces/keys.js'
import { toHandshakeErrorOf } from '../handshake-run.js'
import {
  agree, checkPreferences, preferenceOrder, SECIO_NONCE_BYTES, type SecioAgreement, type SecioPreferences
} from './algorithms.js'
import { SECIO_LENGTH_PREFIX_BYTES, SecioFrameDecoder } from './frame-decoder.js'
import { EphemeralKey, stretchKeys } from './keys.js'
import { decodeExchange, decodePropose, encodeExchange, encodePropose, type Propose } from './messages.js'
import { PacketReader, PacketWriter } from './packets.js'

/**
 * Default largest handshake message: 16 KiB. The largest legitimate one is a Propose
 * with an RSA-8192 identity key (about 1.1 KiB) or an Exchange with an RSA-8192
 * signature (1 KiB); the nonce packet is 16 bytes plus a MAC. Every field has its own
 * bound besides (`messages.ts`).
 */
export const DEFAULT_SECIO_HANDSHAKE_MESSAGE_BYTES = 16 * 1024

export interface SecioHandshakeInit {
  /** Our identity key: its public half goes in the Propose, it signs the Exchange. */
  localKey: PrivateKey
  /** The peer we expect; anyone else fails with ERR_UNEXPECTED_PEER. */
  remotePeer?: PeerId
  /** Our algorithm preferences; default `DEFAULT_SECIO_PREFERENCES`. */
  preferences?: Partial<SecioPreferences>
  /** Our 16-byte proposal nonce; fresh random bytes when absent (tests inject one). */
  nonce?: Uint8Array
  /** Largest handshake message accepted; default {@link DEFAULT_SECIO_HANDSHAKE_MESSAGE_BYTES}. */
  maxHandshakeMessageLength?: number
}

interface RemoteProposal { propose: Propose, publicKey: PublicKey, peer: PeerId }

export type SecioState = 'await-propose' | 'await-exchange' | 'await-nonce' | 'done' | 'failed'

export interface SecioHandshakeResult {
  remotePeer: PeerId
  remotePublicKey: PublicKey
  agreement: SecioAgreement
  /** Our sending direction and the remote's, ready for the channel. */
  writer: PacketWriter
  reader: PacketReader
  /** Bytes received after the remote's nonce packet: its first data. */
  remainder: Uint8Array
}

/** Maps any failure to the SECIO handshake's error contract (module comment). */
export const toSecioError = toHandshakeErrorOf('SECIO')

export class SecioHandshake {
  readonly #localKey: PrivateKey
  readonly #expected: PeerId | undefined
  readonly #preferences: SecioPreferences
  readonly #nonce: Uint8Array
  readonly #localPropose: Uint8Array
  readonly #decoder: SecioFrameDecoder
  #state: SecioState = 'await-propose'
  #output: Uint8Array[] = []
  #remotePropose: Uint8Array | undefined
  #remote: RemoteProposal | undefined
  #agreement: SecioAgreement | undefined
  #order: 1 | -1 = 1
  #ephemeral: EphemeralKey | undefined
  #writer: PacketWriter | undefined
  #reader: PacketReader | undefined

  constructor (init: SecioHandshakeInit) {
    this.#localKey = init.localKey
    this.#expected = init.remotePeer
    this.#preferences = checkPreferences(init.preferences ?? {})
    this.#nonce = init.nonce ?? randomBytes(SECIO_NONCE_BYTES)
    if (this.#nonce.byteLength !== SECIO_NONCE_BYTES) throw new RangeError(`a SECIO nonce is ${SECIO_NONCE_BYTES} bytes`)
    this.#decoder = new SecioFrameDecoder(init.maxHandshakeMessageLength ?? DEFAULT_SECIO_HANDSHAKE_MESSAGE_BYTES)
    this.#localPropose = encodePropose({
      rand: this.#nonce,
      pubkey: this.#localKey.publicKey.bytes,
      ...this.#preferences
    } as Propose)
    this.#send(this.#localPropose)
  }

  get status (): 'handshaking' | 'done' | 'failed' {
    return this.#state === 'done' || this.#state === 'failed' ? this.#state : 'handshaking'
  }

  get stage (): SecioState {
    return this.#state
  }

  /** The algorithms agreed, once the Propose messages crossed. */
  get agreement (): SecioAgreement | undefined {
    return this.#agreement
  }

  takeOutput (): Uint8Array[] {
    const out = this.#output
    this.#output = []
    return out
  }

  /** Feeds received bytes; throws the typed error (and `status` is `failed`) when they are invalid. */
  handleData (chunk: Uint8Array): void {
    if (this.#state === 'failed') throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'the SECIO handshake already failed')
    this.#decoder.push(chunk)
    if (this.#state === 'done') return
    try {
      while (this.status === 'handshaking') {
        const frame = this.#decoder.next()
        if (frame === undefined) return
        this.#onMessage(frame)
      }
    } catch (err) {
      this.#state = 'failed'
      throw toSecioError(err)
    }
  }

  /** The outcome, once `status` is `done`. */
  result (): SecioHandshakeResult {
    const remote = this.#remote
    if (this.#state !== 'done' || remote === undefined) throw new Error(`SECIO handshake result requested in state ${this.#state}`)
    return {
      remotePeer: remote.peer,
      remotePublicKey: remote.publicKey,
      agreement: this.#agreement as SecioAgreement,
      writer: this.#writer as PacketWriter,
      reader: this.#reader as PacketReader,
      remainder: this.#decoder.takeRemainder()
    }
  }

  #onMessage (message: Uint8Array): void {
    switch (this.#state) {
      case 'await-propose': this.#onPropose(message); break
      case 'await-exchange': this.#onExchange(message); break
      case 'await-nonce': this.#onNonce(message); break
      default: throw new Error(`unexpected SECIO state ${this.#state}`)
    }
  }

  #onPropose (message: Uint8Array): void {
    const propose = decodePropose(message, this.#decoder.maxLength)
    let publicKey: PublicKey
    try {
      publicKey = publicKeyFromProtobuf(propose.pubkey)
    } catch (err) {
      throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `the remote SECIO identity key is invalid: ${(err as Error).message}`, { cause: err })
    }
    const peer = peerIdFromPublicKey(publicKey)
    if (this.#expected !== undefined && !this.#expected.equals(peer)) {
      throw new Lp2pError(codes.ERR_UNEXPECTED_PEER, `expected peer ${this.#expected.toString()}, the remote proposed the key of ${peer.toString()}`)
    }
    // The bytes as received, for the corpus (a copy: the chunk is not ours to keep).
    this.#remotePropose = Buffer.from(message)
    this.#remote = { propose, publicKey, peer }
    this.#order = preferenceOrder(this.#localKey.publicKey.bytes, this.#nonce, propose.pubkey, propose.rand)
    this.#agreement = agree(this.#order, this.#preferences, propose)
    const ephemeral = new EphemeralKey(this.#agreement.exchange)
    this.#ephemeral = ephemeral
    const corpus = Buffer.concat([this.#localPropose, this.#remotePropose, ephemeral.publicKey])
    this.#send(encodeExchange({ epubkey: ephemeral.publicKey, signature: this.#localKey.sign(corpus) }))
    this.#state = 'await-exchange'
  }

  #onExchange (message: Uint8Array): void {
    const remote = this.#remote as RemoteProposal
    const agreement = this.#agreement as SecioAgreement
    const exchange = decodeExchange(message, this.#decoder.maxLength)
    const corpus = Buffer.concat([this.#remotePropose as Uint8Array, this.#localPropose, exchange.epubkey])
    if (!remote.publicKey.verify(corpus, exchange.signature)) {
      const cause = new Lp2pError(codes.ERR_INVALID_SIGNATURE, 'the Exchange signature does not verify with the proposed identity key')
      throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'the remote SECIO Exchange is not signed by its identity', { cause })
    }
    const secret = (this.#ephemeral as EphemeralKey).sharedSecret(exchange.epubkey)
    this.#ephemeral = undefined
    const [k1, k2] = stretchKeys(agreement.cipher, agreement.hash, secret)
    const [local, remoteKeys] = this.#order > 0 ? [k1, k2] : [k2, k1]
    this.#writer = new PacketWriter(agreement.cipher, agreement.hash, local)
    this.#reader = new PacketReader(agreement.cipher, agreement.hash, remoteKeys)
    for (const packet of this.#writer.seal([remote.propose.rand], remote.propose.rand.byteLength)) this.#output.push(packet)
    this.#state = 'await-nonce'
  }

  #onNonce (message: Uint8Array): void {
    const nonce = (this.#reader as PacketReader).open(message)
    if (nonce.byteLength !== this.#nonce.byteLength || !timingSafeEqual(nonce, this.#nonce)) {
      const cause = new Lp2pError(codes.ERR_INVALID_MESSAGE, 'the first SECIO packet does not carry our nonce')
      throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'SECIO initial packet verification failed: the remote did not return our nonce', { cause })
    }
    this.#state = 'done'
  }

  #send (message: Uint8Array): void {
    const framed = Buffer.allocUnsafe(SECIO_LENGTH_PREFIX_BYTES + message.byteLength)
    framed.writeUInt32BE(message.byteLength, 0)
    framed.set(message, SECIO_LENGTH_PREFIX_BYTES)
    this.#output.push(framed)
  }
}
