/**
 * Test helpers for TLS: a certificate builder that can get any field wrong on purpose,
 * a ClientHello extension reader, and connected TCP channel pairs.
 */
import net from 'node:net'
import { once } from 'node:events'
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '../../../src/interfaces/keys.js'
import {
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeInteger,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeSet,
  encodeTime,
  encodeUtf8String,
  tlv
} from '../../../src/security/tls/der-encode.js'
import { encodeSignedKey, signedKeyMessage, SIGNED_KEY_EXTENSION_OID } from '../../../src/security/tls/certificate.js'
import { SocketChannel } from '../../../src/transport/socket-channel.js'

export interface ExtraExtension {
  oid: string
  critical: boolean
  value: Uint8Array
}

export interface BuildOptions {
  /** The host key whose protobuf goes into the extension. */
  hostKey: PrivateKey
  /** Signs the extension instead of `hostKey`. */
  extensionSigner?: PrivateKey
  /** Signs these bytes instead of prefix + SPKI. */
  extensionMessage?: (spki: Uint8Array) => Uint8Array
  /** Raw extension value instead of the SignedKey. */
  extensionValue?: Uint8Array
  /** 'absent' leaves the libp2p extension out. Default 'critical'. */
  extension?: 'critical' | 'non-critical' | 'absent'
  extraExtensions?: ExtraExtension[]
  /** Omit the whole [3] extensions field. */
  noExtensions?: boolean
  /** The certificate key (default: a fresh P-256 key). */
  certKey?: KeyObject
  notBefore?: number
  notAfter?: number
  /** Signature algorithm OID and node hash (default ecdsa-with-SHA256). */
  algorithm?: TestAlgorithm
  /** A different AlgorithmIdentifier OID in the outer Certificate. */
  outerAlgorithmOid?: string
  /** Flip a bit of the self-signature. */
  corruptSignature?: boolean
  /** Add an issuerUniqueID [1] field. */
  issuerUniqueId?: boolean
}

export interface TestAlgorithm { oid: string, hash: string | null, params?: Uint8Array }

export const ECDSA_SHA256: TestAlgorithm = { oid: '1.2.840.10045.4.3.2', hash: 'sha256' }
export const ED25519_ALG: TestAlgorithm = { oid: '1.3.101.112', hash: null }
export const RSA_SHA256: TestAlgorithm = { oid: '1.2.840.113549.1.1.11', hash: 'sha256', params: Uint8Array.of(0x05, 0x00) }

export function p256Key (): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
}

function algorithmId (oid: string, params?: Uint8Array): Uint8Array {
  return params === undefined ? encodeSequence(encodeOid(oid)) : encodeSequence(encodeOid(oid), params)
}

export interface BuiltCertificate {
  der: Uint8Array
  certPem: string
  keyPem: string
}

