/**
 * X.509 v3 certificate structure (RFC 5280 4.1), parsed just far enough for the libp2p
 * TLS handshake (`specs/tls.md`, "Peer Authentication"): the signed bytes, the
 * signature, the names, the validity period, the SubjectPublicKeyInfo and the
 * extensions. Field contents we do not interpret (serial number, name attributes,
 * algorithm parameters, extension values) are kept as raw bytes.
 *
 * Pure code over a complete certificate; see `der.ts` for the strictness rules. The
 * caller bounds the input size ({@link DEFAULT_MAX_CERTIFICATE_BYTES}).
 */
import { DerReader, Tag, contextTag, type DerElement } from './der.js'
import { codes, Lp2pError } from '../../errors.js'

/**
 * Largest certificate accepted, in bytes. A libp2p certificate carries two public keys
 * and two signatures: with an ECDSA P-256 certificate key and an RSA-4096 host key it
 * is about 1.6 KiB, and about 4.5 KiB if the certificate key is RSA-8192 too. 16 KiB
 * leaves room for extra extensions other implementations may add while keeping a
 * hostile certificate cheap to reject.
 */
export const DEFAULT_MAX_CERTIFICATE_BYTES = 16 * 1024

/** An AlgorithmIdentifier (RFC 5280 4.1.1.2): OID plus optional raw parameters. */
export interface AlgorithmIdentifier {
  readonly oid: string
  /** The encoded parameters element, if present. */
  readonly parameters: DerElement | undefined
}

export interface Extension {
  readonly oid: string
  readonly critical: boolean
  /** Contents of the extnValue OCTET STRING (the extension's own DER). */
  readonly value: Uint8Array
}

export interface Certificate {
  /** The complete certificate DER. */
  readonly encoded: Uint8Array
  /** The encoded TBSCertificate: the bytes the signature covers. */
  readonly tbs: Uint8Array
  /** 1 for v1, 3 for v3 (the `version` field plus one). */
  readonly version: number
  readonly serialNumber: Uint8Array
  /** `signature` inside the TBSCertificate. */
  readonly tbsSignatureAlgorithm: AlgorithmIdentifier
  /** `signatureAlgorithm` of the outer Certificate; RFC 5280 requires both to match. */
  readonly signatureAlgorithm: AlgorithmIdentifier
  readonly signature: Uint8Array
  /** Encoded issuer and subject Names (compared byte for byte). */
  readonly issuer: Uint8Array
  readonly subject: Uint8Array
  /** Validity, in milliseconds since the epoch (inclusive bounds, RFC 5280 4.1.2.5). */
  readonly notBefore: number
  readonly notAfter: number
  /** The encoded SubjectPublicKeyInfo. */
  readonly subjectPublicKeyInfo: Uint8Array
  readonly extensions: readonly Extension[]
}

function invalid (message: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_MESSAGE, `invalid certificate: ${message}`, { cause })
}

function algorithmIdentifier (r: DerReader, what: string): AlgorithmIdentifier {
  const s = r.sequence(what)
  const oid = s.oid(`${what}.algorithm`)
  const parameters = s.done ? undefined : s.next(`${what}.parameters`)
  s.end(what)
  return { oid, parameters }
}

/** A Name must be a SEQUENCE (RDNSequence); its contents are compared, not read. */
function name (r: DerReader, what: string): Uint8Array {
  return r.expect(Tag.SEQUENCE, what).encoded
}

function extensions (r: DerReader): Extension[] {
  const list = r.sequence('extensions')
  const out: Extension[] = []
  const seen = new Set<string>()
  // RFC 5280 4.1.2.9: `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension`.
  if (list.done) throw invalid('empty extensions')
  while (!list.done) {
    const e = list.sequence('extension')
    const oid = e.oid('extension.extnID')
    let critical = false
    // DEFAULT FALSE: DER omits it, but explicit FALSE is common enough (and harmless)
    // that Go and OpenSSL accept it; so do we.
    if (e.peekTag() === Tag.BOOLEAN) critical = e.boolean('extension.critical')
    const value = e.octetString('extension.extnValue')
    e.end('extension')
    // RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a
    // particular extension." Two libp2p extensions would be ambiguous.
    if (seen.has(oid)) throw invalid(`duplicate extension ${oid}`)
    seen.add(oid)
    out.push({ oid, critical, value })
  }
  return out
}

