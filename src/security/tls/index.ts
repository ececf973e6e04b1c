/**
 * libp2p TLS 1.3 (`specs/tls.md`): the `/tls/1.0.0` security protocol and its
 * certificate codec.
 */
export { tls, TLS_PROTOCOL, LIBP2P_ALPN, type TlsOptions } from './tls.js'
export {
  createCertificate,
  encodeSignedKey,
  decodeSignedKey,
  signedKeyMessage,
  SIGNED_KEY_EXTENSION_OID,
  SIGNATURE_PREFIX,
  CERTIFICATE_BACKDATE_MS,
  CERTIFICATE_VALIDITY_MS,
  type CreateCertificateOptions,
  type LocalCertificate,
  type SignedKey
} from './certificate.js'
export { verifyCertificate, verifyCertificateChain, type VerifyCertificateOptions, type VerifiedPeer } from './verify.js'
export { parseCertificate, DEFAULT_MAX_CERTIFICATE_BYTES, type Certificate, type Extension, type AlgorithmIdentifier } from './x509.js'
export { keyMatchesSpki, publicKeyFromSpki, spkiToJwk } from './spki.js'