export function toPem (label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** Builds a libp2p-style certificate with any field overridden. */
export function buildCertificate (o: BuildOptions): BuiltCertificate {
  const certKey = o.certKey ?? p256Key()
  const alg = o.algorithm ?? ECDSA_SHA256
  const spki = new Uint8Array(createPublicKey(certKey).export({ type: 'spki', format: 'der' }))
  const signer = o.extensionSigner ?? o.hostKey
  const message = o.extensionMessage !== undefined ? o.extensionMessage(spki) : signedKeyMessage(spki)
  const value = o.extensionValue ?? encodeSignedKey({ publicKey: o.hostKey.publicKey.bytes, signature: signer.sign(message) })
  const exts: Uint8Array[] = []
  const mode = o.extension ?? 'critical'
  if (mode !== 'absent') {
    exts.push(mode === 'critical'
      ? encodeSequence(encodeOid(SIGNED_KEY_EXTENSION_OID), encodeBoolean(true), encodeOctetString(value))
      : encodeSequence(encodeOid(SIGNED_KEY_EXTENSION_OID), encodeOctetString(value)))
  }
  for (const e of o.extraExtensions ?? []) {
    exts.push(e.critical
      ? encodeSequence(encodeOid(e.oid), encodeBoolean(true), encodeOctetString(e.value))
      : encodeSequence(encodeOid(e.oid), encodeOctetString(e.value)))
  }
  const now = Date.now()
  const name = encodeSequence(encodeSet(encodeSequence(encodeOid('2.5.4.10'), encodeUtf8String('lp2p test'))))
  const parts = [
    encodeExplicit(0, encodeInteger(2n)),
    encodeInteger(12345n),
    algorithmId(alg.oid, alg.params),
    name,
    encodeSequence(encodeTime(o.notBefore ?? now - 3600_000), encodeTime(o.notAfter ?? now + 3600_000)),
    name,
    spki
  ]
  if (o.issuerUniqueId === true) parts.push(tlv(0x81, Uint8Array.of(0x00, 0x01)))
  if (o.noExtensions !== true && exts.length > 0) parts.push(encodeExplicit(3, encodeSequence(...exts)))
  const tbs = encodeSequence(...parts)
  const signature = new Uint8Array(sign(alg.hash, tbs, certKey))
  if (o.corruptSignature === true) signature[signature.length - 1] = (signature[signature.length - 1] as number) ^ 0x01
  const der = encodeSequence(tbs, algorithmId(o.outerAlgorithmOid ?? alg.oid, alg.params), encodeBitString(signature))
  return { der, certPem: toPem('CERTIFICATE', der), keyPem: certKey.export({ type: 'pkcs8', format: 'pem' }) as string }
}

/**
 * Reads the extensions of the first ClientHello in `bytes` (RFC 8446 4.1.2):
 * a map from extension type to its data. Throws if the bytes are not a ClientHello.
 */
export function clientHelloExtensions (bytes: Uint8Array): Map<number, Uint8Array> {
  const b = Buffer.from(bytes)
  if (b[0] !== 22) throw new Error('not a handshake record')
  const recordLen = b.readUInt16BE(3)
  const body = b.subarray(5, 5 + recordLen)
  if (body[0] !== 1) throw new Error('not a ClientHello')
  let off = 4 + 2 + 32 // handshake header, legacy_version, random
  off += 1 + (body[off] as number) // legacy_session_id
  off += 2 + body.readUInt16BE(off) // cipher_suites
  off += 1 + (body[off] as number) // legacy_compression_methods
  const extEnd = off + 2 + body.readUInt16BE(off)
  off += 2
  const out = new Map<number, Uint8Array>()
  while (off < extEnd) {
    const type = body.readUInt16BE(off)
    const len = body.readUInt16BE(off + 2)
    out.set(type, body.subarray(off + 4, off + 4 + len))
    off += 4 + len
  }
  return out
}

/** The protocol names of an ALPN extension body (RFC 7301 3.1). */
export function alpnList (ext: Uint8Array): string[] {
  const b = Buffer.from(ext)
  const end = 2 + b.readUInt16BE(0)
  const out: string[] = []
  for (let off = 2; off < end;) {
    const n = b[off] as number
    out.push(b.subarray(off + 1, off + 1 + n).toString())
    off += 1 + n
  }
  return out
}

export interface TcpPair {
  client: SocketChannel
  server: SocketChannel
  clientSocket: net.Socket
  serverSocket: net.Socket
}

/** Two SocketChannels over a loopback TCP connection. */
export async function tcpPair (): Promise<TcpPair> {
  const listener = net.createServer({ allowHalfOpen: true })
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  const port = (listener.address() as net.AddressInfo).port
  const accepted = once(listener, 'connection')
  const clientSocket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  await once(clientSocket, 'connect')
  const [serverSocket] = await accepted as [net.Socket]
  listener.close()
  const client = new SocketChannel(clientSocket, multiaddr(`/ip4/127.0.0.1/tcp/${port}`), multiaddr(`/ip4/127.0.0.1/tcp/${clientSocket.localPort ?? 0}`))
  const server = new SocketChannel(serverSocket, multiaddr(`/ip4/127.0.0.1/tcp/${clientSocket.localPort ?? 0}`), multiaddr(`/ip4/127.0.0.1/tcp/${port}`))
  return { client, server, clientSocket, serverSocket }
}
