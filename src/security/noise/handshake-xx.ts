/**
 * The Noise XX handshake (Noise Protocol Framework, revision 34, §7.5), as libp2p
 * uses it (`specs/noise.md`, "XX"):
 *
 * ```
 * -> e
 * <- e, ee, s, es
 * -> s, se
 * ```
 *
 * A pure state machine: messages in, messages and decrypted payloads out; no I/O, no
 * framing, no libp2p payload rules (see `handshake.ts` for those). Each side moves
 * through an explicit state union:
 *
 * - initiator: `send-e` -> `read-e-ee-s-es` -> `send-s-se` -> `done`
 * - responder: `read-e` -> `send-e-ee-s-es` -> `read-s-se` -> `done`
 *
 * Any failure while reading moves the machine to `failed` for good. Ephemeral (and
 * static) keys can be injected, which the published test vectors need.
 */
import { codes, Lp2pError } from '../../errors.js'
import type { CipherState } from './cipher-state.js'
import { DH_LENGTH, PROTOCOL_NAME, TAG_LENGTH } from './constants.js'
import { SymmetricState } from './symmetric-state.js'
import type { KeyObject } from 'node:crypto'
import { generateX25519KeyPair, importX25519PublicKey, x25519, type X25519KeyPair } from './x25519.js'

export type XXInitiatorState = 'send-e' | 'read-e-ee-s-es' | 'send-s-se' | 'done' | 'failed'
export type XXResponderState = 'read-e' | 'send-e-ee-s-es' | 'read-s-se' | 'done' | 'failed'
export type XXState = XXInitiatorState | XXResponderState

export interface XXHandshakeInit {
  /** True for the side that sends the first message (the dialer in libp2p). */
  initiator: boolean
  /** Our static DH key pair `s`. */
  staticKey: X25519KeyPair
  /** Our ephemeral key pair `e`; generated when the first message needing it is written. */
  ephemeralKey?: X25519KeyPair
  /** Prologue mixed into `h` before the first message (§6); libp2p's is empty. */
  prologue?: Uint8Array
}

/** The two transport cipher states, named from our point of view. */
export interface XXTransportKeys {
  /** Encrypts what we send. */
  send: CipherState
  /** Decrypts what we receive. */
  receive: CipherState
}

/** An encrypted static key: 32 key bytes and the 16-byte tag. */
const ENCRYPTED_STATIC_LENGTH = DH_LENGTH + TAG_LENGTH
/** Smallest valid message 1 (`e`, empty plaintext payload). */
const MIN_MESSAGE_1 = DH_LENGTH
/** Smallest valid message 2 (`e`, encrypted `s`, encrypted empty payload). */
const MIN_MESSAGE_2 = DH_LENGTH + ENCRYPTED_STATIC_LENGTH + TAG_LENGTH
/** Smallest valid message 3 (encrypted `s`, encrypted empty payload). */
const MIN_MESSAGE_3 = ENCRYPTED_STATIC_LENGTH + TAG_LENGTH

export class XXHandshake {
  readonly initiator: boolean
  #state: XXState
  readonly #ss = new SymmetricState(PROTOCOL_NAME)
  readonly #s: X25519KeyPair
  #e: X25519KeyPair | undefined
  #re: Buffer | undefined
  /** `re` imported once: each side uses it in two DH operations (ee, and es or se). */
  #reKey: KeyObject | undefined
  #rs: Buffer | undefined

  constructor (init: XXHandshakeInit) {
    this.initiator = init.initiator
    this.#s = init.staticKey
    this.#e = init.ephemeralKey
    this.#state = init.initiator ? 'send-e' : 'read-e'
    this.#ss.mixHash(init.prologue ?? new Uint8Array(0))
  }

  get state (): XXState {
    return this.#state
  }

  /** What the machine needs next. */
  get next (): 'write' | 'read' | 'done' | 'failed' {
    switch (this.#state) {
      case 'send-e': case 'send-e-ee-s-es': case 'send-s-se': return 'write'
      case 'read-e': case 'read-e-ee-s-es': case 'read-s-se': return 'read'
      default: return this.#state
    }
  }

  /** The remote static public key `rs`, once received (and authenticated by the AEAD). */
  get remoteStaticKey (): Buffer | undefined {
    return this.#rs
  }

  /** The remote ephemeral public key `re`, once received. */
  get remoteEphemeralKey (): Buffer | undefined {
    return this.#re
  }

  /** Our ephemeral key pair, once chosen. */
  get ephemeralKey (): X25519KeyPair | undefined {
    return this.#e
  }

  /** The handshake hash `h`; final once `state` is `done`. */
  get handshakeHash (): Buffer {
    return this.#ss.handshakeHash
  }

