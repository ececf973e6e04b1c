/** The Noise handshake payload protobuf (`specs/noise.md`, "The libp2p Handshake Payload"). */
import { decodeHandshakePayload } from '../../src/security/noise/payload.js'
import { defineTarget } from '../lib/target.js'

export default defineTarget({
  name: 'noise-payload',
  description: 'NoiseHandshakePayload decoding (noise.md): identity key, signature, extensions within DEFAULT_PAYLOAD_LIMITS',
  run (data) {
    decodeHandshakePayload(data)
  }
})
