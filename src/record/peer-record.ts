/**
 * Peer records (`rfc/0003-routing-records.md`), pure codec: a peer's listen addresses
 * with a sequence number, signed by the peer in an envelope (`envelope.ts`), so that
 * whoever relays them cannot forge them ("self-certified" addresses).
 *
 * ```protobuf
 * message PeerRecord {
 *   message AddressInfo { bytes multiaddr = 1; }
 *   bytes peer_id = 1;                   // the peer id's multihash bytes
 *   uint64 seq = 2;                      // higher replaces lower (RFC 0003)
 *   repeated AddressInfo addresses = 3;
 * }
 * ```
 *
 * Domain and payload type: interoperability wins over the RFC text (GUIDE). RFC 0003
 * names the domain `libp2p-routing-state` and the placeholder payload type
 * `/libp2p/routing-state-record`; go-libp2p 0.51 and js-libp2p 3 sign and accept only
 * domain `libp2p-peer-record` with payload type `03 01` (the multicodec
 * `libp2p-peer-record`, 0x0301, written as two big-endian bytes, not as a varint,
 * which would be `81 06`), and js-libp2p fails the whole identify on any other
 * record. rust-libp2p 0.57 (libp2p-core 0.44) calls the RFC pair "legacy" and still
 * signs and accepts only it in identify. So we sign the go/js form and accept both,
 * each payload type verified under its own domain (so domain separation holds: a
 * signature is only ever checked for the one domain its type implies).
 *
 * Opening a signed record checks, in order: the signer is the expected peer (when one
 * is given: a cheap rejection before any signature work), the payload type (which
 * picks the domain), the signature (RFC 0003: "MUST validate the signature before
 * deserializing"), the record, and that the record's peer id is the signer's ("MUST
 * be discarded" otherwise).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PrivateKey } from '../interfaces/keys.js'
import { codes, invalidArgValue, Lp2pError } from '../errors.js'
import { peerIdFromBytes, peerIdFromPublicKey } from '../identity/index.js'
import { bytesEqual } from '../identity/util.js'
import { multiaddrCache } from '../util/multiaddr-cache.js'
import { ProtobufReader, ProtobufWriter } from '../wire/protobuf.js'
import { decodeEnvelope, sealEnvelope, verifyEnvelope, type DecodeEnvelopeOptions, type Envelope } from './envelope.js'

/** The envelope domain of peer records as go-libp2p and js-libp2p sign them (we sign it). */
export const PEER_RECORD_DOMAIN = 'libp2p-peer-record'
/** Multicodec `libp2p-peer-record`. */
export const PEER_RECORD_CODEC = 0x0301
/** {@link PEER_RECORD_CODEC} as go-libp2p and js-libp2p write the payload type: two big-endian bytes. */
export const PEER_RECORD_PAYLOAD_TYPE: Uint8Array = Uint8Array.of(0x03, 0x01)
/** RFC 0003's domain, which rust-libp2p 0.57 signs ("legacy"); accepted, never signed. */
export const LEGACY_PEER_RECORD_DOMAIN = 'libp2p-routing-state'
/** RFC 0003's placeholder payload type, paired with {@link LEGACY_PEER_RECORD_DOMAIN}. */
export const LEGACY_PEER_RECORD_PAYLOAD_TYPE: Uint8Array = new TextEncoder().encode('/libp2p/routing-state-record')

/**
 * Addresses kept from one record: 64, the peer store's per-peer bound (go-libp2p's
 * identify keeps as many). Further addresses are ignored, not fatal: the record is
 * still the peer's, signed.
 */
export const MAX_PEER_RECORD_ADDRESSES = 64

const TWO_64 = 1n << 64n

export interface PeerRecord {
  peerId: PeerId
  /** uint64; only ever compared with the same peer's earlier seq. */
  seq: bigint
  /** Addresses as the peer signed them (normally without `/p2p/<id>`). */
  addresses: Multiaddr[]
}

/** A verified record with the envelope it came in and that envelope's bytes. */
export interface SignedPeerRecord {
  record: PeerRecord
  envelope: Envelope
  /** The envelope exactly as received (or as we encoded it), for storing and relaying. */
  bytes: Uint8Array
}

export interface OpenPeerRecordOptions extends DecodeEnvelopeOptions {
  /** The peer the record must be of (the remote peer of the connection it came on). */
  expectedPeer?: PeerId
  /** Addresses kept (default {@link MAX_PEER_RECORD_ADDRESSES}). */
  maxAddresses?: number
}

export function encodePeerRecord (record: PeerRecord): Uint8Array {
  if (record.seq < 0n || record.seq >= TWO_64) throw invalidArgValue('seq', 'must be a uint64')
  const w = new ProtobufWriter().bytes(1, record.peerId.bytes).uint64(2, record.seq)
  for (const a of record.addresses) w.message(3, new ProtobufWriter().bytes(1, a.bytes))
  return w.finish()
}

