"""py-libp2p reference peer for the lp2p interop matrix.

The contract every peer follows is described in interop/README.md: the
configuration comes from INTEROP_* environment variables, a listener prints
{"multiaddr": ...} and serves ping, identify and /echo/1.0.0 until killed, a
dialer dials, pings, echoes 1 MiB over a new stream, reads the remote's identify
result and prints one JSON line, exiting 0 only when all of that succeeded.
"""

import hashlib
import json
import os
import secrets
import sys
import time

import multiaddr
import trio

from libp2p import new_host
from libp2p.crypto import ecc, ed25519, rsa, secp256k1
from libp2p.crypto.x25519 import create_new_key_pair as new_x25519
from libp2p.custom_types import TProtocol
from libp2p.host.ping import ID as PING_ID, perform_ping_roundtrip
from libp2p.identity.identify.identify import ID as IDENTIFY_ID, parse_identify_response
from libp2p.identity.update import update_peerstore_from_identify
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_ID, Transport as Noise
from libp2p.security.secio.transport import ID as SECIO_ID, Transport as Secio
from libp2p.security.tls.transport import PROTOCOL_ID as TLS_ID, TLSTransport
from libp2p.utils.varint import read_length_prefixed_protobuf

ECHO = TProtocol("/echo/1.0.0")
ECHO_BYTES = 1 << 20  # 1 MiB, the payload the issue asks the dialer to echo
CHUNK = 64 * 1024  # write/read granularity for the echo payload


def env(name, default):
    return os.environ.get(name, default)


def key_pair(kind):
    if kind == "ed25519":
        return ed25519.create_new_key_pair()
    if kind == "secp256k1":
        return secp256k1.create_new_key_pair()
    if kind == "ecdsa":
        return ecc.create_new_key_pair("P-256")
    if kind == "rsa":
        return rsa.create_new_key_pair(2048)
    raise ValueError(f"unsupported key type {kind}")


def make_host(transport, security, muxer, kind):
    keys = key_pair(kind)
    if security == "noise":
        sec = {NOISE_ID: Noise(keys, noise_privkey=new_x25519().private_key)}
    elif security == "tls":
        sec = {TLS_ID: TLSTransport(keys)}
    elif security == "secio":
        sec = {SECIO_ID: Secio(keys)}
    elif security == "plaintext":
        sec = {PLAINTEXT_PROTOCOL_ID: InsecureTransport(keys)}
    else:
        raise ValueError(f"unsupported security {security}")
    if muxer not in ("yamux", "mplex"):
        raise ValueError(f"unsupported muxer {muxer}")
    if transport not in ("tcp", "ws", "quic-v1"):
        raise ValueError(f"unsupported transport {transport}")
    # QUIC brings its own security and streams: sec_opt and the muxer are unused then.
    return new_host(
        key_pair=keys,
        sec_opt=sec,
        muxer_preference=muxer.upper(),
        enable_tcp=transport == "tcp",
        enable_websocket=transport == "ws",
        psk=env("INTEROP_PSK", "") or None,
        enable_quic=transport == "quic-v1",
    )


async def read_some(stream):
    try:
        return await stream.read(CHUNK)
    except StreamEOF:
        return b""


async def serve_echo(stream):
    try:
        while True:
            data = await read_some(stream)
            if not data:
                break
            await stream.write(data)
        await stream.close()
    except Exception as error:  # a reset or a broken connection: drop the stream
        print(f"echo handler: {error!r}", file=sys.stderr)
        await stream.reset()


async def listen(transport, host):
    host.set_stream_handler(ECHO, serve_echo)
    if transport == "quic-v1":
        addr = multiaddr.Multiaddr("/ip4/127.0.0.1/udp/0/quic-v1")
    else:
        suffix = "/ws" if transport == "ws" else ""
        addr = multiaddr.Multiaddr(f"/ip4/127.0.0.1/tcp/0{suffix}")
    async with host.run(listen_addrs=[addr]):
        addrs = host.get_addrs()
        if not addrs:
            raise RuntimeError("no listen address")
        full = str(addrs[0])
        if "/p2p/" not in full:
            full += f"/p2p/{host.get_id()}"
        print(json.dumps({"multiaddr": full}), flush=True)
        await trio.sleep_forever()


async def echo(host, peer_id):
    stream = await host.new_stream(peer_id, [ECHO])
    payload = secrets.token_bytes(ECHO_BYTES)
    back = bytearray()

    async def write():
        for i in range(0, ECHO_BYTES, CHUNK):
            await stream.write(payload[i : i + CHUNK])
        await stream.close_write()  # half-close: the listener sees EOF

    async def read():
        while len(back) <= ECHO_BYTES:
            data = await read_some(stream)
            if not data:
                return
            back.extend(data)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(write)
        nursery.start_soon(read)
    if hashlib.sha256(back).digest() != hashlib.sha256(payload).digest():
        raise RuntimeError(f"echo mismatch: got {len(back)} bytes")


async def identify(host, peer_id):
    """Ask the remote's identify service and parse the answer with py-libp2p's own codec."""
    stream = await host.new_stream(peer_id, [IDENTIFY_ID])
    try:
        data = await read_length_prefixed_protobuf(stream, use_varint_format=True)
    finally:
        await stream.close()
    return parse_identify_response(data)


async def dial(host, remote):
    info = info_from_p2p_addr(multiaddr.Multiaddr(remote))
    async with host.run(listen_addrs=[]):
        start = time.perf_counter()
        await host.connect(info)
        ping_stream = await host.new_stream(info.peer_id, [PING_ID])
        ping_start = time.perf_counter()
        await perform_ping_roundtrip(ping_stream)
        end = time.perf_counter()
        await ping_stream.close()
        await echo(host, info.peer_id)
        remote_id = await identify(host, info.peer_id)
        result = {
            "handshakePlusOneRTTMillis": (end - start) * 1000,
            "pingRTTMilllis": (end - ping_start) * 1000,
            "echoOk": True,
            "remoteAgent": remote_id.agent_version,
            "remoteProtocols": list(remote_id.protocols),
        }
        if env("INTEROP_CHECK", "") == "peer-record":
            # py-libp2p's own handling of the message: its peer store keeps a signed
            # record only when it verified it.
            store = host.get_peerstore()
            await update_peerstore_from_identify(store, info.peer_id, remote_id)
            envelope = store.get_peer_record(info.peer_id)
            result["remotePeerRecord"] = {
                "certified": envelope is not None,
                "addresses": [str(a) for a in envelope.record().addrs] if envelope is not None else [],
            }
        print(json.dumps(result), flush=True)


async def main():
    role = env("INTEROP_ROLE", "listener")
    transport = env("INTEROP_TRANSPORT", "tcp")
    timeout = float(env("INTEROP_TIMEOUT_SECS", "30"))
    host = make_host(
        transport, env("INTEROP_SECURITY", "noise"), env("INTEROP_MUXER", "yamux"),
        env("INTEROP_KEY_TYPE", "ed25519"),
    )
    if role == "listener":
        await listen(transport, host)
    elif role == "dialer":
        with trio.fail_after(timeout):
            await dial(host, env("INTEROP_REMOTE_ADDR", ""))
    else:
        raise ValueError(f"INTEROP_ROLE must be listener or dialer, got {role}")


if __name__ == "__main__":
    try:
        trio.run(main)
    except BaseException as error:  # report and fail: the driver reads stderr
        if isinstance(error, KeyboardInterrupt):
            raise
        print(f"error: {error!r}", file=sys.stderr)
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)
