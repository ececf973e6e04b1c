/**
 * The Noise XX responder (`specs/noise.md`, "Handshake"): what a listener does with a
 * dialer's handshake bytes.
 *
 * The first input byte picks a mode. Raw: the rest goes to the responder as it would
 * arrive from the socket, in arbitrary chunks (message 1, then anything). Crafted: a
 * real initiator completes messages 1 and 2 and then sends message 3 carrying the
 * rest of the input as its (encrypted, authentic) handshake payload, so the payload
 * decoding, identity key parsing and signature check of the responder see arbitrary
 * bytes past the encryption.
 */
import { NoiseHandshake } from '../../src/security/noise/handshake.js'
import { XXHandshake } from '../../src/security/noise/handshake-xx.js'
import { x25519KeyPairFromPrivateKey } from '../../src/security/noise/x25519.js'
import { privateKeyFromProtobuf } from '../../src/identity/keys.js'
import { chunks, defineTarget } from '../lib/target.js'

// Fixed keys: every run is deterministic, and no key generation per input.
const IDENTITY = privateKeyFromProtobuf(Buffer.from('0801124018e9cdc55eb031295fcb71d4432bb8ae4db5bbd1bad17db977dcc57d36307507' +
  '01abc7c7de242218def0c95c7ff0b7b08a40d8e1b1f0847111d92fe1320c9fef', 'hex'))
const RESPONDER_STATIC = x25519KeyPairFromPrivateKey(Buffer.alloc(32, 1))
const RESPONDER_EPHEMERAL = x25519KeyPairFromPrivateKey(Buffer.alloc(32, 2))
const INITIATOR_STATIC = x25519KeyPairFromPrivateKey(Buffer.alloc(32, 3))
const INITIATOR_EPHEMERAL = x25519KeyPairFromPrivateKey(Buffer.alloc(32, 4))

function frame (message: Uint8Array): Buffer {
  const out = Buffer.alloc(2 + message.byteLength)
  out.writeUInt16BE(message.byteLength, 0)
  out.set(message, 2)
  return out
}

function unframe (framed: Uint8Array): Uint8Array {
  return framed.subarray(2)
}

export default defineTarget({
  name: 'noise-responder',
  description: 'Noise XX responder (noise.md, "Handshake"): arbitrary handshake bytes, or an authentic message 3 with an arbitrary payload',
  run (data) {
    const responder = new NoiseHandshake({
      initiator: false,
      localKey: IDENTITY,
      staticKey: RESPONDER_STATIC,
      ephemeralKey: RESPONDER_EPHEMERAL,
      muxers: ['/yamux/1.0.0']
    })
    if (((data[0] ?? 0) & 1) === 0) {
      for (const c of chunks(data)) {
        responder.handleData(c)
        responder.takeOutput()
      }
      if (responder.status === 'done') responder.result()
      return
    }
    const initiator = new XXHandshake({ initiator: true, staticKey: INITIATOR_STATIC, ephemeralKey: INITIATOR_EPHEMERAL })
    responder.handleData(frame(initiator.writeMessage(new Uint8Array(0))))
    const [message2] = responder.takeOutput()
    if (message2 === undefined) throw new Error('the responder did not answer message 1')
    initiator.readMessage(unframe(message2))
    responder.handleData(frame(initiator.writeMessage(data.subarray(1))))
    if (responder.status === 'done') responder.result()
  }
})
