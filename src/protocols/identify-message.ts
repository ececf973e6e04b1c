/**
 * The Identify message (`specs/identify.md`, "The Identify Message"), pure codec.
 *
 * ```protobuf
 * message Identify {
 *   optional string protocolVersion = 5;
 *   optional string agentVersion = 6;
 *   optional bytes publicKey = 1;
 *   repeated bytes listenAddrs = 2;
 *   optional bytes observedAddr = 4;
 *   repeated string protocols = 3;
 *   optional bytes signedPeerRecord = 8; // RFC 0003 envelope; verified by the peer store
 * }
 * ```
 * On the wire it is varint length-prefixed. Decoding is strict about sizes and lenient
 * about content: an address that does not parse is dropped, not fatal, because one
 * unknown multiaddr protocol in a peer's list must not hide the rest.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { ProtobufReader, ProtobufWriter } from '../wire/protobuf.js'
import { copyBytes } from '../wire/bytes.js'
import { multiaddrCache } from '../util/multiaddr-cache.js'

/**
 * Largest Identify message accepted: 8 KiB. Real messages are 0.3-2 KiB (a public key,
 * a few dozen addresses and protocols, a signed record); js-libp2p uses the same
 * limit, go-libp2p 4 KiB per message (it splits larger ones, see identify.ts).
 */
export const MAX_IDENTIFY_MESSAGE_BYTES = 8 * 1024

/** At most this many addresses and protocols are kept from one message. */
export const MAX_IDENTIFY_ADDRS = 64
export const MAX_IDENTIFY_PROTOCOLS = 128

export interface IdentifyMessage {
  protocolVersion?: string
  agentVersion?: string
  publicKey?: Uint8Array
  listenAddrs: Multiaddr[]
  observedAddr?: Multiaddr
  protocols: string[]
  signedPeerRecord?: Uint8Array
}

export function encodeIdentify (msg: IdentifyMessage): Uint8Array {
  const w = new ProtobufWriter()
  if (msg.protocolVersion !== undefined) w.string(5, msg.protocolVersion)
  if (msg.agentVersion !== undefined) w.string(6, msg.agentVersion)
  if (msg.publicKey !== undefined) w.bytes(1, msg.publicKey)
  w.repeatedBytes(2, msg.listenAddrs.map((a) => a.bytes))
  if (msg.observedAddr !== undefined) w.bytes(4, msg.observedAddr.bytes)
  w.repeatedString(3, msg.protocols)
  if (msg.signedPeerRecord !== undefined) w.bytes(8, msg.signedPeerRecord)
  return w.finish()
}

/**
 * Decodes one message, merging into `into` when given (go-libp2p may send the
 * information in several messages on one stream; repeated fields accumulate, single
 * fields take the last value). Byte fields that outlive the call are copies, never
 * views of `bytes`.
 * @throws Lp2pError ERR_INVALID_MESSAGE / ERR_MESSAGE_TOO_LARGE
 */
export function decodeIdentify (bytes: Uint8Array, into?: IdentifyMessage): IdentifyMessage {
  const out: IdentifyMessage = into ?? { listenAddrs: [], protocols: [] }
  const r = new ProtobufReader(bytes, { maxSize: MAX_IDENTIFY_MESSAGE_BYTES })
  for (let f = r.next(); f !== 0; f = r.next()) {
    switch (f) {
      case 1: out.publicKey = copyBytes(r.bytes()); break
      case 2: {
        const a = parseAddr(r.bytes())
        if (a !== undefined && out.listenAddrs.length < MAX_IDENTIFY_ADDRS) out.listenAddrs.push(a)
        break
      }
      case 3: {
        const p = r.string()
        if (out.protocols.length < MAX_IDENTIFY_PROTOCOLS && !out.protocols.includes(p)) out.protocols.push(p)
        break
      }
      case 4: {
        const a = parseAddr(r.bytes())
        if (a !== undefined) out.observedAddr = a
        break
      }
      case 5: out.protocolVersion = r.string(); break
      case 6: out.agentVersion = r.string(); break
      case 8: out.signedPeerRecord = copyBytes(r.bytes()); break
      default: break
    }
  }
  return out
}

/**
 * An address from its bytes. The cache parses a copy: a multiaddr keeps views of the
 * bytes it was made from, and the result outlives the message (the peer store, the
 * identify result of the connection), so a view would pin the whole received message
 * for the connection's life. Shared objects: every connection to a peer brings the
 * same listen addresses, and a listener is observed at the same address by many.
 */
function parseAddr (bytes: Uint8Array): Multiaddr | undefined {
  try {
    return multiaddrCache.fromBytes(bytes)
  } catch {
    return undefined
  }
}
