/** Private networks with a pre-shared key (`specs/pnet.md`). */
import { codes, Lp2pError } from '../errors.js'
import type { Transport } from '../interfaces/transport.js'

export { PnetChannel, PnetCodec, type PnetOptions } from './pnet-channel.js'
export { XSalsa20Stream, XSALSA20_NONCE_BYTES } from './xsalsa20-stream.js'
export { checkPsk, decodePskFile, encodePskFile, loadPskFile, MAX_PSK_FILE_BYTES, PSK_BYTES, PSK_V1_CODEC } from './psk.js'

/**
 * Refuses a private network over a transport that brings its own security (QUIC):
 * its connections never pass through the upgrader, where the network's encryption
 * runs, so they would bypass the network. go-libp2p refuses the same combination.
 */
export function checkPnetTransports (transports: readonly Transport[]): void {
  for (const t of transports) {
    if (t.secure === true) {
      throw new Lp2pError(codes.ERR_PNET_UNSUPPORTED_TRANSPORT,
        `a private network (psk) cannot be used with the ${t.name} transport: it brings its own security, so its connections would bypass the pre-shared key`)
    }
  }
}
