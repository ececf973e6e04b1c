/**
 * Key generation and the protobuf entry points for all key types (peer-ids.md, "Keys").
 * Each type lives in its own module; this one only dispatches on the `Type` field.
 */
import { invalidArgValue } from '../errors.js'
import type { KeyType, PrivateKey, PublicKey } from '../interfaces/keys.js'
import { ecdsaPrivateKeyFromRaw, ecdsaPublicKeyFromRaw, generateEcdsa } from './ecdsa.js'
import { ed25519PrivateKeyFromRaw, ed25519PublicKeyFromRaw, generateEd25519 } from './ed25519.js'
import { decodeKeyMessage, keyTypeFromCode, MAX_PRIVATE_KEY_BYTES, MAX_PUBLIC_KEY_BYTES } from './key-protobuf.js'
import { generateRsa, rsaPrivateKeyFromRaw, rsaPublicKeyFromRaw } from './rsa.js'
import { generateSecp256k1, secp256k1PrivateKeyFromRaw, secp256k1PublicKeyFromRaw } from './secp256k1.js'
import { requireBytes } from './util.js'

/**
 * Generates a key pair of `type` (default Ed25519). `bits` applies to RSA only
 * (default 2048, at most 4096); ECDSA keys are P-256.
 * @throws RangeError for an unknown type or RSA size.
 */
export function generateKeyPair (type: KeyType = 'Ed25519', bits?: number): PrivateKey {
  switch (type) {
    case 'Ed25519': return generateEd25519()
    case 'secp256k1': return generateSecp256k1()
    case 'ECDSA': return generateEcdsa()
    case 'RSA': return generateRsa(bits)
    default: throw invalidArgValue('type', `is not a key type (Ed25519, secp256k1, ECDSA, RSA): ${String(type)}`)
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
  switch (keyTypeFromCode(typeCode)) {
    case 'Ed25519': return ed25519PublicKeyFromRaw(data)
    case 'secp256k1': return secp256k1PublicKeyFromRaw(data)
    case 'ECDSA': return ecdsaPublicKeyFromRaw(data)
    case 'RSA': return rsaPublicKeyFromRaw(data)
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
  switch (keyTypeFromCode(typeCode)) {
    case 'Ed25519': return ed25519PrivateKeyFromRaw(data)
    case 'secp256k1': return secp256k1PrivateKeyFromRaw(data)
    case 'ECDSA': return ecdsaPrivateKeyFromRaw(data)
    case 'RSA': return rsaPrivateKeyFromRaw(data)
  }
}
