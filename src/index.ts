/**
 * lp2p: a libp2p connection stack for Node.js. Public exports only.
 */
export { createNode, Lp2pNode, type NodeStatus } from './node.js'
export type { NodeOptions, NodeEvents } from './node-options.js'
export type * from './interfaces/index.js'

export {
  Lp2pError, TimeoutError, AbortError, DialError, UpgradeError, codes, isLp2pError,
  type ErrorCode, type UpgradeStep
} from './errors.js'

export {
  generateKeyPair, privateKeyFromProtobuf, publicKeyFromProtobuf, peerIdFromPublicKey,
  peerIdFromPrivateKey, peerIdFromString, peerIdFromBytes, isPeerId, loadKeyFile, saveKeyFile,
  parseKeyType
} from './identity/index.js'

export { tcp, type TcpOptions } from './transport/tcp.js'
export { memory, type MemoryTransportOptions } from './transport/memory.js'
export { webSockets, type WebSocketOptions } from './transport/websocket.js'
export { quic, loadQuicEngine, QUIC_PROTOCOL, QUIC_DEFAULTS, type QuicOptions } from './transport/quic/index.js'
export { noise } from './security/noise/index.js'
export { tls } from './security/tls/index.js'
export { secio, SECIO_PROTOCOL_ID, type SecioOptions } from './security/secio/index.js'
export { plaintext, PLAINTEXT_PROTOCOL_ID } from './security/plaintext/index.js'
export { loadPskFile, decodePskFile, encodePskFile, PSK_BYTES } from './pnet/index.js'
export { enableLogs } from './util/log.js'
export { yamux, type YamuxOptions } from './muxer/yamux/index.js'
export { mplex, type MplexOptions } from './muxer/mplex/index.js'

export { MemoryPeerStore } from './peer-store/memory-peer-store.js'
export { PersistentPeerStore, type PersistentPeerStoreOptions } from './peer-store/persistent-peer-store.js'
export type { PeerStoreOptions } from './peer-store/options.js'
export {
  createSignedPeerRecord, openSignedPeerRecord, PEER_RECORD_DOMAIN, PEER_RECORD_PAYLOAD_TYPE,
  type PeerRecord, type SignedPeerRecord
} from './record/peer-record.js'
export type { StreamHandler, HandlerOptions } from './protocols/registry.js'
export { PING_PROTOCOL } from './protocols/ping.js'
export { IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL, type IdentifyResult } from './protocols/identify.js'
export { ECHO_PROTOCOL, handleEcho } from './protocols/echo.js'
export { VERSION } from './version.js'
