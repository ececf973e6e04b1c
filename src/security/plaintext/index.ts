/**
 * `/plaintext/2.0.0` (`specs/plaintext.md`) as a {@link SecurityProtocol}: the peers
 * exchange and check their public keys and peer ids, then talk in the clear over the
 * raw channel. NO encryption and NO authentication of the data: "for non-production
 * environments" (tests, debugging, packet captures). Never part of a default: a node
 * offers or accepts it only when the application passes `plaintext()` (or
 * `--security plaintext` in the CLI).
 */
import { peerIdFromPrivateKey } from '../../identity/index.js'
import type { ByteChannel } from '../../interfaces/channel.js'
import type { SecureOptions, SecureResult, SecurityProtocol } from '../../interfaces/security.js'
import { runHandshake } from '../handshake-run.js'
import { PlaintextHandshake, toPlaintextError } from './handshake.js'

export const PLAINTEXT_PROTOCOL_ID = '/plaintext/2.0.0'
export { PlaintextHandshake, encodeExchange, decodeExchange, MAX_PLAINTEXT_EXCHANGE_BYTES } from './handshake.js'

/** Creates the plaintext "security" protocol (see the module comment). */
export function plaintext (): SecurityProtocol {
  return {
    protocol: PLAINTEXT_PROTOCOL_ID,
    secureOutbound: secure,
    secureInbound: secure
  }
}

async function secure (channel: ByteChannel, options: SecureOptions): Promise<SecureResult> {
  return await runHandshake(channel, options.signal, {
    name: 'plaintext',
    toError: toPlaintextError,
    create: () => new PlaintextHandshake({
      localKey: options.localKey,
      localPeer: peerIdFromPrivateKey(options.localKey),
      ...(options.remotePeer !== undefined ? { remotePeer: options.remotePeer } : {})
    }),
    finish: (raw, machine) => {
      const result = machine.result()
      raw.unshift(result.remainder)
      return { channel: raw, remotePeer: result.remotePeer, remotePublicKey: result.remotePublicKey }
    }
  })
}