/**
 * Parses a DER certificate. Throws `ERR_INVALID_MESSAGE` (with the DER error as cause
 * where there is one) for anything that is not a well-formed X.509 certificate.
 */
export function parseCertificate (der: Uint8Array, maxBytes = DEFAULT_MAX_CERTIFICATE_BYTES): Certificate {
  if (der.byteLength > maxBytes) {
    throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `certificate of ${der.byteLength} bytes exceeds the limit of ${maxBytes}`)
  }
  try {
    const top = new DerReader(der)
    const certEl = top.expect(Tag.SEQUENCE, 'Certificate')
    top.end('Certificate')
    const cert = new DerReader(certEl.content, 1)
    const tbsEl = cert.expect(Tag.SEQUENCE, 'tbsCertificate')
    const signatureAlgorithm = algorithmIdentifier(cert, 'signatureAlgorithm')
    const signature = cert.bitString('signatureValue')
    cert.end('Certificate')

    const tbs = new DerReader(tbsEl.content, 2)
    let version = 1
    if (tbs.peekTag() === contextTag(0)) {
      const v = tbs.enter(contextTag(0), 'version')
      version = v.smallInteger('version') + 1
      v.end('version')
      // DER omits the DEFAULT v1, so an explicit version is 2 or 3 (RFC 5280 4.1.2.1).
      if (version !== 2 && version !== 3) throw invalid(`unsupported version ${version}`)
    }
    const serialNumber = tbs.integer('serialNumber')
    const tbsSignatureAlgorithm = algorithmIdentifier(tbs, 'signature')
    const issuer = name(tbs, 'issuer')
    const validity = tbs.sequence('validity')
    const notBefore = validity.time('notBefore')
    const notAfter = validity.time('notAfter')
    validity.end('validity')
    const subject = name(tbs, 'subject')
    const spki = tbs.expect(Tag.SEQUENCE, 'subjectPublicKeyInfo')
    // Check the SPKI's shape here; node:crypto parses the key itself later.
    const spkiReader = new DerReader(spki.content, 3)
    algorithmIdentifier(spkiReader, 'subjectPublicKeyInfo.algorithm')
    spkiReader.bitString('subjectPublicKeyInfo.subjectPublicKey')
    spkiReader.end('subjectPublicKeyInfo')
    // `specs/tls.md`: "Certificates MUST omit the deprecated subjectUniqueId and
    // issuerUniqueId fields. Endpoints MAY abort the connection attempt if either is
    // present." We do: nobody sends them, and accepting them buys nothing.
    const t = tbs.peekTag()
    if (t === 0x81 || t === 0x82 || t === 0xa1 || t === 0xa2) throw invalid('issuerUniqueID / subjectUniqueID present')
    let exts: Extension[] = []
    if (tbs.peekTag() === contextTag(3)) {
      if (version !== 3) throw invalid('extensions in a certificate older than v3')
      const wrapper = tbs.enter(contextTag(3), 'extensions')
      exts = extensions(wrapper)
      wrapper.end('extensions')
    }
    tbs.end('tbsCertificate')

    return {
      encoded: der,
      tbs: tbsEl.encoded,
      version,
      serialNumber,
      tbsSignatureAlgorithm,
      signatureAlgorithm,
      signature,
      issuer,
      subject,
      notBefore,
      notAfter,
      subjectPublicKeyInfo: spki.encoded,
      extensions: exts
    }
  } catch (err) {
    if (err instanceof Lp2pError && err.message.startsWith('invalid certificate')) throw err
    throw invalid(err instanceof Error ? err.message : String(err), err)
  }
}

/** True when both AlgorithmIdentifiers encode identically (RFC 5280 4.1.1.2). */
export function sameAlgorithm (a: AlgorithmIdentifier, b: AlgorithmIdentifier): boolean {
  if (a.oid !== b.oid) return false
  if (a.parameters === undefined || b.parameters === undefined) return a.parameters === b.parameters
  return Buffer.from(a.parameters.encoded).equals(b.parameters.encoded)
}
