/**
 * Signed envelopes (`rfc/0002-signed-envelopes.md`), pure codec: a payload, its type,
 * the public key that signed it and the signature, bound to a "domain" string that is
 * signed but never sent (RFC 0002, "Domain Separation"), so a signature made for one
 * purpose cannot be replayed for another.
 *
 * ```protobuf
 * message Envelope {
 *   PublicKey public_key = 1;   // the peer-ids.md PublicKey message
 *   bytes payload_type = 2;     // a multicodec, optionally followed by more bytes
 *   bytes payload = 3;
 *   bytes signature = 5;
 * }
 * ```
 *
 * The signed bytes (RFC 0002, "Signature Production / Verification") are
 * `uvarint(len(domain)) domain uvarint(len(type)) type uvarint(len(payload)) payload`,
 * signed under the key type's rules of peer-ids.md.
 *
 * Decoding is strict, because these bytes are signed: the key and the signature are
 * required, and a field given twice is rejected (protobuf would merge or take the
 * last, and two implementations must not read one envelope two ways). Unknown fields
 * are skipped, as protobuf readers do. Every failure is an `Lp2pError`:
 * `ERR_MESSAGE_TOO_LARGE`, `ERR_INVALID_MESSAGE`, the key's `ERR_INVALID_KEY` /
 * `ERR_UNSUPPORTED_KEY_TYPE`, or `ERR_INVALID_SIGNATURE` from {@link openEnvelope}.
 */
import type { PrivateKey, PublicKey } from '../interfaces/keys.js'
import { codes, invalidArgType, Lp2pError } from '../errors.js'
import { MAX_PUBLIC_KEY_BYTES, publicKeyFromProtobuf } from '../identity/index.js'
import { copyBytes } from '../wire/bytes.js'
import { ProtobufReader, ProtobufWriter } from '../wire/protobuf.js'
import { uvarintLength, writeUvarint } from '../wire/varint.js'

/**
 * Largest envelope decoded by default: 8 KiB. Envelopes arrive inside an Identify
 * message, which is itself bounded to 8 KiB (`protocols/identify-message.ts`); an
 * RSA-4096 key (~550 bytes), its 512-byte signature and a record of 64 addresses
 * (~2 KiB) fit with room to spare.
 */
export const MAX_ENVELOPE_BYTES = 8 * 1024

/**
 * Largest signature accepted: 1 KiB, the size of an RSA-8192 signature, the largest
 * key peer-ids.md allows (Ed25519 64 bytes, ECDSA/secp256k1 DER ~72 bytes).
 */
export const MAX_SIGNATURE_BYTES = 1024

/**
 * Largest payload type: 64 bytes. RFC 0002 makes it a multicodec "optionally followed
 * by an arbitrary byte sequence"; the types in use are 2 bytes (0x0301) or a short
 * path such as `/libp2p/routing-state-record` (28 bytes).
 */
export const MAX_PAYLOAD_TYPE_BYTES = 64

export interface Envelope {
  publicKey: PublicKey
  payloadType: Uint8Array
  payload: Uint8Array
  signature: Uint8Array
}

export interface DecodeEnvelopeOptions {
  /** Largest envelope accepted (default {@link MAX_ENVELOPE_BYTES}). */
  maxSize?: number
}

const utf8 = new TextEncoder()

/** The bytes an envelope's signature covers (RFC 0002, "Signature Production / Verification"). */
export function envelopeSignatureData (domain: string, payloadType: Uint8Array, payload: Uint8Array): Uint8Array {
  if (typeof domain !== 'string') throw invalidArgType('domain', 'a string', domain)
  const d = utf8.encode(domain)
  const out = new Uint8Array(uvarintLength(d.length) + d.length + uvarintLength(payloadType.length) +
    payloadType.length + uvarintLength(payload.length) + payload.length)
  let p = 0
  for (const part of [d, payloadType, payload]) {
    p += writeUvarint(part.length, out, p)
    out.set(part, p)
    p += part.length
  }
  return out
}

