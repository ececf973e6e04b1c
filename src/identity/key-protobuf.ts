/**
 * The `PublicKey` / `PrivateKey` protobuf messages of peer-ids.md ("Keys"), pure.
 *
 * ```protobuf
 * enum KeyType { RSA = 0; Ed25519 = 1; Secp256k1 = 2; ECDSA = 3; }
 * message PublicKey  { required KeyType Type = 1; required bytes Data = 2; }
 * message PrivateKey { required KeyType Type = 1; required bytes Data = 2; }
 * ```
 *
 * Encoding is deterministic as the spec requires: minimal varints, tag order (Type then
 * Data), both fields always present, nothing else.
 *
 * Decoding is strict: both fields must be present exactly once and no other field may
 * appear (spec rule 4, "No additional fields may be defined"). Field order and varint
 * minimality are not checked, because callers re-encode from the parsed key and every
 * identity derived here (peer ids, signatures over keys) uses that canonical encoding,
 * which is what go-libp2p does too (`MarshalPublicKey` after `UnmarshalPublicKey`).
 */
import { codes, invalidArgValue, Lp2pError } from '../errors.js'
import type { KeyType } from '../interfaces/keys.js'
import { ProtobufReader, ProtobufWriter } from '../wire/protobuf.js'

/** `KeyType` enum numbers on the wire (peer-ids.md, "Keys"). */
export const KEY_TYPE_CODES: Readonly<Record<KeyType, number>> = {
  RSA: 0,
  Ed25519: 1,
  secp256k1: 2,
  ECDSA: 3
}

const KEY_TYPES_BY_CODE: readonly KeyType[] = ['RSA', 'Ed25519', 'secp256k1', 'ECDSA']

/**
 * Largest encoded `PublicKey` accepted: 2 KiB. The largest legitimate one is an
 * RSA-8192 SubjectPublicKeyInfo (1 062 bytes of DER, see `MAX_RSA_BITS` in rsa.ts) plus 5
 * bytes of protobuf framing; every other type is under 100 bytes. The slack allows an
 * odd (but valid) exponent encoding; anything larger is refused before parsing.
 */
export const MAX_PUBLIC_KEY_BYTES = 2048

/**
 * Largest encoded `PrivateKey` accepted: 8 KiB. An RSA-8192 PKCS#1 key is about
 * 4.7 KiB of DER (n, d: 1 KiB each; p, q, dp, dq, qinv: 512 bytes each; plus headers);
 * the other types are under 200 bytes. Private keys come from files, not the network,
 * but the file may be hostile too.
 */
export const MAX_PRIVATE_KEY_BYTES = 8192

/** The two fields of a decoded key message. */
export interface KeyMessage {
  /** The `Type` enum number (not yet checked against the known types). */
  typeCode: number
  /** The `Data` bytes: a zero-copy view of the input. */
  data: Uint8Array
}

/** Builds the deterministic encoding of a `PublicKey` or `PrivateKey` message. */
export function encodeKeyMessage (type: KeyType, data: Uint8Array): Uint8Array {
  return new ProtobufWriter().uint(1, KEY_TYPE_CODES[type]).bytes(2, data).finish()
}

/**
 * Decodes a `PublicKey` or `PrivateKey` message.
 * @throws Lp2pError `ERR_INVALID_KEY` (cause: the protobuf error) for malformed bytes,
 *   a missing, repeated or unknown field, or input over `maxSize`;
 *   `ERR_UNSUPPORTED_KEY_TYPE` for a Type outside [0, 2^31).
 */
export function decodeKeyMessage (bytes: Uint8Array, maxSize: number, what: string): KeyMessage {
  let typeCode: number | undefined
  let data: Uint8Array | undefined
  try {
    const r = new ProtobufReader(bytes, { maxSize })
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1 && typeCode === undefined) {
        // An enum is an int32; negative values arrive as 10-byte varints. Any value
        // outside [0, 2^31) is no KeyType; do not truncate it to 32 bits (2^32 is not RSA).
        const v = r.uint64()
        if (v > 0x7fffffffn) {
          throw new Lp2pError(codes.ERR_UNSUPPORTED_KEY_TYPE, `unsupported key type ${BigInt.asIntN(64, v)}`)
        }
        typeCode = Number(v)
      } else if (f === 2 && data === undefined) {
        data = r.bytes()
      } else {
        throw new Lp2pError(codes.ERR_INVALID_KEY, `${what} message has ${f === 1 || f === 2 ? 'a repeated' : 'an unknown'} field ${f}`)
      }
    }
  } catch (err) {
    if (err instanceof Lp2pError && (err.code === codes.ERR_INVALID_KEY || err.code === codes.ERR_UNSUPPORTED_KEY_TYPE)) throw err
    throw new Lp2pError(codes.ERR_INVALID_KEY, `malformed ${what} message: ${(err as Error).message}`, { cause: err })
  }
  if (typeCode === undefined) throw new Lp2pError(codes.ERR_INVALID_KEY, `${what} message lacks the required Type field`)
  if (data === undefined) throw new Lp2pError(codes.ERR_INVALID_KEY, `${what} message lacks the required Data field`)
  return { typeCode, data }
}

/**
 * The key type of a wire `Type` number.
 * @throws Lp2pError `ERR_UNSUPPORTED_KEY_TYPE` for a number outside the enum.
 */
export function keyTypeFromCode (code: number): KeyType {
  const type = KEY_TYPES_BY_CODE[code]
  if (type === undefined) throw new Lp2pError(codes.ERR_UNSUPPORTED_KEY_TYPE, `unsupported key type ${code}`)
  return type
}

/**
 * Parses a key type name, case-insensitively: `ed25519`, `secp256k1`, `ecdsa`, `rsa`.
 * @throws RangeError for any other name.
 */
export function parseKeyType (name: string): KeyType {
  switch (typeof name === 'string' ? name.toLowerCase() : name) {
    case 'ed25519': return 'Ed25519'
    case 'secp256k1': return 'secp256k1'
    case 'ecdsa': return 'ECDSA'
    case 'rsa': return 'RSA'
    default: throw invalidArgValue('name', `is not a key type (ed25519, secp256k1, ecdsa, rsa): ${String(name)}`)
  }
}
