/**
 * Peer ids (peer-ids.md, "Peer Ids" and "String representation"; RFC 0001).
 *
 * A peer id is the multihash of the deterministic `PublicKey` encoding: the identity
 * multihash (code 0x00) when that encoding is at most 42 bytes (Ed25519: 36,
 * secp256k1: 37), else sha2-256 (code 0x12, 32-byte digest; RSA and ECDSA).
 *
 * Text forms:
 * - legacy: the multihash in base58btc, no multibase prefix (`12D3KooW...`, `Qm...`,
 *   `16Uiu2...`); this is what `toString()` prints, as the spec says to display it;
 * - CIDv1 with multicodec `libp2p-key` (0x72), base32 by default (RFC 0001); parsing
 *   accepts any multibase prefix the multiformats table defines.
 *
 * Parsing is strict (ERR_INVALID_PEER_ID): only identity and sha2-256 multihashes; a
 * sha2-256 digest must be 32 bytes; an identity multihash must hold at most 42 bytes
 * that decode as a valid public key in its canonical encoding (otherwise one key would
 * have several ids); a CID must be version 1 with codec `libp2p-key`.
 */
import { createHash } from 'node:crypto'
import { bases } from 'multiformats/basics'
import { base32 } from 'multiformats/bases/base32'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { codes, invalidArgType, Lp2pError } from '../errors.js'
import type { KeyType, PeerId, PrivateKey, PublicKey } from '../interfaces/keys.js'
import { decodeUvarint, encodeUvarint } from '../wire/varint.js'
import { publicKeyFromProtobuf } from './keys.js'
import { bytesEqual, requireBytes } from './util.js'

/** Multihash code of the identity "hash" (multicodec-table.csv: `identity`, 0x00). */
export const IDENTITY_MULTIHASH = 0x00
/** Multihash code of sha2-256 (multicodec-table.csv: `sha2-256`, 0x12). */
export const SHA2_256_MULTIHASH = 0x12
/** Multicodec of a CID that names a peer (multicodec-table.csv: `libp2p-key`, 0x72). */
export const LIBP2P_KEY_CODEC = 0x72
/** peer-ids.md, "Peer Ids": encoded keys up to 42 bytes are inlined, longer ones hashed. */
export const MAX_INLINE_KEY_BYTES = 42
/** sha2-256 digests are 32 bytes (FIPS 180-4). */
const SHA2_256_BYTES = 32

/**
 * Longest peer id text accepted: 512 characters. The longest valid id is a CIDv1 of an
 * identity multihash: 2 bytes of CID header + 2 of multihash header + 42 of key = 46
 * bytes, which is 369 characters in base2 (the least dense multibase); base58btc needs
 * at most 63. Longer input is refused before any decoding work.
 */
export const MAX_PEER_ID_TEXT_LENGTH = 512

const BRAND = Symbol.for('lp2p/peer-id')

/** Multibase prefix -> decoder, for every multibase except `identity` (raw bytes are not text). */
const MULTIBASE_DECODERS = new Map<string, { name: string, decode: (text: string) => Uint8Array }>()
for (const b of Object.values(bases)) {
  if (b.name !== 'identity') MULTIBASE_DECODERS.set(b.prefix, { name: b.name, decode: (text) => b.decoder.decode(text) })
}

function invalid (message: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_PEER_ID, `invalid peer id: ${message}`, cause !== undefined ? { cause } : undefined)
}

class PeerIdImpl implements PeerId {
  readonly bytes: Uint8Array
  readonly type: KeyType | undefined
  readonly publicKey: PublicKey | undefined
  #text: string | undefined
  #cid: string | undefined

  constructor (bytes: Uint8Array, publicKey: PublicKey | undefined) {
    this.bytes = bytes
    this.publicKey = publicKey
    this.type = publicKey?.type
  }

  get [BRAND] (): true { return true }

  toString (): string {
    this.#text ??= base58btc.baseEncode(this.bytes)
    return this.#text
  }

  toCID (): string {
    if (this.#cid === undefined) {
      // CIDv1 binary form: <version 1><codec 0x72><multihash> (RFC 0001; cid spec).
      const codec = encodeUvarint(LIBP2P_KEY_CODEC)
      const bin = new Uint8Array(1 + codec.length + this.bytes.length)
      bin[0] = 1
      bin.set(codec, 1)
      bin.set(this.bytes, 1 + codec.length)
      this.#cid = base32.encode(bin)
    }
    return this.#cid
  }

  toJSON (): string {
    return this.toString()
  }

  equals (other: PeerId | string | Uint8Array): boolean {
    if (other instanceof Uint8Array) return bytesEqual(this.bytes, other)
    if (typeof other === 'string') {
      try {
        return bytesEqual(this.bytes, peerIdFromString(other).bytes)
      } catch {
        return false
      }
    }
    if (isPeerId(other)) return bytesEqual(this.bytes, other.bytes)
    return false
  }

  [Symbol.for('nodejs.util.inspect.custom')] (): string {
    return `PeerId(${this.toString()})`
  }
}

