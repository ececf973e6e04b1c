/**
 * The libp2p TLS certificate (`specs/tls.md`, "Peer Authentication"): the X.509
 * parse, the SignedKey extension, and the whole verification a listener runs on a
 * dialer's certificate (validity, self-signature, extension signature, peer id).
 */
import { parseCertificate } from '../../src/security/tls/x509.js'
import { decodeSignedKey } from '../../src/security/tls/certificate.js'
import { verifyCertificate } from '../../src/security/tls/verify.js'
import { defineTarget } from '../lib/target.js'


export default defineTarget({
  name: 'x509',
  description: 'libp2p TLS certificates (tls.md): X.509 parse within 16 KiB, SignedKey extension, full peer verification',
  run (data) {
    decodeSignedKeyQuietly(data)
    parseCertificate(data)
    verifyCertificate(data, { now: Date.now() })
  }
})

/** The extension value alone, as the fuzzer may find it without a certificate around it. */
function decodeSignedKeyQuietly (data: Uint8Array): void {
  try {
    decodeSignedKey(data)
  } catch (err) {
    if (!(err instanceof Error && 'code' in err)) throw err
  }
}
