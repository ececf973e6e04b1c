/**
 * The libp2p Noise handshake payload (`specs/noise.md`, "The libp2p Handshake
 * Payload"), pure codec on top of `wire/protobuf.ts`:
 *
 * ```protobuf
 * message NoiseExtensions {
 *   repeated bytes webtransport_certhashes = 1;
 *   repeated string stream_muxers = 2;
 * }
 * message NoiseHandshakePayload {
 *   optional bytes identity_key = 1;
 *   optional bytes identity_sig = 2;
 *   optional NoiseExtensions extensions = 4;
 * }
 * ```
 *
 * Decoding follows protobuf rules so any conforming encoder interoperates: fields in
 * any order, unknown fields skipped (the spec's extension registry reserves code points
 * for future and experimental extensions), a repeated singular field keeps its last
 * value, repeated `extensions` messages merge. Every length and count has a named
 * limit (below), all adjustable through {@link PayloadLimits}.
 */
import { codes, Lp2pError } from '../../errors.js'
import { ProtobufReader, ProtobufWriter } from '../../wire/protobuf.js'
import { MAX_NOISE_MESSAGE_LENGTH } from './constants.js'

export interface NoiseExtensions {
  /** WebTransport certificate hashes (multihashes), in the sender's order. */
  webtransportCerthashes: Uint8Array[]
  /** Stream muxer protocol ids, in the sender's preference order. */
  streamMuxers: string[]
}

export interface NoiseHandshakePayload {
  /** The sender's identity key: a protobuf `PublicKey` (peer-ids.md, "Keys"). */
  identityKey: Uint8Array
  /** Signature over `noise-libp2p-static-key:` || the sender's static Noise key. */
  identitySig: Uint8Array
  /** Absent when the sender sent no `extensions` field. */
  extensions?: NoiseExtensions
}

/**
 * Largest `identity_key`: 2 KiB, the identity layer's bound on an encoded PublicKey.
 * The largest key in use, RSA-8192 (the most go-libp2p and js-libp2p accept), encodes
 * to about 1,066 bytes; Ed25519 is 36, secp256k1 37, ECDSA P-256 about 95.
 */
export const MAX_IDENTITY_KEY_LENGTH = 2048

/** Largest `identity_sig`: 1 KiB, an RSA-8192 signature; Ed25519 is 64, ECDSA DER at most 139 (P-521). */
export const MAX_IDENTITY_SIG_LENGTH = 1024

/**
 * Most `stream_muxers` entries: 32. A node offers one to three (yamux, mplex); the
 * bound keeps a peer from making us compare thousands of strings.
 */
export const MAX_STREAM_MUXERS = 32

/**
 * Longest muxer id: 1023 bytes. A muxer id must also be negotiable by
 * multistream-select, whose messages (id plus newline) are capped at 1024 bytes
 * (`negotiation/message.ts`, MAX_MESSAGE_LENGTH).
 */
export const MAX_STREAM_MUXER_LENGTH = 1023

/**
 * Most `webtransport_certhashes` entries: 16. A WebTransport listener announces the
 * current certificate and the next one (2); 16 leaves room for rotation overlaps.
 */
export const MAX_CERTHASHES = 16

/**
 * Longest certhash: 128 bytes, a multihash with a digest of up to 125 bytes; SHA-256
 * (the hash WebTransport uses) takes 34.
 */
export const MAX_CERTHASH_LENGTH = 128

export interface PayloadLimits {
  maxIdentityKeyLength: number
  maxIdentitySigLength: number
  maxStreamMuxers: number
  maxStreamMuxerLength: number
  maxCerthashes: number
  maxCerthashLength: number
}

export const DEFAULT_PAYLOAD_LIMITS: Readonly<PayloadLimits> = Object.freeze({
  maxIdentityKeyLength: MAX_IDENTITY_KEY_LENGTH,
  maxIdentitySigLength: MAX_IDENTITY_SIG_LENGTH,
  maxStreamMuxers: MAX_STREAM_MUXERS,
  maxStreamMuxerLength: MAX_STREAM_MUXER_LENGTH,
  maxCerthashes: MAX_CERTHASHES,
  maxCerthashLength: MAX_CERTHASH_LENGTH
})

