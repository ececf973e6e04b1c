/**
 * Identify `/ipfs/id/1.0.0` and push `/ipfs/id/push/1.0.0` (`specs/identify.md`).
 *
 * - Query: we open a stream, the remote sends its Identify message and closes. We run
 *   it once per connection in the background (never delaying the first stream) and
 *   keep the result per connection.
 * - Answer: we send ours (observedAddr = the address we see the remote at) and close.
 * - Push: when our protocols or addresses change we send our message to every
 *   connected peer that supports push; a received push updates the peer store
 *   (spec: "missing fields should be ignored").
 * - The public key in the message must belong to the connection's peer; otherwise the
 *   message is rejected (a peer cannot claim another identity's key).
 * - Signed peer records (field 8, RFC 0003): ours is sent in every message, signed
 *   over our listen addresses, re-signed only when they change. A received one is
 *   verified against the connection's peer by the peer store; when valid, its
 *   certified addresses are the peer's addresses; otherwise (absent, empty, or bad:
 *   ignored) the listen addresses are stored with class `default`, which never drops
 *   the address of the connection (stored `connected` by the node).
 * - A failed query is not cached forever: a later `identify(conn)` runs it again, at
 *   most once per `retryInterval`.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection, Stream } from '../interfaces/connection.js'
import type { PeerId, PrivateKey, PublicKey } from '../interfaces/keys.js'
import type { ConsumedPeerRecord, PeerStore } from '../interfaces/peer-store.js'
import { codes, Lp2pError, TimeoutError } from '../errors.js'
import { peerIdFromPublicKey, publicKeyFromProtobuf } from '../identity/index.js'
import { bytesEqual } from '../identity/util.js'
import { deadline, untilAborted } from '../util/deadline.js'
import { createSignedPeerRecord } from '../record/peer-record.js'
import { concatBytes } from '../wire/bytes.js'
import { encodeLengthPrefixed } from '../wire/length-prefixed.js'
import { decodeIdentify, encodeIdentify, MAX_IDENTIFY_MESSAGE_BYTES, type IdentifyMessage } from './identify-message.js'
import { readAllLengthPrefixed } from './stream-io.js'
import { logger } from '../util/log.js'

const log = logger('identify')

export const IDENTIFY_PROTOCOL = '/ipfs/id/1.0.0'
export const IDENTIFY_PUSH_PROTOCOL = '/ipfs/id/push/1.0.0'
/** Default protocolVersion; the spec's field is free-form ("ipfs/0.1.0" is what go, rust and js send). */
export const DEFAULT_PROTOCOL_VERSION = 'ipfs/0.1.0'
/**
 * Messages accepted on one identify stream: go-libp2p splits a large message in two
 * (the signed peer record separately); 4 leaves margin and bounds the total to 32 KiB.
 */
const MAX_MESSAGES_PER_STREAM = 4
/** Default time for one identify exchange, ms: a couple of round trips on slow links. */
export const DEFAULT_IDENTIFY_TIMEOUT = 10_000
/**
 * Default least time between two queries on one connection after a failure, ms: a
 * caller asking again soon gets a fresh answer, and a peer that always fails costs at
 * most one stream per 5 s per connection, however often it is asked.
 */
export const DEFAULT_IDENTIFY_RETRY_INTERVAL = 5_000

export interface IdentifyResult {
  peerId: PeerId
  connection: Connection
  protocolVersion?: string
  agentVersion?: string
  publicKey?: PublicKey
  listenAddrs: Multiaddr[]
  observedAddr?: Multiaddr
  protocols: string[]
  /**
   * The peer's signed peer record, when it sent one that verified (the store keeps
   * its addresses as certified; `accepted` is false when the store already held this
   * seq or a newer one).
   */
  signedPeerRecord?: { seq: bigint, addresses: Multiaddr[], accepted: boolean }
  /** True when this came from a push rather than our query. */
  push: boolean
}

export interface IdentifyOptions {
  /** One exchange, ms (default {@link DEFAULT_IDENTIFY_TIMEOUT}). */
  timeout?: number
  /** Least time between two queries on one connection after a failure, ms (default {@link DEFAULT_IDENTIFY_RETRY_INTERVAL}). */
  retryInterval?: number
}

/**
 * The seq of our next peer record: milliseconds since the epoch, never going
 * backwards within the process (RFC 0003: "MUST increase monotonically"; "MAY use
 * unix epoch time"), so a record signed after a clock step back still replaces the
 * previous one at the peers that hold it.
 */
let lastSeq = 0n
function nextSeq (): bigint {
  const now = BigInt(Date.now())
  lastSeq = now > lastSeq ? now : lastSeq + 1n
  return lastSeq
}

/** What the identify service needs from the node. */
export interface IdentifyHost {
  readonly privateKey: PrivateKey
  readonly agentVersion: string
  readonly protocolVersion: string
  getMultiaddrs: () => Multiaddr[]
  getProtocols: () => string[]
  getConnections: () => Connection[]
  readonly peerStore: PeerStore
  /** Called for every successful identify or push received. */
  onIdentify: (result: IdentifyResult) => void
}

