/** DER (X.690) as the TLS certificate parser reads it (`src/security/tls/der.ts`), walked generically. */
import { DerReader, decodeOid, Tag } from '../../src/security/tls/der.js'
import { defineTarget } from '../lib/target.js'

/** Reads every element, descending into constructed ones (bit 0x20), decoding the primitive types we use. */
function walk (r: DerReader): void {
  while (!r.done) {
    const tag = r.peekTag()
    if (tag === Tag.OID) { r.oid('oid'); continue }
    if (tag === Tag.INTEGER) { r.integer('integer'); continue }
    if (tag === Tag.BOOLEAN) { r.boolean('boolean'); continue }
    if (tag === Tag.BIT_STRING) { r.bitString('bit string'); continue }
    if (tag === Tag.UTC_TIME || tag === Tag.GENERALIZED_TIME) { r.time('time'); continue }
    if (tag !== undefined && (tag & 0x20) !== 0) { walk(r.enter(tag, 'constructed')); continue }
    const el = r.next('element')
    if (el.content.byteLength > 0 && el.content.byteLength < 64 && tag === Tag.OCTET_STRING) {
      try { decodeOid(el.content) } catch { /* not an OID: fine */ }
    }
  }
}

export default defineTarget({
  name: 'der',
  description: 'DER elements (X.690, the subset RFC 5280 certificates use): tags, lengths, nesting up to MAX_DER_DEPTH, OIDs, times',
  run (data) {
    walk(new DerReader(data))
  }
})
