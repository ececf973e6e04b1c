/** SECIO 1.0.0 (`specs/secio.md`), opt-in legacy: the security protocol and its pure parts. */
export { secio, SecioChannel, SECIO_PROTOCOL_ID, type SecioOptions } from './secio.js'
export { SecioHandshake, DEFAULT_SECIO_HANDSHAKE_MESSAGE_BYTES, type SecioHandshakeInit, type SecioHandshakeResult, type SecioState } from './handshake.js'
export {
  agree, checkPreferences, preferenceOrder, selectBest, DEFAULT_SECIO_PREFERENCES, SECIO_CIPHERS, SECIO_CURVES,
  SECIO_HASHES, SECIO_NONCE_BYTES, type SecioAgreement, type SecioCipher, type SecioCurve, type SecioHash, type SecioPreferences
} from './algorithms.js'
export { SecioFrameDecoder, SECIO_LENGTH_PREFIX_BYTES, SECIO_MAX_MESSAGE_BYTES } from './frame-decoder.js'
export { EphemeralKey, stretchKeys, type SecioKeys } from './keys.js'
export { PacketReader, PacketWriter, SECIO_MAX_PACKET_PLAINTEXT } from './packets.js'
export {
  decodeExchange, decodePropose, encodeExchange, encodePropose, MAX_ALGORITHM_LIST_BYTES, MAX_ALGORITHM_LIST_ENTRIES,
  type Exchange, type Propose
} from './messages.js'
