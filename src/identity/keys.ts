/**
 * Key generation and the protobuf entry points for all key types (peer-ids.md, "Keys").
 * Each type lives in its own module; this one only dispatches on the `Type` field.
 */
import { codes, invalidArgValue, Lp2pError } from '../errors.js'
import type { KeyType, PrivateKey, PublicKey } from '../interfaces/keys.js'
import { ed25519PrivateKeyFromRaw, ed25519PublicKeyFromRaw, generateEd25519 } from './ed25519.js'
import { decodeKeyMessage, keyTypeFromCode, MAX_PRIVATE_KEY_BYTES, MAX_PUBLIC_KEY_BYTES } from './key-protobuf.js'
import { requireBytes } from './util.js'

function notYet (type: KeyType): never {
  throw new Lp2pError(codes.ERR_UNSUPPORTED_KEY_TYPE, `${type} keys are not supported yet`)
}

/**
 * Generates a key pair of `type` (default Ed25519). `bits` applies to RSA only.
 * @throws RangeError for an unknown type.
 */
export function generateKeyPair (type: KeyType = 'Ed25519', bits?: number): PrivateKey {
  switch (type) {
    case 'Ed25519': return generateEd25519()
    case 'secp256k1': case 'ECDSA': case 'RSA':
      void bits
      return notYet(type)
    default: throw invalidArgValue('type', `is not a key type: ${String(type)}`)
  }
}

/**
 * Decodes a `PublicKey` protobuf message (at most `MAX_PUBLIC_KEY_BYTES`).
 * @throws Lp2pError `ERR_UNSUPPORTED_KEY_TYPE` for an unknown `Type`; `ERR_INVALID_KEY`
 *   for malformed bytes or key data.
 */
export function publicKeyFromProtobuf (bytes: Uint8Array): PublicKey {
  requireBytes(bytes, 'bytes')
  const { typeCode, data } = decodeKeyMessage(bytes, MAX_PUBLIC_KEY_BYTES, 'PublicKey')
  const type = keyTypeFromCode(typeCode)
  switch (type) {
    case 'Ed25519': return ed25519PublicKeyFromRaw(data)
    default: return notYet(type)
  }
}

/**
 * Decodes a `PrivateKey` protobuf message (at most `MAX_PRIVATE_KEY_BYTES`).
 * @throws Lp2pError `ERR_UNSUPPORTED_KEY_TYPE` for an unknown `Type`; `ERR_INVALID_KEY`
 *   for malformed bytes or key data.
 */
export function privateKeyFromProtobuf (bytes: Uint8Array): PrivateKey {
  requireBytes(bytes, 'bytes')
  const { typeCode, data } = decodeKeyMessage(bytes, MAX_PRIVATE_KEY_BYTES, 'PrivateKey')
  const type = keyTypeFromCode(typeCode)
  switch (type) {
    case 'Ed25519': return ed25519PrivateKeyFromRaw(data)
    default: return notYet(type)
  }
}
