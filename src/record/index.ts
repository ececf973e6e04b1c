/**
 * Signed envelopes (RFC 0002) and peer records (RFC 0003): pure codecs, no state.
 * The peer store (`src/peer-store/`) keeps the verified records; identify sends ours.
 */
export {
  decodeEnvelope, encodeEnvelope, envelopeSignatureData, openEnvelope, sealEnvelope, verifyEnvelope,
  MAX_ENVELOPE_BYTES, MAX_PAYLOAD_TYPE_BYTES, MAX_SIGNATURE_BYTES,
  type DecodeEnvelopeOptions, type Envelope
} from './envelope.js'
export {
  createSignedPeerRecord, decodePeerRecord, encodePeerRecord, openSignedPeerRecord,
  LEGACY_PEER_RECORD_DOMAIN, LEGACY_PEER_RECORD_PAYLOAD_TYPE, MAX_PEER_RECORD_ADDRESSES, PEER_RECORD_CODEC, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE,
  type OpenPeerRecordOptions, type PeerRecord, type SignedPeerRecord
} from './peer-record.js'