const FIELD_IDENTITY_KEY = 1
const FIELD_IDENTITY_SIG = 2
const FIELD_EXTENSIONS = 4
const FIELD_CERTHASHES = 1
const FIELD_STREAM_MUXERS = 2

/**
 * Encodes a payload. `extensions` is written when given, even with empty lists (an
 * empty message), which is what js-libp2p and go-libp2p send too.
 */
export function encodeHandshakePayload (payload: NoiseHandshakePayload): Uint8Array {
  const w = new ProtobufWriter()
    .bytes(FIELD_IDENTITY_KEY, payload.identityKey)
    .bytes(FIELD_IDENTITY_SIG, payload.identitySig)
  const ext = payload.extensions
  if (ext !== undefined) {
    w.message(FIELD_EXTENSIONS, new ProtobufWriter()
      .repeatedBytes(FIELD_CERTHASHES, ext.webtransportCerthashes)
      .repeatedString(FIELD_STREAM_MUXERS, ext.streamMuxers))
  }
  return w.finish()
}

/**
 * Decodes a payload. Malformed protobuf is ERR_INVALID_MESSAGE; a field over its limit
 * is ERR_MESSAGE_TOO_LARGE. Returned byte fields are copies (the input may be reused).
 */
export function decodeHandshakePayload (bytes: Uint8Array, limits: Readonly<PayloadLimits> = DEFAULT_PAYLOAD_LIMITS): NoiseHandshakePayload {
  const r = new ProtobufReader(bytes, { maxSize: MAX_NOISE_MESSAGE_LENGTH })
  let identityKey: Uint8Array = new Uint8Array(0)
  let identitySig: Uint8Array = new Uint8Array(0)
  let extensions: NoiseExtensions | undefined
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === FIELD_IDENTITY_KEY) {
      identityKey = bounded(r.bytes(), limits.maxIdentityKeyLength, 'identity_key')
    } else if (field === FIELD_IDENTITY_SIG) {
      identitySig = bounded(r.bytes(), limits.maxIdentitySigLength, 'identity_sig')
    } else if (field === FIELD_EXTENSIONS) {
      extensions ??= { webtransportCerthashes: [], streamMuxers: [] }
      decodeExtensions(r.message(), extensions, limits)
    }
  }
  const payload: NoiseHandshakePayload = { identityKey: Buffer.from(identityKey), identitySig: Buffer.from(identitySig) }
  if (extensions !== undefined) payload.extensions = extensions
  return payload
}

function decodeExtensions (r: ProtobufReader, into: NoiseExtensions, limits: Readonly<PayloadLimits>): void {
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === FIELD_CERTHASHES) {
      if (into.webtransportCerthashes.length >= limits.maxCerthashes) {
        throw tooLarge(`more than ${limits.maxCerthashes} webtransport_certhashes`)
      }
      into.webtransportCerthashes.push(Buffer.from(bounded(r.bytes(), limits.maxCerthashLength, 'webtransport_certhashes entry')))
    } else if (field === FIELD_STREAM_MUXERS) {
      if (into.streamMuxers.length >= limits.maxStreamMuxers) {
        throw tooLarge(`more than ${limits.maxStreamMuxers} stream_muxers`)
      }
      // Check the byte length before decoding the string.
      const raw = r.bytes()
      bounded(raw, limits.maxStreamMuxerLength, 'stream_muxers entry')
      into.streamMuxers.push(decodeUtf8(raw))
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function decodeUtf8 (raw: Uint8Array): string {
  try {
    return utf8.decode(raw)
  } catch (err) {
    throw new Lp2pError(codes.ERR_INVALID_MESSAGE, 'a stream_muxers entry is not valid UTF-8', { cause: err })
  }
}

function bounded (value: Uint8Array, max: number, name: string): Uint8Array {
  if (value.byteLength > max) throw tooLarge(`${name} of ${value.byteLength} bytes exceeds the limit of ${max}`)
  return value
}

function tooLarge (message: string): Lp2pError {
  return new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `Noise handshake payload: ${message}`)
}
