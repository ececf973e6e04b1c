// go-libp2p reference peer for the lp2p interop matrix.
//
// The contract every peer follows is described in interop/README.md: the
// configuration comes from INTEROP_* environment variables, a listener prints
// {"multiaddr": ...} and serves ping, identify and /echo/1.0.0 until killed, a
// dialer dials, pings, echoes 1 MiB over a new stream, reads the remote's identify
// result from its own peerstore and prints one JSON line, exiting 0 only when all
// of that succeeded within the timeout.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	"github.com/libp2p/go-libp2p/p2p/security/insecure"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	echoProtocol = "/echo/1.0.0"
	echoBytes    = 1 << 20 // 1 MiB, the payload the issue asks the dialer to echo
	agent        = "go-libp2p-interop/0.51.0"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
	os.Exit(code)
}

func key(kind string) (crypto.PrivKey, error) {
	var t int
	bits := -1
	switch kind {
	case "ed25519":
		t = crypto.Ed25519
	case "secp256k1":
		t = crypto.Secp256k1
	case "ecdsa":
		t = crypto.ECDSA
	case "rsa":
		t, bits = crypto.RSA, 2048
	default:
		return nil, fmt.Errorf("unsupported key type %s", kind)
	}
	priv, _, err := crypto.GenerateKeyPair(t, bits)
	return priv, err
}

func newHost(transport, security, muxer, keyType string, listen bool) (host.Host, error) {
	priv, err := key(keyType)
	if err != nil {
		return nil, err
	}
	opts := []libp2p.Option{libp2p.Identity(priv), libp2p.UserAgent(agent), libp2p.DisableRelay()}
	listenAddr := "/ip4/127.0.0.1/tcp/0"
	switch transport {
	case "tcp":
		opts = append(opts, libp2p.Transport(tcp.NewTCPTransport))
	case "ws":
		opts = append(opts, libp2p.Transport(websocket.New))
		listenAddr += "/ws"
	case "quic-v1":
		// Security and muxer are built in: the options below are ignored by QUIC.
		opts = append(opts, libp2p.Transport(libp2pquic.NewTransport))
		listenAddr = "/ip4/127.0.0.1/udp/0/quic-v1"
		security, muxer = "tls", "yamux"
	default:
		return nil, fmt.Errorf("unsupported transport %s", transport)
	}
	switch security {
	case "noise":
		opts = append(opts, libp2p.Security(noise.ID, noise.New))
	case "tls":
		opts = append(opts, libp2p.Security(libp2ptls.ID, libp2ptls.New))
	case "plaintext":
		// /plaintext/2.0.0, go-libp2p's "insecure" transport (for tests only).
		opts = append(opts, libp2p.Security(insecure.ID, insecure.NewWithIdentity))
	default:
		// SECIO: go-libp2p-secio is not served by the Go module proxy.
		return nil, fmt.Errorf("unsupported security %s", security)
	}
	if psk := env("INTEROP_PSK", ""); psk != "" {
		key, err := hex.DecodeString(psk)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("INTEROP_PSK must be 64 hex digits")
		}
		opts = append(opts, libp2p.PrivateNetwork(pnet.PSK(key)))
	}
	switch muxer {
	case "yamux":
		opts = append(opts, libp2p.Muxer(yamux.ID, yamux.DefaultTransport))
	default:
		// go-libp2p removed its mplex implementation.
		return nil, fmt.Errorf("unsupported muxer %s", muxer)
	}
	if listen {
		opts = append(opts, libp2p.ListenAddrStrings(listenAddr))
	} else {
		opts = append(opts, libp2p.NoListenAddrs)
	}
	return libp2p.New(opts...)
}

func serveEcho(s network.Stream) {
	defer s.Close()
	if _, err := io.Copy(s, s); err != nil {
		s.Reset()
		return
	}
	s.CloseWrite()
}

func echo(ctx context.Context, h host.Host, id peer.ID) error {
	s, err := h.NewStream(ctx, id, echoProtocol)
	if err != nil {
		return err
	}
	defer s.Close()
	payload := make([]byte, echoBytes)
	if _, err := rand.Read(payload); err != nil {
		return err
	}
	writeErr := make(chan error, 1)
	go func() {
		if _, err := s.Write(payload); err != nil {
			writeErr <- err
			return
		}
		writeErr <- s.CloseWrite() // half-close: the listener sees EOF
	}()
	back, err := io.ReadAll(s)
	if err != nil {
		return err
	}
	if err := <-writeErr; err != nil {
		return err
	}
	want, got := sha256.Sum256(payload), sha256.Sum256(back)
	if len(back) != echoBytes || !bytes.Equal(want[:], got[:]) {
		return fmt.Errorf("echo mismatch: got %d bytes", len(back))
	}
	return nil
}

