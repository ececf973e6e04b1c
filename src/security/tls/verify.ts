/**
 * Verification of the peer's certificate chain (`specs/tls.md`, "Peer Authentication").
 *
 * node:tls runs with `rejectUnauthorized: false` (a self-signed certificate with an
 * unknown critical extension fails OpenSSL's chain checks by design), so every check
 * the spec asks for is made here:
 * - exactly one certificate;
 * - the validity period contains `now` (time is passed in);
 * - the self-signature verifies with the certificate's own key, under the same
 *   algorithm in the TBSCertificate and the outer Certificate (RFC 5280 4.1.1.2);
 * - no critical extension other than the libp2p one;
 * - the libp2p Public Key Extension is present and its host-key signature over
 *   `libp2p-tls-handshake:` + SubjectPublicKeyInfo verifies.
 * The TLS handshake itself proves the peer holds the certificate key (CertificateVerify);
 * given that key ({@link VerifyCertificateOptions.certificateKey}), we check it is the
 * one in the SPKI the host key signed.
 *
 * Every failure is an `ERR_HANDSHAKE_FAILED` whose message says which check failed and
 * whose `cause` is the lower error when there is one.
 *
 * Pure code apart from node:crypto signature verification (synchronous).
 */
import { verify as cryptoVerify, type KeyObject } from 'node:crypto'
import type { PeerId, PublicKey } from '../../interfaces/keys.js'
import { peerIdFromPublicKey, publicKeyFromProtobuf } from '../../identity/index.js'
import { decodeSignedKey, signedKeyMessage, SIGNED_KEY_EXTENSION_OID } from './certificate.js'
import { keyMatchesSpki, publicKeyFromSpki } from './spki.js'
import { DEFAULT_MAX_CERTIFICATE_BYTES, parseCertificate, sameAlgorithm, type Certificate } from './x509.js'
import { codes, Lp2pError } from '../../errors.js'

export interface VerifyCertificateOptions {
  /** The current time, ms since the epoch. */
  now: number
  /** Largest certificate accepted (default {@link DEFAULT_MAX_CERTIFICATE_BYTES}). */
  maxCertificateBytes?: number
  /**
   * The public key node:tls decoded from this same certificate
   * (`X509Certificate.publicKey`): the key the handshake proved the peer holds. When
   * given it must be the key of the SPKI we parse (which the host key signed), and it
   * verifies the self-signature, sparing a slow OpenSSL 3 decode (see `spki.ts`).
   */
  certificateKey?: KeyObject
}

export interface VerifiedPeer {
  readonly peerId: PeerId
  readonly publicKey: PublicKey
  readonly certificate: Certificate
}

/**
 * Certificate signature algorithms we verify: what TLS 1.3 stacks sign self-signed
 * certificates with (ECDSA with SHA-2, RSA PKCS#1 v1.5 with SHA-2, EdDSA). `keyType`
 * is node's `asymmetricKeyType` the certificate key must have; `hash` is null for
 * EdDSA, which hashes internally. RSASSA-PSS certificates are not accepted (no libp2p
 * implementation signs its certificate with it).
 */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, { keyType: string, hash: string | null, name: string }> = new Map([
  ['1.2.840.10045.4.3.2', { keyType: 'ec', hash: 'sha256', name: 'ecdsa-with-SHA256' }],
  ['1.2.840.10045.4.3.3', { keyType: 'ec', hash: 'sha384', name: 'ecdsa-with-SHA384' }],
  ['1.2.840.10045.4.3.4', { keyType: 'ec', hash: 'sha512', name: 'ecdsa-with-SHA512' }],
  ['1.2.840.113549.1.1.11', { keyType: 'rsa', hash: 'sha256', name: 'sha256WithRSAEncryption' }],
  ['1.2.840.113549.1.1.12', { keyType: 'rsa', hash: 'sha384', name: 'sha384WithRSAEncryption' }],
  ['1.2.840.113549.1.1.13', { keyType: 'rsa', hash: 'sha512', name: 'sha512WithRSAEncryption' }],
  ['1.3.101.112', { keyType: 'ed25519', hash: null, name: 'Ed25519' }],
  ['1.3.101.113', { keyType: 'ed448', hash: null, name: 'Ed448' }]
])

