/**
 * What the four key types (ed25519.ts, secp256k1.ts, ecdsa.ts, rsa.ts) share: the
 * `ERR_INVALID_KEY` errors, the protobuf `bytes` of a key (peer-ids.md, "Keys"),
 * `equals`, the argument checks of `sign` and `verify` and the rule that `verify`
 * never throws, and the strict DER parsing of the node:crypto key formats (ECDSA and
 * RSA). Each type module keeps its key material, algorithm and size checks.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { codes, Lp2pError } from '../errors.js'
import type { KeyType, PrivateKey, PublicKey } from '../interfaces/keys.js'
import { encodeKeyMessage } from './key-protobuf.js'
import { bytesEqual, derSequenceContent, requireBytes, startsWith } from './util.js'

/** Makes the `ERR_INVALID_KEY` error of one key type. */
export type InvalidKey = (message: string, cause?: unknown) => Lp2pError

/** The {@link InvalidKey} of a key type: messages read `invalid <label> key: <message>`. */
export function invalidKeyOf (label: string): InvalidKey {
  return (message, cause) => new Lp2pError(codes.ERR_INVALID_KEY, `invalid ${label} key: ${message}`, cause !== undefined ? { cause } : undefined)
}

/** A public key: `raw` is the protobuf `Data` field, `bytes` the whole message. */
export abstract class BasePublicKey implements PublicKey {
  abstract readonly type: KeyType
  readonly raw: Uint8Array
  #bytes: Uint8Array | undefined

  constructor (raw: Uint8Array) {
    this.raw = raw
  }

  get bytes (): Uint8Array {
    this.#bytes ??= encodeKeyMessage(this.type, this.raw)
    return this.#bytes
  }

  /** False, never a throw, for any signature that does not verify. */
  verify (data: Uint8Array, sig: Uint8Array): boolean {
    requireBytes(data, 'data')
    requireBytes(sig, 'sig')
    try {
      return this.verifyBytes(data, sig)
    } catch {
      return false
    }
  }

  /** The type's verification of checked arguments; a throw counts as false. */
  protected abstract verifyBytes (data: Uint8Array, sig: Uint8Array): boolean

  equals (other: PublicKey): boolean {
    return other.type === this.type && bytesEqual(other.raw, this.raw)
  }
}

/** A private key: `raw` is the protobuf `Data` field, `bytes` the whole message. */
export abstract class BasePrivateKey<Public extends PublicKey> implements PrivateKey {
  abstract readonly type: KeyType
  readonly publicKey: Public
  readonly raw: Uint8Array
  #bytes: Uint8Array | undefined

  constructor (raw: Uint8Array, publicKey: Public) {
    this.raw = raw
    this.publicKey = publicKey
  }

  get bytes (): Uint8Array {
    this.#bytes ??= encodeKeyMessage(this.type, this.raw)
    return this.#bytes
  }

  sign (data: Uint8Array): Uint8Array {
    requireBytes(data, 'data')
    return this.signBytes(data)
  }

  /** The type's signature over checked `data`. */
  protected abstract signBytes (data: Uint8Array): Uint8Array
}

/**
 * The node:crypto key of one DER SubjectPublicKeyInfo (RFC 5280 section 4.1) spanning
 * all of `raw`; the caller checks the algorithm.
 * @throws ERR_INVALID_KEY (through `invalidKey`) for anything else.
 */
export function keyFromSpki (raw: Uint8Array, invalidKey: InvalidKey): KeyObject {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }
  const content = derSequenceContent(raw)
  if (content === undefined || content[0] !== 0x30) throw invalidKey('public key is not one DER SubjectPublicKeyInfo')
  let key: KeyObject
  try {
    key = createPublicKey({ key: Buffer.from(raw), format: 'der', type: 'spki' })
  } catch (err) {
    throw invalidKey('public key is not DER SubjectPublicKeyInfo', err)
  }
  // Peer ids hash these bytes, so only the one DER encoding of a key is accepted.
  // OpenSSL also takes forms that re-encode differently and that Go's x509 rejects
  // (found by `npm run fuzz`, target `keys`): an RSA exponent negative in DER (top
  // bit set), read unsigned; an EC point BIT STRING with unused bits declared.
  if (!key.export({ format: 'der', type: 'spki' }).equals(raw)) {
    throw invalidKey('public key is not in canonical DER (it does not re-encode to its bytes)')
  }
  return key
}

/** A DER private key structure: node:crypto's `type`, its name, its first content bytes. */
export interface DerPrivateKeyFormat {
  readonly type: 'sec1' | 'pkcs1'
  readonly name: string
  /** The bytes the SEQUENCE content must start with (the version, then the next tag). */
  readonly prefix: readonly number[]
}

/**
 * The node:crypto key of one DER private key in `format` spanning all of `raw`.
 * @throws ERR_INVALID_KEY (through `invalidKey`) for anything else.
 */
export function keyFromDerPrivate (raw: Uint8Array, format: DerPrivateKeyFormat, invalidKey: InvalidKey): KeyObject {
  const content = derSequenceContent(raw)
  if (content === undefined || !startsWith(content, format.prefix)) throw invalidKey(`private key is not one DER ${format.name}`)
  try {
    return createPrivateKey({ key: Buffer.from(raw), format: 'der', type: format.type })
  } catch (err) {
    throw invalidKey(`private key is not DER ${format.name}`, err)
  }
}
