//! rust-libp2p reference peer for the lp2p interop matrix.
//!
//! The contract every peer follows is described in `interop/README.md`: the
//! configuration comes from `INTEROP_*` environment variables, a listener prints
//! `{"multiaddr": ...}` and serves ping, identify and `/echo/1.0.0` until killed, a
//! dialer dials, pings, echoes 1 MiB over a new stream, reads the remote's identify
//! result and prints one JSON line, exiting 0 only when all of that succeeded.

use std::{env, error::Error, process, time::Duration, time::Instant};

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{
    core::{muxing::StreamMuxerBox, transport::Boxed, upgrade::Version},
    identify, identity, noise, ping, quic,
    swarm::{NetworkBehaviour, SwarmEvent},
    tcp, tls, websocket, yamux, Multiaddr, PeerId, StreamProtocol, Swarm, Transport,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The echo protocol of the matrix: the listener copies input to output until EOF.
const ECHO: StreamProtocol = StreamProtocol::new("/echo/1.0.0");
/// 1 MiB: the payload the issue asks the dialer to echo.
const ECHO_BYTES: usize = 1 << 20;
const AGENT: &str = "rust-libp2p-interop/0.57.1";

#[derive(NetworkBehaviour)]
struct Behaviour {
    ping: ping::Behaviour,
    identify: identify::Behaviour,
    stream: libp2p_stream::Behaviour,
}

struct Settings {
    transport: String,
    security: String,
    muxer: String,
    dialer: bool,
    key_type: String,
    remote: Option<String>,
    timeout: Duration,
    /// INTEROP_CHECK=peer-record: sign a peer record over the listen address, and report
    /// what identify did with the remote's.
    peer_record: bool,
}

fn var(name: &str, default: &str) -> String {
    env::var(name).unwrap_or_else(|_| default.to_string())
}

fn settings() -> Result<Settings, Box<dyn Error>> {
    let role = var("INTEROP_ROLE", "listener");
    if role != "listener" && role != "dialer" {
        return Err(format!("INTEROP_ROLE must be listener or dialer, got {role}").into());
    }
    let timeout: u64 = var("INTEROP_TIMEOUT_SECS", "30").parse()?;
    Ok(Settings {
        transport: var("INTEROP_TRANSPORT", "tcp"),
        security: var("INTEROP_SECURITY", "noise"),
        muxer: var("INTEROP_MUXER", "yamux"),
        dialer: role == "dialer",
        key_type: var("INTEROP_KEY_TYPE", "ed25519"),
        remote: env::var("INTEROP_REMOTE_ADDR").ok(),
        timeout: Duration::from_secs(timeout),
        peer_record: var("INTEROP_CHECK", "") == "peer-record",
    })
}

fn keypair(kind: &str) -> Result<identity::Keypair, Box<dyn Error>> {
    match kind {
        "ed25519" => Ok(identity::Keypair::generate_ed25519()),
        "secp256k1" => Ok(identity::Keypair::generate_secp256k1()),
        "ecdsa" => Ok(identity::Keypair::generate_ecdsa()),
        // libp2p-identity can load an RSA key from PKCS#8 but cannot generate one.
        other => Err(format!("unsupported key type {other}").into()),
    }
}

/// The raw connection type, boxed so TCP and WebSocket share one upgrade path.
trait Io: futures::AsyncRead + futures::AsyncWrite + Unpin + Send {}
impl<T: futures::AsyncRead + futures::AsyncWrite + Unpin + Send> Io for T {}
type BoxIo = Box<dyn Io>;

fn transport(
    s: &Settings,
    key: &identity::Keypair,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, Box<dyn Error>> {
    if s.transport == "quic-v1" {
        // QUIC brings its own security (TLS 1.3) and streams: no upgrade.
        return Ok(quic::tokio::Transport::new(quic::Config::new(key))
            .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
            .boxed());
    }
    let tcp_config = tcp::Config::default().nodelay(true);
    let raw = match s.transport.as_str() {
        "tcp" => tcp::tokio::Transport::new(tcp_config)
            .map(|io, _| Box::new(io) as BoxIo)
            .boxed(),
        "ws" => websocket::Config::new(tcp::tokio::Transport::new(tcp_config))
            .map(|io, _| Box::new(io) as BoxIo)
            .boxed(),
        other => return Err(format!("unsupported transport {other}").into()),
    };
    let up = raw.upgrade(Version::V1);
    // Each (security, muxer) pair is a different type, so each arm boxes its own.
    let boxed = match (s.security.as_str(), s.muxer.as_str()) {
        ("noise", "yamux") => up
            .authenticate(noise::Config::new(key)?)
            .multiplex(yamux::Config::default())
            .timeout(s.timeout)
            .boxed(),
        ("noise", "mplex") => up
            .authenticate(noise::Config::new(key)?)
            .multiplex(libp2p_mplex::Config::new())
            .timeout(s.timeout)
            .boxed(),
        ("tls", "yamux") => up
            .authenticate(tls::Config::new(key)?)
            .multiplex(yamux::Config::default())
            .timeout(s.timeout)
            .boxed(),
        ("tls", "mplex") => up
            .authenticate(tls::Config::new(key)?)
            .multiplex(libp2p_mplex::Config::new())
            .timeout(s.timeout)
            .boxed(),
        (sec, mux) => return Err(format!("unsupported security/muxer {sec}/{mux}").into()),
    };
    Ok(boxed)
}

fn swarm(s: &Settings) -> Result<Swarm<Behaviour>, Box<dyn Error>> {
    let key = keypair(&s.key_type)?;
    let peer_id = key.public().to_peer_id();
    // Signed records only for the peer-record check: libp2p-identify 0.48 signs them in
    // the legacy RFC form, which js-libp2p rejects by failing the whole identify.
    let identify_config = if s.peer_record {
        identify::Config::new_with_signed_peer_record("/ipfs/id/1.0.0".into(), &key)
    } else {
        identify::Config::new("/ipfs/id/1.0.0".into(), key.public())
    };
    let behaviour = Behaviour {
        ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(1))),
        identify: identify::Behaviour::new(identify_config.with_agent_version(AGENT.into())),
        stream: libp2p_stream::Behaviour::new(),
    };
    let config = libp2p::swarm::Config::with_tokio_executor()
        .with_idle_connection_timeout(Duration::from_secs(3600));
    Ok(Swarm::new(transport(s, &key)?, behaviour, peer_id, config))
}