/** The protobuf encoding of an envelope (fields in number order, as go and js write them). */
export function encodeEnvelope (envelope: Envelope): Uint8Array {
  return new ProtobufWriter()
    .message(1, envelope.publicKey.bytes)
    .bytes(2, envelope.payloadType)
    .bytes(3, envelope.payload)
    .bytes(5, envelope.signature)
    .finish()
}

/** Signs `payload` for `domain` with `key` and returns the envelope and its encoding. */
export function sealEnvelope (key: PrivateKey, domain: string, payloadType: Uint8Array, payload: Uint8Array): { envelope: Envelope, bytes: Uint8Array } {
  const envelope: Envelope = {
    publicKey: key.publicKey,
    payloadType: copyBytes(payloadType),
    payload: copyBytes(payload),
    signature: key.sign(envelopeSignatureData(domain, payloadType, payload))
  }
  return { envelope, bytes: encodeEnvelope(envelope) }
}

/**
 * Decodes an envelope without checking its signature (see {@link openEnvelope}). The
 * byte fields are copies: an envelope kept in the peer store must not pin the message
 * it came in.
 */
export function decodeEnvelope (bytes: Uint8Array, options: DecodeEnvelopeOptions = {}): Envelope {
  const r = new ProtobufReader(bytes, { maxSize: options.maxSize ?? MAX_ENVELOPE_BYTES })
  let key: Uint8Array | undefined
  let payloadType: Uint8Array | undefined
  let payload: Uint8Array | undefined
  let signature: Uint8Array | undefined
  const once = (value: Uint8Array | undefined, name: string): void => {
    if (value !== undefined) throw invalid(`${name} given twice`)
  }
  for (let f = r.next(); f !== 0; f = r.next()) {
    switch (f) {
      case 1: once(key, 'public_key'); key = r.bytes(); break
      case 2: once(payloadType, 'payload_type'); payloadType = r.bytes(); break
      case 3: once(payload, 'payload'); payload = r.bytes(); break
      case 5: once(signature, 'signature'); signature = r.bytes(); break
      default: break
    }
  }
  if (key === undefined) throw invalid('no public_key')
  if (signature === undefined || signature.length === 0) throw invalid('no signature')
  if (key.length > MAX_PUBLIC_KEY_BYTES) throw tooLarge('public_key', key.length, MAX_PUBLIC_KEY_BYTES)
  if (signature.length > MAX_SIGNATURE_BYTES) throw tooLarge('signature', signature.length, MAX_SIGNATURE_BYTES)
  if (payloadType !== undefined && payloadType.length > MAX_PAYLOAD_TYPE_BYTES) {
    throw tooLarge('payload_type', payloadType.length, MAX_PAYLOAD_TYPE_BYTES)
  }
  return {
    publicKey: publicKeyFromProtobuf(key),
    payloadType: copyBytes(payloadType ?? new Uint8Array(0)),
    payload: copyBytes(payload ?? new Uint8Array(0)),
    signature: copyBytes(signature)
  }
}

/**
 * Decodes an envelope and verifies its signature for `domain` with the key it holds.
 * @throws Lp2pError `ERR_INVALID_SIGNATURE` when it does not verify, or a decoding error.
 */
export function openEnvelope (bytes: Uint8Array, domain: string, options: DecodeEnvelopeOptions = {}): Envelope {
  const envelope = decodeEnvelope(bytes, options)
  verifyEnvelope(envelope, domain)
  return envelope
}

/** Throws `ERR_INVALID_SIGNATURE` unless the envelope's signature verifies for `domain`. */
export function verifyEnvelope (envelope: Envelope, domain: string): void {
  const data = envelopeSignatureData(domain, envelope.payloadType, envelope.payload)
  if (!envelope.publicKey.verify(data, envelope.signature)) {
    throw new Lp2pError(codes.ERR_INVALID_SIGNATURE, `the envelope's signature does not verify for domain "${domain}"`)
  }
}

function invalid (message: string): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_MESSAGE, `invalid signed envelope: ${message}`)
}

function tooLarge (field: string, size: number, max: number): Lp2pError {
  return new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `signed envelope ${field} of ${size} bytes exceeds ${max}`)
}