func dial(ctx context.Context, h host.Host, remote string) (map[string]any, error) {
	addr, err := ma.NewMultiaddr(remote)
	if err != nil {
		return nil, err
	}
	info, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return nil, err
	}
	// The peer-record check reads identify's completion event, which carries the
	// signed peer record only when go verified it (go keeps its addresses, not the
	// envelope, in the peerstore). Subscribed before the connection opens.
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	start := time.Now()
	if err := h.Connect(ctx, *info); err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	res := <-ping.Ping(ctx, h, info.ID)
	if res.Error != nil {
		return nil, fmt.Errorf("ping: %w", res.Error)
	}
	handshakePlusRTT := time.Since(start)
	if err := echo(ctx, h, info.ID); err != nil {
		return nil, fmt.Errorf("echo: %w", err)
	}
	conns := h.Network().ConnsToPeer(info.ID)
	if len(conns) == 0 {
		return nil, errors.New("connection gone before identify")
	}
	// libp2p.New wraps the basic host; any wrapper embeds it and so exposes IDService.
	bh, ok := h.(interface{ IDService() identify.IDService })
	if !ok {
		return nil, errors.New("host has no identify service")
	}
	select {
	case <-bh.IDService().IdentifyWait(conns[0]):
	case <-ctx.Done():
		return nil, fmt.Errorf("identify: %w", ctx.Err())
	}
	agentVersion, err := h.Peerstore().Get(info.ID, "AgentVersion")
	if err != nil {
		return nil, fmt.Errorf("identify: no agent version: %w", err)
	}
	protos, err := h.Peerstore().GetProtocols(info.ID)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(protos))
	for _, p := range protos {
		names = append(names, string(p))
	}
	out := map[string]any{
		"handshakePlusOneRTTMillis": float64(handshakePlusRTT.Microseconds()) / 1000,
		"pingRTTMilllis":            float64(res.RTT.Microseconds()) / 1000,
		"echoOk":                    true,
		"remoteAgent":               agentVersion,
		"remoteProtocols":           names,
	}
	if env("INTEROP_CHECK", "") == "peer-record" {
		record, err := remotePeerRecord(ctx, sub, info.ID)
		if err != nil {
			return nil, err
		}
		out["remotePeerRecord"] = record
	}
	return out, nil
}

// remotePeerRecord waits for identify's completion event for the peer and reports
// whether it carried a verified signed peer record, and that record's addresses.
func remotePeerRecord(ctx context.Context, sub event.Subscription, id peer.ID) (map[string]any, error) {
	for {
		select {
		case e := <-sub.Out():
			evt, ok := e.(event.EvtPeerIdentificationCompleted)
			if !ok || evt.Peer != id {
				continue
			}
			addrs := []string{}
			if evt.SignedPeerRecord != nil {
				if r, err := evt.SignedPeerRecord.Record(); err == nil {
					if pr, ok := r.(*peer.PeerRecord); ok {
						for _, a := range pr.Addrs {
							addrs = append(addrs, a.String())
						}
					}
				}
			}
			return map[string]any{"certified": evt.SignedPeerRecord != nil, "addresses": addrs}, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("identify event: %w", ctx.Err())
		}
	}
}

func main() {
	role := env("INTEROP_ROLE", "listener")
	timeout, err := strconv.Atoi(env("INTEROP_TIMEOUT_SECS", "30"))
	if err != nil || (role != "listener" && role != "dialer") {
		fail(2, "bad settings: INTEROP_ROLE=%q INTEROP_TIMEOUT_SECS=%q", role, env("INTEROP_TIMEOUT_SECS", ""))
	}
	h, err := newHost(env("INTEROP_TRANSPORT", "tcp"), env("INTEROP_SECURITY", "noise"),
		env("INTEROP_MUXER", "yamux"), env("INTEROP_KEY_TYPE", "ed25519"), role == "listener")
	if err != nil {
		fail(2, "%v", err)
	}
	if role == "listener" {
		h.SetStreamHandler(echoProtocol, serveEcho)
		addrs := h.Addrs()
		if len(addrs) == 0 {
			fail(1, "no listen address")
		}
		line, _ := json.Marshal(map[string]string{"multiaddr": fmt.Sprintf("%s/p2p/%s", addrs[0], h.ID())})
		fmt.Println(string(line))
		select {}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Second)
	defer cancel()
	out, err := dial(ctx, h, env("INTEROP_REMOTE_ADDR", ""))
	if err != nil {
		fail(1, "%v", err)
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	h.Close()
	os.Exit(0)
}