/** True for a peer id made by this module (any copy of it). */
export function isPeerId (value: unknown): value is PeerId {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
}

/** The peer id of a public key: identity multihash up to 42 encoded bytes, else sha2-256. */
export function peerIdFromPublicKey (key: PublicKey): PeerId {
  const encoded = key.bytes
  let mh: Uint8Array
  if (encoded.length <= MAX_INLINE_KEY_BYTES) {
    mh = new Uint8Array(2 + encoded.length)
    mh[0] = IDENTITY_MULTIHASH
    mh[1] = encoded.length // < 128: one varint byte
    mh.set(encoded, 2)
  } else {
    mh = new Uint8Array(2 + SHA2_256_BYTES)
    mh[0] = SHA2_256_MULTIHASH
    mh[1] = SHA2_256_BYTES
    mh.set(createHash('sha256').update(encoded).digest(), 2)
  }
  return new PeerIdImpl(mh, key)
}

/** The peer id of a private key's public key. */
export function peerIdFromPrivateKey (key: PrivateKey): PeerId {
  return peerIdFromPublicKey(key.publicKey)
}

/**
 * A peer id from its multihash bytes (the binary form used on the wire, e.g. in
 * `/p2p/` multiaddr components). The bytes are copied.
 * @throws Lp2pError `ERR_INVALID_PEER_ID`.
 */
export function peerIdFromBytes (multihash: Uint8Array): PeerId {
  requireBytes(multihash, 'multihash')
  let code
  let len
  try {
    code = decodeUvarint(multihash, 0)
    len = code !== undefined ? decodeUvarint(multihash, code.length) : undefined
  } catch (err) {
    throw invalid('malformed multihash varint', err)
  }
  if (code === undefined || len === undefined) throw invalid('truncated multihash')
  const start = code.length + len.length
  if (multihash.length - start !== len.value) {
    throw invalid(`multihash digest length ${len.value} does not match the ${multihash.length - start} bytes present`)
  }
  const bytes = Uint8Array.from(multihash)
  const digest = bytes.subarray(start)
  if (code.value === SHA2_256_MULTIHASH) {
    if (len.value !== SHA2_256_BYTES) throw invalid(`a sha2-256 digest must be ${SHA2_256_BYTES} bytes, got ${len.value}`)
    return new PeerIdImpl(bytes, undefined)
  }
  if (code.value === IDENTITY_MULTIHASH) {
    if (len.value > MAX_INLINE_KEY_BYTES) {
      throw invalid(`an identity multihash holds at most ${MAX_INLINE_KEY_BYTES} bytes of key, got ${len.value}`)
    }
    let key: PublicKey
    try {
      key = publicKeyFromProtobuf(digest)
    } catch (err) {
      throw invalid(`the identity multihash does not hold a valid public key: ${(err as Error).message}`, err)
    }
    if (!bytesEqual(key.bytes, digest)) throw invalid('the identity multihash holds a non-canonical public key encoding')
    return new PeerIdImpl(bytes, key)
  }
  throw invalid(`unsupported multihash code 0x${code.value.toString(16)} (only identity and sha2-256)`)
}

/**
 * A peer id from text: a bare base58btc multihash (starts with `1` or `Qm`) or a
 * multibase CIDv1 with codec `libp2p-key`.
 * @throws Lp2pError `ERR_INVALID_PEER_ID`; TypeError when `text` is not a string.
 */
export function peerIdFromString (text: string): PeerId {
  if (typeof text !== 'string') throw invalidArgType('text', 'a string', text)
  if (text.length === 0) throw invalid('empty string')
  if (text.length > MAX_PEER_ID_TEXT_LENGTH) throw invalid(`text longer than ${MAX_PEER_ID_TEXT_LENGTH} characters`)
  if (text.startsWith('1') || text.startsWith('Qm')) {
    let mh: Uint8Array
    try {
      mh = base58btc.baseDecode(text)
    } catch (err) {
      throw invalid(`"${text}" is not valid base58btc`, err)
    }
    return peerIdFromBytes(mh)
  }
  const prefix = String.fromCodePoint(text.codePointAt(0) as number)
  const base = MULTIBASE_DECODERS.get(prefix)
  if (base === undefined) throw invalid(`"${text}" is neither a base58btc multihash (1..., Qm...) nor a multibase CID (unknown prefix "${prefix}")`)
  let bin: Uint8Array
  try {
    bin = base.decode(text)
  } catch (err) {
    throw invalid(`"${text}" is not valid ${base.name}`, err)
  }
  let cid: CID
  try {
    cid = CID.decode(bin)
  } catch (err) {
    throw invalid(`"${text}" does not decode as a CID`, err)
  }
  if (cid.version !== 1) throw invalid(`CID version ${cid.version}, expected 1`)
  if (cid.code !== LIBP2P_KEY_CODEC) throw invalid(`CID codec 0x${cid.code.toString(16)} is not libp2p-key (0x72)`)
  return peerIdFromBytes(cid.multihash.bytes)
}
