/**
 * One protobuf per peer (pure): what the persistent backend writes and reads back.
 *
 * ```protobuf
 * message StoredPeer {
 *   bytes id = 1;                        // peer id multihash; must equal the database key
 *   repeated Address addresses = 2;
 *   repeated string protocols = 3;
 *   bytes public_key = 4;                // absent when the id inlines it
 *   string agent_version = 5;
 *   string protocol_version = 6;
 *   repeated Entry metadata = 7;         // { string key = 1; bytes value = 2; }
 *   repeated Tag tags = 8;               // { string name = 1; double value = 2; uint64 expires = 3; }
 *   bytes envelope = 9;                  // signed peer record, as received
 *   uint64 seq = 10;
 *   uint64 last_seen = 11;
 *   uint64 updated = 12;
 * }
 * message Address {
 *   bytes multiaddr = 1;
 *   uint32 class = 2;                    // 0 temporary, 1 default, 2 recently-connected, 3 permanent
 *   uint64 expires = 3;                  // ms since the epoch; absent: never
 *   bool certified = 4;
 *   bool connected = 5;                  // an open connection held it when written
 *   Dial last_dial = 6;                  // { uint64 at = 1; bool ok = 2; string code = 3; double duration_ms = 4; }
 * }
 * ```
 * Times are whole milliseconds (expiries rounded up). Decoding restores what is still
 * valid at `now`: expired addresses and tags are dropped, and an address that was
 * connected comes back as `recently-connected` from `now` (the process that held the
 * connection is gone; when exactly is not known). The bounds in force are applied
 * again, since they may have been lowered since the value was written.
 */
import type { DialOutcome, Tag } from '../interfaces/peer-store.js'
import { codes, Lp2pError } from '../errors.js'
import { peerIdFromPublicKey, publicKeyFromProtobuf } from '../identity/index.js'
import { bytesEqual } from '../identity/util.js'
import { copyBytes } from '../wire/bytes.js'
import { ProtobufReader, ProtobufWriter } from '../wire/protobuf.js'
import { addAddr, CLASS_RANK, type AddrEntry, type StoredClass } from './address-book.js'
import type { PeerStoreLimits } from './options.js'
import { PeerEntry } from './peer-entry.js'

/**
 * Largest stored value read: 1 MiB. A peer at every bound is ~40 KiB (64 addresses,
 * 128 protocols, 32 metadata values of 1 KiB, an 8 KiB envelope); this only stops a
 * corrupt length from being trusted.
 */
export const MAX_STORED_PEER_BYTES = 1024 * 1024

const CLASS_BY_CODE: readonly StoredClass[] = ['temporary', 'default', 'recently-connected', 'permanent']

export function encodePeerEntry (e: PeerEntry): Uint8Array {
  const w = new ProtobufWriter().bytes(1, e.idBytes)
  for (const a of e.addrs) {
    const m = new ProtobufWriter().bytes(1, a.bytes).uint(2, CLASS_RANK[a.class])
    if (Number.isFinite(a.expires)) m.uint(3, time(Math.ceil(a.expires)))
    if (a.certified) m.bool(4, true)
    if (a.connected) m.bool(5, true)
    if (a.lastDial !== undefined) m.message(6, encodeDial(a.lastDial))
    w.message(2, m)
  }
  w.repeatedString(3, e.protocols)
  // An identity-multihash id (code 0x00: Ed25519, secp256k1) inlines the key: not stored twice.
  if (e.publicKey !== undefined && e.idBytes[0] !== 0x00) w.bytes(4, e.publicKey.bytes)
  if (e.agentVersion !== undefined) w.string(5, e.agentVersion)
  if (e.protocolVersion !== undefined) w.string(6, e.protocolVersion)
  for (const [key, value] of e.metadata ?? []) w.message(7, new ProtobufWriter().string(1, key).bytes(2, value))
  for (const [name, tag] of e.tags ?? []) {
    const t = new ProtobufWriter().string(1, name).fixed64(2, doubleBits(tag.value))
    if (tag.expires !== undefined) t.uint(3, time(Math.ceil(tag.expires)))
    w.message(8, t)
  }
  if (e.envelope !== undefined && e.seq !== undefined) w.bytes(9, e.envelope).uint64(10, e.seq)
  if (e.lastSeen !== undefined) w.uint(11, time(e.lastSeen))
  return w.uint(12, time(e.updated)).finish()
}

/**
 * Restores a peer from its stored bytes (see the module comment).
 * @param id the peer id bytes of the database key: the value must be that peer's.
 * @throws Lp2pError ERR_INVALID_MESSAGE (or the key's, peer id's error) for bytes
 *   that are not such a record.
 */
