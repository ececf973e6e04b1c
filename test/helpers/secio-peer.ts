/**
 * A hand-driven SECIO peer for hostile tests: it speaks the protocol step by step from
 * the exported pure parts (messages, order, agreement, ECDH, stretching, packets), so a
 * test can send a real message, a replayed one, or a forged one at any step.
 */
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '../../src/identity/index.js'
import type { PrivateKey } from '../../src/interfaces/keys.js'
import {
  agree, decodeExchange, decodePropose, DEFAULT_SECIO_PREFERENCES, encodeExchange, encodePropose, EphemeralKey,
  PacketReader, PacketWriter, preferenceOrder, SecioFrameDecoder, stretchKeys, type SecioAgreement, type SecioPreferences
} from '../../src/security/secio/index.js'

/** `bytes` with its 4-byte big-endian length prefix. */
export function secioFrame (bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + bytes.byteLength)
  out.writeUInt32BE(bytes.byteLength, 0)
  out.set(bytes, 4)
  return out
}

/** Splits a byte stream into SECIO frames (handshake sized). */
export class FrameReader {
  readonly #decoder = new SecioFrameDecoder(1 << 20)
  readonly frames: Uint8Array[] = []
  push (chunk: Uint8Array): void {
    this.#decoder.push(chunk)
    for (let f = this.#decoder.next(); f !== undefined; f = this.#decoder.next()) this.frames.push(Buffer.from(f))
  }
}

export class SecioPeer {
  readonly key: PrivateKey
  readonly nonce: Uint8Array
  readonly propose: Uint8Array
  readonly preferences: SecioPreferences
  agreement: SecioAgreement | undefined
  #order: 1 | -1 = 1
  #remotePropose: Uint8Array | undefined
  #ephemeral: EphemeralKey | undefined
  writer: PacketWriter | undefined
  reader: PacketReader | undefined
  remoteNonce: Uint8Array | undefined

  constructor (options: { key?: PrivateKey, nonce?: Uint8Array, preferences?: Partial<SecioPreferences> } = {}) {
    this.key = options.key ?? generateKeyPair('Ed25519')
    this.nonce = options.nonce ?? randomBytes(16)
    this.preferences = { ...DEFAULT_SECIO_PREFERENCES, ...options.preferences }
    this.propose = encodePropose({ rand: this.nonce, pubkey: this.key.publicKey.bytes, ...this.preferences } as never)
  }

  /** Our Exchange for the remote's Propose (correctly signed unless `sign` says otherwise). */
  exchangeFor (remotePropose: Uint8Array, sign: (corpus: Buffer) => Uint8Array = (c) => this.key.sign(c)): Uint8Array {
    const p = decodePropose(remotePropose, 1 << 16)
    this.#remotePropose = remotePropose
    this.remoteNonce = Buffer.from(p.rand)
    this.#order = preferenceOrder(this.key.publicKey.bytes, this.nonce, p.pubkey, p.rand)
    this.agreement = agree(this.#order, this.preferences, p)
    this.#ephemeral = new EphemeralKey(this.agreement.exchange)
    const epubkey = this.#ephemeral.publicKey
    return encodeExchange({ epubkey, signature: sign(Buffer.concat([this.propose, remotePropose, epubkey])) })
  }

  /** Derives the session keys from the remote's Exchange. */
  keysFrom (remoteExchange: Uint8Array): void {
    const e = decodeExchange(remoteExchange, 1 << 16)
    const agreement = this.agreement as SecioAgreement
    const secret = (this.#ephemeral as EphemeralKey).sharedSecret(e.epubkey)
    const [k1, k2] = stretchKeys(agreement.cipher, agreement.hash, secret)
    const [local, remote] = this.#order > 0 ? [k1, k2] : [k2, k1]
    this.writer = new PacketWriter(agreement.cipher, agreement.hash, local)
    this.reader = new PacketReader(agreement.cipher, agreement.hash, remote)
    void this.#remotePropose
  }

  /** One sealed packet (with its prefix) of `plaintext`. */
  seal (plaintext: Uint8Array): Buffer {
    return Buffer.concat((this.writer as PacketWriter).seal([plaintext], plaintext.byteLength))
  }
}