async fn listen(s: Settings) -> Result<(), Box<dyn Error>> {
    let mut swarm = swarm(&s)?;
    let mut incoming = swarm.behaviour().stream.new_control().accept(ECHO)?;
    tokio::spawn(async move {
        while let Some((_, stream)) = incoming.next().await {
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                if futures::io::copy(&mut reader, &mut writer).await.is_ok() {
                    let _ = writer.close().await;
                }
            });
        }
    });
    let addr: Multiaddr = match s.transport.as_str() {
        "ws" => "/ip4/127.0.0.1/tcp/0/ws".parse()?,
        "quic-v1" => "/ip4/127.0.0.1/udp/0/quic-v1".parse()?,
        _ => "/ip4/127.0.0.1/tcp/0".parse()?,
    };
    swarm.listen_on(addr)?;
    let me = *swarm.local_peer_id();
    let mut printed = false;
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::NewListenAddr { address, .. } if !printed => {
                printed = true;
                // identify signs only confirmed external addresses into the record.
                if s.peer_record {
                    swarm.add_external_address(address.clone());
                }
                let full = format!("{address}/p2p/{me}");
                println!("{}", serde_json::json!({ "multiaddr": full }));
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                eprintln!("incoming connection error: {error}");
            }
            _ => {}
        }
    }
}

