/**
 * The libp2p TLS certificate (`specs/tls.md`, "Peer Authentication"): a self-signed
 * X.509 v3 certificate for a fresh certificate key, carrying the libp2p Public Key
 * Extension (OID 1.3.6.1.4.1.53594.1.1) whose SignedKey holds the host's protobuf
 * PublicKey and the host key's signature over `libp2p-tls-handshake:` followed by the
 * certificate's SubjectPublicKeyInfo DER.
 *
 * Node cannot create certificates, so the TBSCertificate is assembled here with the DER
 * encoder and signed with node:crypto (the certificate key is ECDSA P-256 with
 * SHA-256, what go-libp2p and rust-libp2p use: every TLS 1.3 stack verifies it, and it
 * is small and fast, as the spec asks; RSA "SHOULD NOT be used").
 *
 * Pure apart from key generation and randomness (node:crypto), which the caller can
 * replace through {@link CreateCertificateOptions.certificateKey}.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import type { PrivateKey } from '../../interfaces/keys.js'
import { DerReader } from './der.js'
import {
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeInteger,
  encodeOctetString,
  encodeOid,
  encodePrintableString,
  encodeSequence,
  encodeSet,
  encodeTime
} from './der-encode.js'
import { codes, Lp2pError } from '../../errors.js'

/** `specs/tls.md`, "libp2p Public Key Extension": allocated by IANA to Protocol Labs. */
export const SIGNED_KEY_EXTENSION_OID = '1.3.6.1.4.1.53594.1.1'

/** `specs/tls.md`: the host key signs this prefix followed by the SPKI DER. */
export const SIGNATURE_PREFIX = 'libp2p-tls-handshake:'
const SIGNATURE_PREFIX_BYTES = new TextEncoder().encode(SIGNATURE_PREFIX)

/**
 * The certificate is back-dated by one hour so that a peer whose clock is a little
 * behind ours does not see it as "not yet valid" (the spec requires the check);
 * go-libp2p back-dates by the same hour.
 */
export const CERTIFICATE_BACKDATE_MS = 60 * 60 * 1000

/**
 * The certificate lives ~100 years (as in go-libp2p). Expiry protects nothing here: the
 * certificate key is ephemeral and the binding to the host key is the signed
 * extension, so a long lifetime only avoids spurious failures in long-running nodes.
 */
export const CERTIFICATE_VALIDITY_MS = 100 * 365 * 24 * 60 * 60 * 1000

/** ecdsa-with-SHA256 (RFC 5758 3.2); its AlgorithmIdentifier has no parameters. */
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
/** X.520 serialNumber attribute: the subject is a random serial, as go-libp2p does. */
const ATTR_SERIAL_NUMBER = '2.5.4.5'
/** Random serial size: 8 bytes with the top bit cleared, positive (RFC 5280 4.1.2.2 allows up to 20). */
const SERIAL_BYTES = 8

export interface CreateCertificateOptions {
  /** The current time in ms since the epoch (default `Date.now()`). */
  now?: number
  /** An ECDSA P-256 private key to certify instead of a freshly generated one. */
  certificateKey?: KeyObject
  /** Validity length in ms (default {@link CERTIFICATE_VALIDITY_MS}). */
  validityMs?: number
  /** Back-dating in ms (default {@link CERTIFICATE_BACKDATE_MS}). */
  backdateMs?: number
}

export interface LocalCertificate {
  /** The certificate DER. */
  readonly der: Uint8Array
  /** The certificate in PEM, as node:tls takes it. */
  readonly certPem: string
  /** The certificate private key, PKCS#8 PEM, as node:tls takes it. */
  readonly keyPem: string
  readonly notBefore: number
  readonly notAfter: number
}

/** The bytes the host key signs: the prefix, then the certificate's SPKI DER. */
export function signedKeyMessage (spki: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIGNATURE_PREFIX_BYTES.byteLength + spki.byteLength)
  out.set(SIGNATURE_PREFIX_BYTES, 0)
  out.set(spki, SIGNATURE_PREFIX_BYTES.byteLength)
  return out
}