  /** `WriteMessage(payload)` for the current step; returns the handshake message. */
  writeMessage (payload: Uint8Array): Buffer {
    const ss = this.#ss
    switch (this.#state) {
      case 'send-e': {
        // -> e
        const e = this.#ephemeral()
        ss.mixHash(e.publicKey)
        const body = ss.encryptAndHash(payload)
        this.#state = 'read-e-ee-s-es'
        return Buffer.concat([e.publicKey, body])
      }
      case 'send-e-ee-s-es': {
        // <- e, ee, s, es
        const e = this.#ephemeral()
        const re = this.#reKey as KeyObject
        ss.mixHash(e.publicKey)
        ss.mixKey(x25519(e.privateKey, re))
        const s = ss.encryptAndHash(this.#s.publicKey)
        ss.mixKey(x25519(this.#s.privateKey, re))
        const body = ss.encryptAndHash(payload)
        this.#state = 'read-s-se'
        return Buffer.concat([e.publicKey, s, body])
      }
      case 'send-s-se': {
        // -> s, se
        const s = ss.encryptAndHash(this.#s.publicKey)
        ss.mixKey(x25519(this.#s.privateKey, this.#reKey as KeyObject))
        const body = ss.encryptAndHash(payload)
        this.#state = 'done'
        return Buffer.concat([s, body])
      }
      default:
        throw new Error(`XX handshake: cannot write a message in state ${this.#state}`)
    }
  }

  /**
   * `ReadMessage(message)` for the current step; returns the decrypted payload.
   * Fails with ERR_HANDSHAKE_FAILED (cause: what went wrong) and moves to `failed`.
   */
  readMessage (message: Uint8Array): Buffer {
    const state = this.#state
    if (state !== 'read-e' && state !== 'read-e-ee-s-es' && state !== 'read-s-se') {
      throw new Error(`XX handshake: cannot read a message in state ${state}`)
    }
    try {
      return this.#read(state, message)
    } catch (err) {
      this.#state = 'failed'
      throw new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `Noise handshake message ${messageNumber(state)} is invalid: ${(err as Error).message}`, { cause: err })
    }
  }

  /** `Split()` once `done`: our sending and receiving cipher states. */
  split (): XXTransportKeys {
    if (this.#state !== 'done') throw new Error(`XX handshake: cannot split in state ${this.#state}`)
    const [c1, c2] = this.#ss.split()
    return this.initiator ? { send: c1, receive: c2 } : { send: c2, receive: c1 }
  }

  #read (state: 'read-e' | 'read-e-ee-s-es' | 'read-s-se', message: Uint8Array): Buffer {
    const ss = this.#ss
    switch (state) {
      case 'read-e': {
        // -> e
        requireLength(message, MIN_MESSAGE_1)
        const re = Buffer.from(message.subarray(0, DH_LENGTH))
        ss.mixHash(re)
        const payload = ss.decryptAndHash(message.subarray(DH_LENGTH))
        this.#reKey = importX25519PublicKey(re)
        this.#re = re
        this.#state = 'send-e-ee-s-es'
        return payload
      }
      case 'read-e-ee-s-es': {
        // <- e, ee, s, es
        requireLength(message, MIN_MESSAGE_2)
        const e = this.#e as X25519KeyPair
        const re = Buffer.from(message.subarray(0, DH_LENGTH))
        const reKey = importX25519PublicKey(re)
        ss.mixHash(re)
        ss.mixKey(x25519(e.privateKey, reKey))
        const rs = ss.decryptAndHash(message.subarray(DH_LENGTH, DH_LENGTH + ENCRYPTED_STATIC_LENGTH))
        ss.mixKey(x25519(e.privateKey, rs))
        const payload = ss.decryptAndHash(message.subarray(DH_LENGTH + ENCRYPTED_STATIC_LENGTH))
        this.#reKey = reKey
        this.#re = re
        this.#rs = rs
        this.#state = 'send-s-se'
        return payload
      }
      case 'read-s-se': {
        // -> s, se
        requireLength(message, MIN_MESSAGE_3)
        const e = this.#e as X25519KeyPair
        const rs = ss.decryptAndHash(message.subarray(0, ENCRYPTED_STATIC_LENGTH))
        ss.mixKey(x25519(e.privateKey, rs))
        const payload = ss.decryptAndHash(message.subarray(ENCRYPTED_STATIC_LENGTH))
        this.#rs = rs
        this.#state = 'done'
        return payload
      }
    }
  }

  #ephemeral (): X25519KeyPair {
    this.#e ??= generateX25519KeyPair()
    return this.#e
  }
}

function requireLength (message: Uint8Array, min: number): void {
  if (message.byteLength < min) {
    throw new Lp2pError(codes.ERR_INVALID_MESSAGE, `${message.byteLength} bytes, at least ${min} expected`)
  }
}

function messageNumber (state: XXState): number {
  return state === 'read-e' ? 1 : state === 'read-e-ee-s-es' ? 2 : 3
}