async fn echo(control: &mut libp2p_stream::Control, peer: PeerId) -> Result<(), Box<dyn Error>> {
    let stream = control.open_stream(peer, ECHO).await?;
    let mut payload = vec![0u8; ECHO_BYTES];
    rand::thread_rng().fill_bytes(&mut payload);
    let sent = Sha256::digest(&payload);
    let (mut reader, mut writer) = stream.split();
    let write = async {
        writer.write_all(&payload).await?;
        writer.close().await // half-close: the listener sees EOF and closes its side
    };
    let mut back = Vec::with_capacity(ECHO_BYTES);
    let read = reader.read_to_end(&mut back);
    let (w, r) = futures::join!(write, read);
    w?;
    r?;
    if back.len() != ECHO_BYTES || Sha256::digest(&back) != sent {
        return Err(format!("echo mismatch: got {} bytes", back.len()).into());
    }
    Ok(())
}

async fn dial(s: Settings) -> Result<(), Box<dyn Error>> {
    let remote: Multiaddr = s.remote.as_deref().ok_or("INTEROP_REMOTE_ADDR is required")?.parse()?;
    let mut swarm = swarm(&s)?;
    let control = swarm.behaviour().stream.new_control();
    let start = Instant::now();
    swarm.dial(remote)?;
    let (tx, mut rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
    let mut tx = Some(tx);
    let mut handshake_plus_rtt: Option<f64> = None;
    let mut ping_rtt: Option<f64> = None;
    let mut identified: Option<identify::Info> = None;
    let mut echo_ok: Option<bool> = None;
    loop {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                    if let Some(tx) = tx.take() {
                        let mut control = control.clone();
                        tokio::spawn(async move {
                            let r = echo(&mut control, peer_id).await.map_err(|e| e.to_string());
                            let _ = tx.send(r);
                        });
                    }
                }
                SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event { result, .. })) => {
                    match result {
                        Ok(rtt) if ping_rtt.is_none() => {
                            handshake_plus_rtt = Some(start.elapsed().as_secs_f64() * 1000.0);
                            ping_rtt = Some(rtt.as_secs_f64() * 1000.0);
                        }
                        Ok(_) => {}
                        Err(e) => return Err(format!("ping failed: {e}").into()),
                    }
                }
                SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { info, .. })) => {
                    identified = Some(info);
                }
                SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Error { error, .. })) => {
                    return Err(format!("identify failed: {error}").into());
                }
                SwarmEvent::OutgoingConnectionError { error, .. } => {
                    return Err(format!("dial failed: {error}").into());
                }
                SwarmEvent::ConnectionClosed { cause, .. } if echo_ok.is_none() || identified.is_none() || ping_rtt.is_none() => {
                    return Err(format!("connection closed early: {cause:?}").into());
                }
                _ => {}
            },
            r = &mut rx, if echo_ok.is_none() => {
                match r {
                    Ok(Ok(())) => echo_ok = Some(true),
                    Ok(Err(e)) => return Err(format!("echo failed: {e}").into()),
                    Err(_) => return Err("echo task vanished".into()),
                }
            }
        }
        if let (Some(h), Some(p), Some(true), Some(info)) = (handshake_plus_rtt, ping_rtt, echo_ok, &identified) {
            let protocols: Vec<String> = info.protocols.iter().map(|p| p.to_string()).collect();
            let mut out = serde_json::json!({
                "handshakePlusOneRTTMillis": h,
                "pingRTTMilllis": p,
                "echoOk": true,
                "remoteAgent": info.agent_version,
                "remoteProtocols": protocols,
            });
            if s.peer_record {
                // identify keeps the record only when it verified; its addresses then
                // replace the listen addresses in `listen_addrs`.
                let certified = info.signed_peer_record.is_some();
                let addresses: Vec<String> = if certified {
                    info.listen_addrs.iter().map(|a| a.to_string()).collect()
                } else {
                    Vec::new()
                };
                out["remotePeerRecord"] = serde_json::json!({ "certified": certified, "addresses": addresses });
            }
            println!("{out}");
            return Ok(());
        }
    }
}

#[tokio::main]
async fn main() {
    let s = match settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bad settings: {e}");
            process::exit(2);
        }
    };
    let limit = s.timeout;
    let result = if s.dialer {
        match tokio::time::timeout(limit, dial(s)).await {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {limit:?}").into()),
        }
    } else {
        listen(s).await
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        process::exit(1);
    }
    process::exit(0);
}
