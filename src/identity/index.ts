/**
 * Identity: keys (Ed25519, secp256k1, ECDSA, RSA), peer ids and key files
 * (`specs/peer-ids.md`, RFC 0001). The shapes are in `src/interfaces/keys.ts`.
 */
export type { KeyType, PeerId, PrivateKey, PublicKey } from '../interfaces/keys.js'
export { generateKeyPair, privateKeyFromProtobuf, publicKeyFromProtobuf } from './keys.js'
export { parseKeyType, MAX_PRIVATE_KEY_BYTES, MAX_PUBLIC_KEY_BYTES } from './key-protobuf.js'
export {
  isPeerId,
  peerIdFromBytes,
  peerIdFromPrivateKey,
  peerIdFromPublicKey,
  peerIdFromString,
  MAX_INLINE_KEY_BYTES,
  MAX_PEER_ID_TEXT_LENGTH
} from './peer-id.js'
export { loadKeyFile, saveKeyFile, KEY_FILE_VERSION, MAX_KEY_FILE_BYTES, type SaveKeyFileOptions } from './key-file.js'