export class IdentifyService {
  readonly #host: IdentifyHost
  readonly #timeout: number
  readonly #retryInterval: number
  readonly #results = new WeakMap<Connection, Promise<IdentifyResult>>()
  /** When the last query of a connection failed (performance.now()); only failed ones are here. */
  readonly #failedAt = new WeakMap<Connection, number>()
  /** Our message without observedAddr, encoded, and the addresses and protocols it lists. */
  #common: { listenAddrs: Multiaddr[], protocols: string[], bytes: Uint8Array } | undefined
  /** Our signed peer record and the addresses it certifies: re-signed only when they change. */
  #record: { listenAddrs: Multiaddr[], bytes: Uint8Array } | undefined

  constructor (host: IdentifyHost, options: IdentifyOptions = {}) {
    this.#host = host
    this.#timeout = options.timeout ?? DEFAULT_IDENTIFY_TIMEOUT
    this.#retryInterval = options.retryInterval ?? DEFAULT_IDENTIFY_RETRY_INTERVAL
  }

  /**
   * Our Identify message as sent on `connection`. Everything but `observedAddr` is the
   * same for every connection, so it is encoded once and reused while our addresses
   * and protocols stay the same; `observedAddr` is appended after it (protobuf fields
   * may come in any order, and every decoder accepts that).
   */
  message (connection: Connection): Uint8Array {
    const host = this.#host
    const listenAddrs = host.getMultiaddrs()
    const protocols = host.getProtocols()
    let common = this.#common
    if (common === undefined || !sameAddrs(common.listenAddrs, listenAddrs) || !sameStrings(common.protocols, protocols)) {
      common = {
        listenAddrs,
        protocols,
        bytes: encodeIdentify({
          protocolVersion: host.protocolVersion,
          agentVersion: host.agentVersion,
          publicKey: host.privateKey.publicKey.bytes,
          listenAddrs,
          protocols,
          signedPeerRecord: this.#signedRecord(listenAddrs)
        })
      }
      this.#common = common
    }
    const observed = encodeIdentify({ observedAddr: connection.remoteAddr, listenAddrs: [], protocols: [] })
    return encodeLengthPrefixed(concatBytes([common.bytes, observed]))
  }