/**
 * Decodes a record. An address that does not parse (a multiaddr protocol unknown
 * here) is dropped, as in identify: one unknown transport must not hide the rest.
 * @throws Lp2pError ERR_INVALID_MESSAGE (no peer id, a field twice), ERR_INVALID_PEER_ID.
 */
export function decodePeerRecord (bytes: Uint8Array, maxAddresses = MAX_PEER_RECORD_ADDRESSES): PeerRecord {
  const r = new ProtobufReader(bytes, { maxSize: bytes.length })
  let id: Uint8Array | undefined
  let seq: bigint | undefined
  const addresses: Multiaddr[] = []
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) {
      if (id !== undefined) throw invalid('peer_id given twice')
      id = r.bytes()
    } else if (f === 2) {
      if (seq !== undefined) throw invalid('seq given twice')
      seq = r.uint64()
    } else if (f === 3) {
      const info = r.message()
      let addr: Uint8Array | undefined
      for (let g = info.next(); g !== 0; g = info.next()) if (g === 1) addr = info.bytes()
      if (addr === undefined || addresses.length >= maxAddresses) continue
      const parsed = parseAddr(addr)
      if (parsed !== undefined) addresses.push(parsed)
    }
  }
  if (id === undefined) throw invalid('no peer_id')
  return { peerId: peerIdFromBytes(id), seq: seq ?? 0n, addresses }
}

/** Signs a record of our `addresses` with `key`: the envelope bytes to send in identify. */
export function createSignedPeerRecord (key: PrivateKey, addresses: readonly Multiaddr[], seq: bigint): SignedPeerRecord {
  const record: PeerRecord = { peerId: peerIdFromPublicKey(key.publicKey), seq, addresses: [...addresses] }
  const { envelope, bytes } = sealEnvelope(key, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE, encodePeerRecord(record))
  return { record, envelope, bytes }
}

/**
 * Decodes and verifies a signed peer record (see the module comment for the checks).
 * @throws Lp2pError ERR_UNEXPECTED_PEER (not `expectedPeer`'s), ERR_INVALID_SIGNATURE,
 *   ERR_INVALID_PEER_RECORD (another payload type, or a record of another peer than
 *   its signer), or a decoding error (ERR_INVALID_MESSAGE, ERR_MESSAGE_TOO_LARGE,
 *   ERR_INVALID_KEY, ERR_UNSUPPORTED_KEY_TYPE, ERR_INVALID_PEER_ID).
 */
export function openSignedPeerRecord (bytes: Uint8Array, options: OpenPeerRecordOptions = {}): SignedPeerRecord {
  const envelope = decodeEnvelope(bytes, options)
  const signer = peerIdFromPublicKey(envelope.publicKey)
  const expected = options.expectedPeer
  if (expected !== undefined && !signer.equals(expected)) {
    throw new Lp2pError(codes.ERR_UNEXPECTED_PEER, `peer record signed by ${signer.toString()}, expected ${expected.toString()}`)
  }
  const domain = bytesEqual(envelope.payloadType, PEER_RECORD_PAYLOAD_TYPE)
    ? PEER_RECORD_DOMAIN
    : bytesEqual(envelope.payloadType, LEGACY_PEER_RECORD_PAYLOAD_TYPE) ? LEGACY_PEER_RECORD_DOMAIN : undefined
  if (domain === undefined) {
    throw new Lp2pError(codes.ERR_INVALID_PEER_RECORD, `envelope payload type ${hex(envelope.payloadType)} is not a peer record (${hex(PEER_RECORD_PAYLOAD_TYPE)})`)
  }
  verifyEnvelope(envelope, domain)
  let record: PeerRecord
  try {
    record = decodePeerRecord(envelope.payload, options.maxAddresses)
  } catch (err) {
    throw new Lp2pError(codes.ERR_INVALID_PEER_RECORD, `the signed payload is not a peer record: ${(err as Error).message}`, { cause: err })
  }
  if (!record.peerId.equals(signer)) {
    throw new Lp2pError(codes.ERR_INVALID_PEER_RECORD, `peer record of ${record.peerId.toString()} signed by another peer, ${signer.toString()}`)
  }
  // The signer's id carries the key (inlined or not); the record's bare id may not.
  record.peerId = signer
  return { record, envelope, bytes: Uint8Array.from(bytes) }
}

/** Addresses are parsed from copies and shared (see `util/multiaddr-cache.ts`). */
function parseAddr (bytes: Uint8Array): Multiaddr | undefined {
  try {
    return multiaddrCache.fromBytes(bytes)
  } catch {
    return undefined
  }
}

function invalid (message: string): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_MESSAGE, `invalid peer record: ${message}`)
}

function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
