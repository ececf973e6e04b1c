/**
 * The name a QUIC connection reports for both its security and its muxer
 * (`Connection.encryption`, `Connection.multiplexer`): the multiaddr protocol
 * (`specs/quic.md`, "Multiaddr"), since neither is negotiated. The TLS 1.3 handshake
 * inside QUIC uses ALPN `libp2p` and the libp2p certificate (`specs/tls.md`).
 */
export const QUIC_PROTOCOL = '/quic-v1'
