/**
 * The two SECIO handshake messages (`specs/secio.md`, "Data Structures"), pure codec
 * on top of `wire/protobuf.ts`:
 *
 * ```protobuf
 * message Propose  { optional bytes rand = 1; optional bytes pubkey = 2;
 *                    optional string exchanges = 3; optional string ciphers = 4;
 *                    optional string hashes = 5; }
 * message Exchange { optional bytes epubkey = 1; optional bytes signature = 2; }
 * ```
 *
 * The fields are `optional` in the schema but a proposal without any one of them
 * cannot be acted on, so the decoder requires them all (ERR_INVALID_MESSAGE), and
 * bounds each (ERR_MESSAGE_TOO_LARGE). Unknown fields are skipped (protobuf rules).
 */
import { codes, Lp2pError } from '../../errors.js'
import { MAX_PUBLIC_KEY_BYTES } from '../../identity/index.js'
import { ProtobufReader, ProtobufWriter } from '../../wire/protobuf.js'
import { SECIO_CURVES, SECIO_NONCE_BYTES } from './algorithms.js'

/**
 * Longest algorithm list accepted: 256 bytes. The longest list any implementation
 * sends is go-libp2p-secio's `AES-256,AES-128,Blowfish` (24 bytes); a peer listing
 * every name it could ever know stays far below.
 */
export const MAX_ALGORITHM_LIST_BYTES = 256

/** Most entries of one algorithm list: 16 (the spec names three of each kind). */
export const MAX_ALGORITHM_LIST_ENTRIES = 16

/**
 * Longest `signature`: 1 KiB, an RSA-8192 signature (the largest RSA key libp2p
 * implementations accept); Ed25519 is 64 bytes, ECDSA DER at most 139 (P-521).
 */
export const MAX_EXCHANGE_SIGNATURE_BYTES = 1024

/** Longest `epubkey`: an uncompressed P-521 point, the largest curve (133 bytes). */
export const MAX_EPHEMERAL_KEY_BYTES = SECIO_CURVES['P-521'].pointBytes

export interface Propose {
  /** 16 random bytes. */
  rand: Uint8Array
  /** The sender's identity key, a protobuf `PublicKey` (peer-ids.md, "Keys"). */
  pubkey: Uint8Array
  exchanges: string[]
  ciphers: string[]
  hashes: string[]
}

export interface Exchange {
  /** The ephemeral public key, an uncompressed point (ANSI X9.62 4.3.6). */
  epubkey: Uint8Array
  /** The identity key's signature over the corpus (see `handshake.ts`). */
  signature: Uint8Array
}

const RAND = 1
const PUBKEY = 2
const EXCHANGES = 3
const CIPHERS = 4
const HASHES = 5
const EPUBKEY = 1
const SIGNATURE = 2

export function encodePropose (p: Propose): Uint8Array {
  return new ProtobufWriter()
    .bytes(RAND, p.rand)
    .bytes(PUBKEY, p.pubkey)
    .string(EXCHANGES, p.exchanges.join(','))
    .string(CIPHERS, p.ciphers.join(','))
    .string(HASHES, p.hashes.join(','))
    .finish()
}

export function encodeExchange (e: Exchange): Uint8Array {
  return new ProtobufWriter().bytes(EPUBKEY, e.epubkey).bytes(SIGNATURE, e.signature).finish()
}

/**
 * Decodes a Propose. Byte fields are views of `bytes` (the handshake keeps the whole
 * message for the signature corpus anyway).
 */
export function decodePropose (bytes: Uint8Array, maxSize: number): Propose {
  const r = new ProtobufReader(bytes, { maxSize })
  let rand: Uint8Array | undefined
  let pubkey: Uint8Array | undefined
  let exchanges: string[] | undefined
  let ciphers: string[] | undefined
  let hashes: string[] | undefined
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === RAND) rand = r.bytes()
    else if (f === PUBKEY) pubkey = bounded(r.bytes(), MAX_PUBLIC_KEY_BYTES, 'pubkey')
    else if (f === EXCHANGES) exchanges = algorithmList(r, 'exchanges')
    else if (f === CIPHERS) ciphers = algorithmList(r, 'ciphers')
    else if (f === HASHES) hashes = algorithmList(r, 'hashes')
  }
  if (rand === undefined || pubkey === undefined || exchanges === undefined || ciphers === undefined || hashes === undefined) {
    throw invalid('a Propose must carry rand, pubkey, exchanges, ciphers and hashes')
  }
  if (rand.byteLength !== SECIO_NONCE_BYTES) throw invalid(`a Propose nonce must be ${SECIO_NONCE_BYTES} bytes, got ${rand.byteLength}`)
  return { rand, pubkey, exchanges, ciphers, hashes }
}

export function decodeExchange (bytes: Uint8Array, maxSize: number): Exchange {
  const r = new ProtobufReader(bytes, { maxSize })
  let epubkey: Uint8Array | undefined
  let signature: Uint8Array | undefined
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === EPUBKEY) epubkey = bounded(r.bytes(), MAX_EPHEMERAL_KEY_BYTES, 'epubkey')
    else if (f === SIGNATURE) signature = bounded(r.bytes(), MAX_EXCHANGE_SIGNATURE_BYTES, 'signature')
  }
  if (epubkey === undefined || signature === undefined) throw invalid('an Exchange must carry epubkey and signature')
  return { epubkey, signature }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** A comma-separated list ("Proposal Generation"), bounded in bytes and entries. */
function algorithmList (r: ProtobufReader, name: string): string[] {
  const raw = bounded(r.bytes(), MAX_ALGORITHM_LIST_BYTES, name)
  let text: string
  try {
    text = utf8.decode(raw)
  } catch (err) {
    throw new Lp2pError(codes.ERR_INVALID_MESSAGE, `SECIO: ${name} is not valid UTF-8`, { cause: err })
  }
  const list = text.split(',')
  if (list.length > MAX_ALGORITHM_LIST_ENTRIES) {
    throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `SECIO ${name} lists ${list.length} entries, more than ${MAX_ALGORITHM_LIST_ENTRIES}`)
  }
  return list
}

function bounded (value: Uint8Array, max: number, name: string): Uint8Array {
  if (value.byteLength > max) {
    throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `SECIO ${name} of ${value.byteLength} bytes exceeds the limit of ${max}`)
  }
  return value
}

function invalid (message: string): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_MESSAGE, `SECIO: ${message}`)
}