export function decodePeerEntry (bytes: Uint8Array, id: Uint8Array, now: number, limits: PeerStoreLimits): PeerEntry {
  const r = new ProtobufReader(bytes, { maxSize: MAX_STORED_PEER_BYTES })
  let entry: PeerEntry | undefined
  const protocols: string[] = []
  const need = (): PeerEntry => {
    if (entry === undefined) throw invalid('the peer id must come first')
    return entry
  }
  for (let f = r.next(); f !== 0; f = r.next()) {
    switch (f) {
      case 1: {
        const held = r.bytes()
        if (entry !== undefined || !bytesEqual(held, id)) throw invalid('the stored peer id is not the key\'s')
        entry = new PeerEntry(copyBytes(held))
        break
      }
      case 2: restoreAddr(need(), r.message(), now, limits); break
      case 3: protocols.push(r.string()); break
      case 4: need().publicKey = publicKeyFromProtobuf(copyBytes(r.bytes())); break
      case 5: need().agentVersion = r.string(); break
      case 6: need().protocolVersion = r.string(); break
      case 7: {
        const e = need(); const m = r.message()
        let key: string | undefined; let value: Uint8Array | undefined
        for (let g = m.next(); g !== 0; g = m.next()) { if (g === 1) key = m.string(); else if (g === 2) value = copyBytes(m.bytes()) }
        if (key === undefined || value === undefined) throw invalid('a metadata entry without key or value')
        if ((e.metadata?.size ?? 0) < limits.maxMetadataKeys) e.setMetadata(key, value)
        break
      }
      case 8: restoreTag(need(), r.message(), now, limits); break
      case 9: need().envelope = copyBytes(r.bytes()); break
      case 10: need().seq = r.uint64(); break
      case 11: need().lastSeen = r.uint(); break
      case 12: need().updated = r.uint(); break
      default: throw invalid(`unknown field ${f}`)
    }
  }
  const e = need()
  if ((e.envelope === undefined) !== (e.seq === undefined)) throw invalid('a peer record envelope without its seq, or the reverse')
  if (e.publicKey !== undefined && !peerIdFromPublicKey(e.publicKey).equals(e.id)) throw invalid('the stored public key is not the peer\'s')
  e.setProtocols(protocols, limits.maxProtocolsPerPeer)
  return e
}

function restoreAddr (e: PeerEntry, m: ProtobufReader, now: number, limits: PeerStoreLimits): void {
  let bytes: Uint8Array | undefined
  let cls: StoredClass | undefined
  let expires = Infinity
  let certified = false
  let connected = false
  let lastDial: DialOutcome | undefined
  for (let g = m.next(); g !== 0; g = m.next()) {
    switch (g) {
      case 1: bytes = m.bytes(); break
      case 2: cls = CLASS_BY_CODE[m.uint()]; if (cls === undefined) throw invalid('unknown address class'); break
      case 3: expires = m.uint(); break
      case 4: certified = m.bool(); break
      case 5: connected = m.bool(); break
      case 6: lastDial = decodeDial(m.message()); break
      default: throw invalid(`unknown address field ${g}`)
    }
  }
  if (bytes === undefined || cls === undefined) throw invalid('an address without its bytes or class')
  const multiaddr = copyBytes(bytes)
  if (connected) {
    // Was open when written: back as recently connected, from now.
    const fact = { class: 'recently-connected' as const, expires: now + limits.recentlyConnectedTtl, certified }
    if (expires > now) addAddr(e.addrs, multiaddr, { class: cls, expires, certified }, limits.maxAddressesPerPeer)
    addAddr(e.addrs, multiaddr, fact, limits.maxAddressesPerPeer)
  } else if (expires > now) {
    addAddr(e.addrs, multiaddr, { class: cls, expires, certified }, limits.maxAddressesPerPeer)
  } else {
    return
  }
  const held = e.addrs.find((a: AddrEntry) => a.bytes === multiaddr)
  if (held !== undefined && lastDial !== undefined) held.lastDial = lastDial
}

function restoreTag (e: PeerEntry, m: ProtobufReader, now: number, limits: PeerStoreLimits): void {
  let name: string | undefined
  let value: number | undefined
  let expires: number | undefined
  for (let g = m.next(); g !== 0; g = m.next()) {
    if (g === 1) name = m.string()
    else if (g === 2) value = bitsDouble(m.fixed64())
    else if (g === 3) expires = m.uint()
    else throw invalid(`unknown tag field ${g}`)
  }
  if (name === undefined || value === undefined || !Number.isFinite(value)) throw invalid('a tag without a name or a finite value')
  if (expires !== undefined && expires <= now) return
  if ((e.tags?.size ?? 0) >= limits.maxTagsPerPeer) return
  const tag: Tag = expires === undefined ? { value } : { value, expires }
  e.setTag(name, tag)
}

function encodeDial (d: DialOutcome): ProtobufWriter {
  const w = new ProtobufWriter().uint(1, time(d.at)).bool(2, d.ok)
  if (d.code !== undefined) w.string(3, d.code)
  if (d.durationMs !== undefined) w.fixed64(4, doubleBits(d.durationMs))
  return w
}

function decodeDial (m: ProtobufReader): DialOutcome {
  const d: DialOutcome = { at: 0, ok: false }
  for (let g = m.next(); g !== 0; g = m.next()) {
    if (g === 1) d.at = m.uint()
    else if (g === 2) d.ok = m.bool()
    else if (g === 3) d.code = m.string()
    else if (g === 4) d.durationMs = bitsDouble(m.fixed64())
    else throw invalid(`unknown dial field ${g}`)
  }
  return d
}

/** A time as a uint: whole, non-negative milliseconds. */
function time (ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : 0
}

const f64 = new Float64Array(1)
const u64 = new BigUint64Array(f64.buffer)

function doubleBits (x: number): bigint {
  f64[0] = x
  return u64[0] as bigint
}

function bitsDouble (b: bigint): number {
  u64[0] = b
  return f64[0] as number
}

function invalid (message: string): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_MESSAGE, `invalid stored peer: ${message}`)
}
