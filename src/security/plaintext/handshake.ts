/**
 * The `/plaintext/2.0.0` exchange (`specs/plaintext.md`) as a pure machine: each side
 * sends at once one varint length-prefixed protobuf
 *
 * ```protobuf
 * message Exchange { optional bytes id = 1; optional PublicKey pubkey = 2; }
 * ```
 *
 * and checks the remote's: the peer id derived from `pubkey` must equal `id`, and a
 * dialer's expected peer must match too ("Exchange"). Nothing else: no encryption, no
 * authentication of anything that follows. For tests and packet captures only.
 *
 * sans-IO, run by the shared driver (`../handshake-run.ts`). Errors: ERR_UNEXPECTED_PEER
 * and ERR_MESSAGE_TOO_LARGE keep their codes; anything else is ERR_HANDSHAKE_FAILED with
 * the cause (ERR_INVALID_MESSAGE, ERR_INVALID_KEY, ERR_INVALID_PEER_ID).
 */
import { codes, Lp2pError } from '../../errors.js'
import { peerIdFromBytes, peerIdFromPublicKey, publicKeyFromProtobuf } from '../../identity/index.js'
import type { PeerId, PrivateKey, PublicKey } from '../../interfaces/keys.js'
import { encodeLengthPrefixed, LengthPrefixedDecoder } from '../../wire/length-prefixed.js'
import { ProtobufReader, ProtobufWriter } from '../../wire/protobuf.js'
import { toHandshakeErrorOf } from '../handshake-run.js'

/**
 * Largest Exchange accepted: 4 KiB. An id is at most 46 bytes (a sha2-256 multihash is
 * 34), a public key at most 2 KiB (`MAX_PUBLIC_KEY_BYTES`, an RSA-8192 key): the
 * largest real message is about 2.1 KiB; go-libp2p allows 64 KiB for the same message.
 */
export const MAX_PLAINTEXT_EXCHANGE_BYTES = 4096

const ID = 1
const PUBKEY = 2

export function encodeExchange (id: PeerId, publicKey: PublicKey): Uint8Array {
  return new ProtobufWriter().bytes(ID, id.bytes).message(PUBKEY, publicKey.bytes).finish()
}

/** Decodes and checks an Exchange: the key must derive the id. Throws the typed error. */
export function decodeExchange (bytes: Uint8Array): { peer: PeerId, publicKey: PublicKey } {
  const r = new ProtobufReader(bytes, { maxSize: MAX_PLAINTEXT_EXCHANGE_BYTES })
  let id: Uint8Array | undefined
  let key: Uint8Array | undefined
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === ID) id = r.bytes()
    else if (f === PUBKEY) key = r.bytes()
  }
  if (id === undefined || key === undefined) {
    throw new Lp2pError(codes.ERR_INVALID_MESSAGE, 'a plaintext Exchange must carry id and pubkey')
  }
  const publicKey = publicKeyFromProtobuf(key)
  const claimed = peerIdFromBytes(id)
  const peer = peerIdFromPublicKey(publicKey)
  if (!peer.equals(claimed)) {
    throw new Lp2pError(codes.ERR_INVALID_PEER_ID, `the Exchange claims peer ${claimed.toString()} but its key is ${peer.toString()}'s`)
  }
  return { peer, publicKey }
}

export interface PlaintextHandshakeInit {
  localKey: PrivateKey
  localPeer: PeerId
  /** The peer we dialed; anyone else fails with ERR_UNEXPECTED_PEER. */
  remotePeer?: PeerId
}

export const toPlaintextError = toHandshakeErrorOf('plaintext')

export class PlaintextHandshake {
  readonly #expected: PeerId | undefined
  readonly #decoder = new LengthPrefixedDecoder(MAX_PLAINTEXT_EXCHANGE_BYTES)
  #output: Uint8Array[]
  #status: 'handshaking' | 'done' | 'failed' = 'handshaking'
  #remote: { peer: PeerId, publicKey: PublicKey } | undefined

  constructor (init: PlaintextHandshakeInit) {
    this.#expected = init.remotePeer
    this.#output = [encodeLengthPrefixed(encodeExchange(init.localPeer, init.localKey.publicKey))]
  }

  get status (): 'handshaking' | 'done' | 'failed' {
    return this.#status
  }

  get stage (): string {
    return this.#status === 'handshaking' ? 'await-exchange' : this.#status
  }

  takeOutput (): Uint8Array[] {
    const out = this.#output
    this.#output = []
    return out
  }

  handleData (chunk: Uint8Array): void {
    if (this.#status !== 'handshaking') {
      if (this.#status === 'done') this.#decoder.push(chunk)
      else throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, 'the plaintext handshake already failed')
      return
    }
    try {
      this.#decoder.push(chunk)
      const message = this.#decoder.next()
      if (message === undefined) return
      const remote = decodeExchange(message)
      if (this.#expected !== undefined && !this.#expected.equals(remote.peer)) {
        throw new Lp2pError(codes.ERR_UNEXPECTED_PEER, `expected peer ${this.#expected.toString()}, the remote is ${remote.peer.toString()}`)
      }
      this.#remote = remote
      this.#status = 'done'
    } catch (err) {
      this.#status = 'failed'
      throw toPlaintextError(err)
    }
  }

  /** The remote identity and the bytes that followed its Exchange, once done. */
  result (): { remotePeer: PeerId, remotePublicKey: PublicKey, remainder: Uint8Array } {
    const remote = this.#remote
    if (remote === undefined) throw new Error(`plaintext handshake result requested in status ${this.#status}`)
    return { remotePeer: remote.peer, remotePublicKey: remote.publicKey, remainder: this.#decoder.takeRemaining() }
  }
}