  /** Our signed peer record over `listenAddrs`, signed again only when they changed. */
  #signedRecord (listenAddrs: Multiaddr[]): Uint8Array {
    let record = this.#record
    if (record === undefined || !sameAddrs(record.listenAddrs, listenAddrs)) {
      record = { listenAddrs, bytes: createSignedPeerRecord(this.#host.privateKey, listenAddrs, nextSeq()).bytes }
      this.#record = record
    }
    return record.bytes
  }

  /** Handler of `/ipfs/id/1.0.0`: send ours and close. */
  handleIdentify (stream: Stream, connection: Connection): void {
    stream.on('error', () => {})
    stream.end(this.message(connection))
    stream.resume()
  }

  /** Handler of `/ipfs/id/push/1.0.0`: apply what the remote pushes. */
  async handlePush (stream: Stream, connection: Connection): Promise<void> {
    stream.end()
    const dl = deadline(this.#timeout, undefined, 'identify push')
    const onAbort = (): void => { stream.destroy(dl.signal.reason as Error) }
    dl.signal.addEventListener('abort', onAbort, { once: true })
    try {
      const msg = await this.#read(stream)
      this.#apply(connection, msg, true)
    } finally {
      dl.signal.removeEventListener('abort', onAbort)
      dl.clear()
    }
  }

  /**
   * The remote's identify result for `connection`: runs the query once per connection
   * and returns the same result to every caller. After a failure the query runs again
   * for a caller that asks once `retryInterval` has passed (earlier callers get the
   * failure).
   */
  async identify (connection: Connection, options: { signal?: AbortSignal } = {}): Promise<IdentifyResult> {
    let p = this.#results.get(connection)
    const failedAt = p === undefined ? undefined : this.#failedAt.get(connection)
    if (p === undefined || (failedAt !== undefined && performance.now() - failedAt >= this.#retryInterval)) {
      this.#failedAt.delete(connection)
      p = this.#query(connection)
      this.#results.set(connection, p)
      // A failure is reported to callers; a failed background run must not be unhandled.
      p.catch(noop)
    }
    return await untilAborted(p, options.signal, 'identify')
  }

  /** Sends our message to every connected peer known to support push. */
  async push (): Promise<void> {
    const tasks: Array<Promise<void>> = []
    for (const conn of this.#host.getConnections()) {
      if (conn.status !== 'open') continue
      tasks.push(this.#pushTo(conn).catch(() => {}))
    }
    await Promise.all(tasks)
  }

  async #pushTo (conn: Connection): Promise<void> {
    const info = this.#host.peerStore.get(conn.remotePeer)
    if (info?.protocols.includes(IDENTIFY_PUSH_PROTOCOL) !== true) return
    const dl = deadline(this.#timeout, undefined, 'identify push')
    try {
      const stream = await conn.newStream(IDENTIFY_PUSH_PROTOCOL, { signal: dl.signal })
      stream.on('error', () => {})
      stream.end(this.message(conn))
      stream.resume()
    } finally {
      dl.clear()
    }
  }

  async #query (connection: Connection): Promise<IdentifyResult> {
    try {
      return await this.#exchange(connection)
    } catch (err) {
      this.#failedAt.set(connection, performance.now())
      throw err
    }
  }

  async #exchange (connection: Connection): Promise<IdentifyResult> {
    // One protocol: the stream is negotiated lazily and handed over at once, so the
    // whole exchange is bounded by one plain timer that resets the stream (no
    // AbortController and listener per connection).
    const stream = await connection.newStream(IDENTIFY_PROTOCOL)
    const timeout = this.#timeout
    const timer = timeout > 0 && Number.isFinite(timeout)
      ? setTimeout(() => { stream.destroy(new TimeoutError(`identify timed out after ${timeout} ms`)) }, timeout)
      : undefined
    timer?.unref()
    try {
      stream.end()
      const msg = await this.#read(stream)
      return this.#apply(connection, msg, false)
    } finally {
      clearTimeout(timer)
    }
  }

  async #read (stream: Stream): Promise<IdentifyMessage> {
    const parts = await readAllLengthPrefixed(stream, MAX_IDENTIFY_MESSAGE_BYTES, MAX_MESSAGES_PER_STREAM)
    if (parts.length === 0) throw new Lp2pError(codes.ERR_PROTOCOL_VIOLATION, 'identify stream closed without a message')
    let msg: IdentifyMessage | undefined
    for (const part of parts) msg = decodeIdentify(part, msg)
    return msg as IdentifyMessage
  }

  #apply (connection: Connection, msg: IdentifyMessage, push: boolean): IdentifyResult {
    const peerId = connection.remotePeer
    let publicKey: PublicKey | undefined
    if (msg.publicKey !== undefined) {
      // Usually the key the security handshake verified: keep that one object rather
      // than a second copy per connection.
      const known = connection.remotePublicKey
      publicKey = known !== undefined && bytesEqual(known.bytes, msg.publicKey) ? known : publicKeyFromProtobuf(msg.publicKey)
      if (!peerIdFromPublicKey(publicKey).equals(peerId)) {
        throw new Lp2pError(codes.ERR_PROTOCOL_VIOLATION, `identify from ${peerId.toString()} carries another peer's public key`)
      }
    }
    const store = this.#host.peerStore
    const record = msg.signedPeerRecord !== undefined ? this.#consumeRecord(store, msg.signedPeerRecord, peerId) : undefined
    const result: IdentifyResult = {
      peerId,
      connection,
      listenAddrs: msg.listenAddrs,
      protocols: msg.protocols,
      push,
      ...(msg.protocolVersion !== undefined ? { protocolVersion: msg.protocolVersion } : {}),
      ...(msg.agentVersion !== undefined ? { agentVersion: msg.agentVersion } : {}),
      ...(publicKey !== undefined ? { publicKey } : {}),
      ...(msg.observedAddr !== undefined ? { observedAddr: msg.observedAddr } : {}),
      ...(record !== undefined ? { signedPeerRecord: { seq: record.seq, addresses: record.addresses, accepted: record.accepted } } : {})
    }
    // Certified addresses, when the peer sent a valid record with any, stand for its
    // listen addresses (an empty record certifies nothing: rust-libp2p signs only the
    // addresses it confirmed external, often none). A push may carry only what
    // changed: keep what we knew for fields it leaves out.
    if ((record === undefined || record.addresses.length === 0) && (msg.listenAddrs.length > 0 || !push)) {
      store.setAddresses(peerId, msg.listenAddrs, { class: 'default' })
    }
    store.patch(peerId, {
      ...(msg.protocols.length > 0 || !push ? { protocols: msg.protocols } : {}),
      ...(publicKey !== undefined ? { publicKey } : {}),
      ...(msg.agentVersion !== undefined ? { agentVersion: msg.agentVersion } : {}),
      ...(msg.protocolVersion !== undefined ? { protocolVersion: msg.protocolVersion } : {})
    })
    this.#host.onIdentify(result)
    return result
  }

  /**
   * Verifies and stores a received signed peer record; undefined when it is bad (a
   * forged or foreign record, a wrong payload type, bytes that do not decode), which
   * is ignored: the listen addresses are used instead, as go-libp2p does.
   */
  #consumeRecord (store: PeerStore, envelope: Uint8Array, peer: PeerId): ConsumedPeerRecord | undefined {
    try {
      return store.consumePeerRecord(envelope, peer)
    } catch (err) {
      log('%s sent a signed peer record we ignore: %s', peer.toString(), (err as Error).message)
      return undefined
    }
  }
}

function noop (): void {}

function sameAddrs (a: readonly Multiaddr[], b: readonly Multiaddr[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Multiaddr
    const y = b[i] as Multiaddr
    if (x !== y && !x.equals(y)) return false
  }
  return true
}

function sameStrings (a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
