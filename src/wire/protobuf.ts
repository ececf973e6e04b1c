/**
 * A small protobuf subset (pure): the wire format of
 * https://protobuf.dev/programming-guides/encoding/ for the few, tiny messages libp2p
 * exchanges (`PublicKey`/`PrivateKey` of peer-ids.md, the Noise handshake payload of
 * noise.md, Identify, signed envelopes of RFC 0002).
 *
 * Reading: a {@link ProtobufReader} walks the fields of ONE complete message whose
 * length the framing layer already delimited. Values are read lazily; a field whose
 * value the caller does not read is skipped by the next {@link ProtobufReader.next}.
 *
 * ```ts
 * const r = new ProtobufReader(bytes, { maxSize: 4096 })
 * for (let f = r.next(); f !== 0; f = r.next()) {
 *   if (f === 1) type = r.uint()
 *   else if (f === 2) data = r.bytes()      // zero-copy subarray of `bytes`
 *   // any other field is skipped (or rejected by the caller)
 * }
 * ```
 *
 * Writing: a {@link ProtobufWriter} records fields in call order (proto2 semantics:
 * every field called is written, zero values included), then `finish()` sizes the
 * whole message once and fills one buffer.
 *
 * ```ts
 * const bytes = new ProtobufWriter().uint(1, 1).bytes(2, raw).finish()
 * ```
 *
 * Errors: malformed input (truncated value, a length running past the end, a bad wire
 * type, a group, field number 0, a varint over 10 bytes, a value too large for the
 * accessor) throws `Lp2pError` `ERR_INVALID_MESSAGE`; input over the reader's
 * `maxSize` throws `ERR_MESSAGE_TOO_LARGE`. Bad arguments to the writer are
 * `RangeError`/`TypeError`. Nothing else is ever thrown.
 */
export {
  ProtobufReader,
  WireType,
  DEFAULT_MAX_MESSAGE_BYTES,
  MAX_FIELD_NUMBER,
  type ProtobufReaderOptions
} from './protobuf-reader.js'
export { ProtobufWriter, utf8Length } from './protobuf-writer.js'
