/** Runs any security protocol's handshake over a fresh in-memory channel pair. */
import { generateKeyPair } from '../../src/identity/index.js'
import type { PeerId, PrivateKey } from '../../src/interfaces/keys.js'
import type { SecureResult, SecurityProtocol } from '../../src/interfaces/security.js'
import { MemoryChannel, type MemoryChannelOptions } from '../../src/transport/memory-channel.js'

export interface SecurePair {
  initiator: SecureResult
  responder: SecureResult
  rawInitiator: MemoryChannel
  rawResponder: MemoryChannel
  initiatorKey: PrivateKey
  responderKey: PrivateKey
}

export async function securePair (initiatorProtocol: SecurityProtocol, responderProtocol: SecurityProtocol, options: {
  chunking?: MemoryChannelOptions['chunking']
  initiatorKey?: PrivateKey
  responderKey?: PrivateKey
  remotePeer?: PeerId
} = {}): Promise<SecurePair> {
  const [rawInitiator, rawResponder] = MemoryChannel.pair(options.chunking !== undefined ? { chunking: options.chunking } : {})
  const initiatorKey = options.initiatorKey ?? generateKeyPair('Ed25519')
  const responderKey = options.responderKey ?? generateKeyPair('Ed25519')
  const [initiator, responder] = await Promise.all([
    initiatorProtocol.secureOutbound(rawInitiator, { localKey: initiatorKey, ...(options.remotePeer !== undefined ? { remotePeer: options.remotePeer } : {}) }),
    responderProtocol.secureInbound(rawResponder, { localKey: responderKey })
  ])
  return { initiator, responder, rawInitiator, rawResponder, initiatorKey, responderKey }
}