/** `SignedKey ::= SEQUENCE { publicKey OCTET STRING, signature OCTET STRING }`. */
export interface SignedKey {
  /** The protobuf `PublicKey` message of the host key. */
  readonly publicKey: Uint8Array
  readonly signature: Uint8Array
}

export function encodeSignedKey (key: SignedKey): Uint8Array {
  return encodeSequence(encodeOctetString(key.publicKey), encodeOctetString(key.signature))
}

/**
 * Decodes the extension value. Throws `ERR_INVALID_MESSAGE`. A third field (go-libp2p's
 * optional private-network cookie) is rejected: such a peer signs a different prefix
 * that we could not verify anyway, and the error says why.
 */
export function decodeSignedKey (value: Uint8Array): SignedKey {
  const top = new DerReader(value)
  const s = top.sequence('SignedKey')
  top.end('SignedKey')
  const publicKey = s.octetString('SignedKey.publicKey')
  const signature = s.octetString('SignedKey.signature')
  if (!s.done) {
    throw new Lp2pError(codes.ERR_INVALID_MESSAGE, 'SignedKey has fields after the signature (a private-network cookie?), which are not supported')
  }
  return { publicKey, signature }
}

function randomSerial (): Uint8Array {
  const serial = randomBytes(SERIAL_BYTES)
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01 // positive, and never a shorter encoding
  return serial
}

function pem (label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/**
 * Creates the certificate that authenticates `hostKey`: a fresh ECDSA P-256 key (unless
 * one is given), the SignedKey extension marked critical, self-signed.
 */
export function createCertificate (hostKey: PrivateKey, options: CreateCertificateOptions = {}): LocalCertificate {
  const now = options.now ?? Date.now()
  const certKey = options.certificateKey ?? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
  if (certKey.asymmetricKeyType !== 'ec' || certKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new RangeError('the certificate key must be an ECDSA P-256 private key')
  }
  const spki = new Uint8Array(createPublicKey(certKey).export({ type: 'spki', format: 'der' }))
  const signedKey = encodeSignedKey({
    publicKey: hostKey.publicKey.bytes,
    signature: hostKey.sign(signedKeyMessage(spki))
  })
  const notBefore = now - (options.backdateMs ?? CERTIFICATE_BACKDATE_MS)
  const notAfter = now + (options.validityMs ?? CERTIFICATE_VALIDITY_MS)
  const serial = randomSerial()
  const name = encodeSequence(encodeSet(encodeSequence(
    encodeOid(ATTR_SERIAL_NUMBER),
    encodePrintableString(BigInt('0x' + Buffer.from(serial).toString('hex')).toString(10))
  )))
  const algorithm = encodeSequence(encodeOid(ECDSA_WITH_SHA256))
  const tbs = encodeSequence(
    encodeExplicit(0, encodeInteger(2n)), // v3: extensions follow
    encodeInteger(serial),
    algorithm,
    name, // issuer = subject: self-signed
    encodeSequence(encodeTime(notBefore), encodeTime(notAfter)),
    name,
    spki,
    encodeExplicit(3, encodeSequence(encodeSequence(
      encodeOid(SIGNED_KEY_EXTENSION_OID),
      // Critical (the spec says it MAY be): a verifier that does not understand it
      // cannot authenticate us and must stop (RFC 5280 4.2). The go, rust and js
      // verifiers all recognise the OID before their unknown-critical check.
      encodeBoolean(true),
      encodeOctetString(signedKey)
    )))
  )
  const signature = sign('sha256', tbs, certKey)
  const der = encodeSequence(tbs, algorithm, encodeBitString(signature))
  return {
    der,
    certPem: pem('CERTIFICATE', der),
    keyPem: certKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    notBefore: Math.floor(notBefore / 1000) * 1000,
    notAfter: Math.floor(notAfter / 1000) * 1000
  }
}