function fail (message: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_HANDSHAKE_FAILED, `peer certificate rejected: ${message}`, { cause })
}

function certificateKey (cert: Certificate, tlsKey: KeyObject | undefined): KeyObject {
  try {
    if (tlsKey === undefined) return publicKeyFromSpki(cert.subjectPublicKeyInfo)
    if (keyMatchesSpki(tlsKey, cert.subjectPublicKeyInfo)) return tlsKey
  } catch (err) {
    throw fail('the subject public key cannot be parsed', err)
  }
  throw fail('the key the TLS handshake authenticated is not the certificate\'s subject public key')
}

function checkSelfSignature (cert: Certificate, key: KeyObject): void {
  if (!sameAlgorithm(cert.signatureAlgorithm, cert.tbsSignatureAlgorithm)) {
    throw fail('the signature algorithm differs between the certificate and its TBSCertificate')
  }
  const alg = SIGNATURE_ALGORITHMS.get(cert.signatureAlgorithm.oid)
  if (alg === undefined) throw fail(`unsupported signature algorithm ${cert.signatureAlgorithm.oid}`)
  if (key.asymmetricKeyType !== alg.keyType) {
    throw fail(`a ${String(key.asymmetricKeyType)} key cannot make an ${alg.name} signature`)
  }
  let ok: boolean
  try {
    ok = cryptoVerify(alg.hash, cert.tbs, key, cert.signature)
  } catch (err) {
    throw fail('the self-signature is malformed', err)
  }
  if (!ok) throw fail('the self-signature does not verify')
}

function signedKeyExtension (cert: Certificate): Uint8Array {
  let value: Uint8Array | undefined
  for (const ext of cert.extensions) {
    if (ext.oid === SIGNED_KEY_EXTENSION_OID) {
      value = ext.value
    } else if (ext.critical) {
      // `specs/tls.md`: "Endpoints MUST abort the connection attempt if the certificate
      // contains critical extensions that the endpoint does not understand."
      throw fail(`unknown critical extension ${ext.oid}`)
    }
  }
  // The spec lets the libp2p extension be critical or not; both are accepted.
  if (value === undefined) throw fail('the libp2p public key extension is missing')
  return value
}

/**
 * Verifies one certificate and returns the peer it authenticates. Throws
 * `ERR_HANDSHAKE_FAILED`.
 */
export function verifyCertificate (der: Uint8Array, options: VerifyCertificateOptions): VerifiedPeer {
  let cert: Certificate
  try {
    cert = parseCertificate(der, options.maxCertificateBytes ?? DEFAULT_MAX_CERTIFICATE_BYTES)
  } catch (err) {
    throw fail((err as Error).message, err)
  }
  // RFC 5280 4.1.2.5: both bounds are inclusive.
  if (options.now < cert.notBefore) {
    throw fail(`not yet valid (valid from ${new Date(cert.notBefore).toISOString()})`)
  }
  if (options.now > cert.notAfter) {
    throw fail(`expired (valid until ${new Date(cert.notAfter).toISOString()})`)
  }
  const extValue = signedKeyExtension(cert)
  checkSelfSignature(cert, certificateKey(cert, options.certificateKey))

  let publicKey: PublicKey
  let signature: Uint8Array
  try {
    const signedKey = decodeSignedKey(extValue)
    signature = signedKey.signature
    publicKey = publicKeyFromProtobuf(signedKey.publicKey)
  } catch (err) {
    throw fail(`invalid libp2p public key extension: ${(err as Error).message}`, err)
  }
  if (!publicKey.verify(signedKeyMessage(cert.subjectPublicKeyInfo), signature)) {
    throw fail('the host key signature in the libp2p public key extension does not verify')
  }
  return { peerId: peerIdFromPublicKey(publicKey), publicKey, certificate: cert }
}

/**
 * Verifies the chain the peer presented: `specs/tls.md` requires exactly one
 * certificate. Throws `ERR_HANDSHAKE_FAILED`.
 */
export function verifyCertificateChain (chain: readonly Uint8Array[], options: VerifyCertificateOptions): VerifiedPeer {
  if (chain.length !== 1) {
    throw fail(chain.length === 0 ? 'the peer sent no certificate' : `the peer sent ${chain.length} certificates, the spec allows exactly one`)
  }
  return verifyCertificate(chain[0] as Uint8Array, options)
}
