/** noise-libp2p (`specs/noise.md`): the security protocol and its pure building blocks. */
export { noise, NOISE_PROTOCOL_ID, type NoiseOptions } from './noise.js'
export { NoiseChannel } from './noise-channel.js'
export {
  NoiseHandshake, selectMuxer, staticKeySignatureData,
  type NoiseHandshakeInit, type NoiseHandshakeResult, type NoiseHandshakeStatus
} from './handshake.js'
export { XXHandshake, type XXHandshakeInit, type XXState, type XXTransportKeys } from './handshake-xx.js'
export { CipherState } from './cipher-state.js'
export { SymmetricState } from './symmetric-state.js'
export { FrameDecoder, type FrameDecoderOptions } from './frame-decoder.js'
export { sealFrames, openFrame, sealedLength, totalLength } from './transport-codec.js'
export { TransportDecoder } from './transport-decoder.js'
export {
  encodeHandshakePayload, decodeHandshakePayload, DEFAULT_PAYLOAD_LIMITS,
  type NoiseExtensions, type NoiseHandshakePayload, type PayloadLimits
} from './payload.js'
export { generateX25519KeyPair, x25519KeyPairFromPrivateKey, type X25519KeyPair } from './x25519.js'
