/**
 * libp2p TLS (`specs/tls.md`), which a node accepts by default beside Noise, against a
 * hostile dialer: garbage instead of a ClientHello, a stall, clients without a
 * certificate or limited to TLS 1.2, and a correct TLS client that then breaks yamux.
 *
 * node:tls owns this handshake, so these cases check that its errors become typed
 * errors and closed connections, never uncaught exceptions. After every case the node
 * is back to baseline, serves a well-behaved peer, and raised no unhandled rejection.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls'
import { randomBytes } from 'node:crypto'
import { generateKeyPair, peerIdFromPrivateKey } from '../../src/identity/index.js'
import { createCertificate } from '../../src/security/tls/certificate.js'
import { FrameType } from '../../src/muxer/yamux/frame.js'
import { expectCode, until, withTimeout, type RawPeer } from '../helpers/hostile.js'
import { AT_ONCE_MS, closedAtOnce, closedAtTimeout, socketClosed, Target } from '../helpers/hostile-target.js'
import { negotiate } from '../helpers/hostile-noise.js'
import { rawFrame } from '../helpers/hostile-yamux.js'

const TLS = '/tls/1.0.0'
const TIMEOUT = 1000

/** A TLS client over the negotiated raw socket; resolves once its handshake ends either way. */
async function tlsClient (peer: RawPeer, options: ConnectionOptions): Promise<{ socket: TLSSocket, error: Error | undefined }> {
  peer.socket.removeAllListeners('data')
  const socket = tlsConnect({ socket: peer.socket, rejectUnauthorized: false, checkServerIdentity: () => undefined, ...options })
  return await new Promise((resolve) => {
    socket.once('secureConnect', () => { resolve({ socket, error: undefined }) })
    socket.once('error', (error) => { resolve({ socket, error }) })
    socket.once('close', () => { resolve({ socket, error: new Error('closed') }) })
  })
}

describe('adversarial: libp2p TLS on the inbound side', () => {
  const t = Target.suite({ timeouts: { inboundUpgrade: TIMEOUT } })

  it('garbage instead of a ClientHello: ERR_HANDSHAKE_FAILED at once', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer, TLS)
    peer.write(randomBytes(600))
    await closedAtOnce(peer, record, 'ERR_HANDSHAKE_FAILED')
  })

  it('a TLS record header announcing 16 KiB, then nothing: the inbound timeout closes it', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer, TLS)
    peer.write(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01]))
    await closedAtTimeout(peer, record, TIMEOUT)
  })

  it('the proposal, then FIN: ERR_HANDSHAKE_FAILED at once', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer, TLS)
    peer.end()
    await peer.waitClosed(AT_ONCE_MS + 2000)
    await socketClosed(record)
    expectCode(record.error, 'ERR_HANDSHAKE_FAILED')
  })

  it('a TLS client without a certificate: refused (servers require client authentication)', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer, TLS)
    const { socket } = await tlsClient(peer, { ALPNProtocols: ['/yamux/1.0.0', 'libp2p'] })
    socket.on('error', () => {})
    await withTimeout(record.closed, AT_ONCE_MS + 2000, 'the node to close')
    expectCode(record.error, 'ERR_HANDSHAKE_FAILED')
    socket.destroy()
  })

  it('a TLS 1.2 client: refused', async () => {
    const { peer, record } = await t.connect()
    await negotiate(peer, TLS)
    const cert = createCertificate(generateKeyPair('Ed25519'))
    const { socket, error } = await tlsClient(peer, { maxVersion: 'TLSv1.2', cert: cert.certPem, key: cert.keyPem })
    socket.on('error', () => {})
    assert.ok(error !== undefined, 'the handshake must not succeed')
    await withTimeout(record.closed, AT_ONCE_MS + 2000, 'the node to close')
    expectCode(record.error, 'ERR_HANDSHAKE_FAILED')
    socket.destroy()
  })

  it('a correct libp2p TLS client, then an unknown yamux frame: ERR_MUXER_PROTOCOL', async () => {
    const { peer } = await t.connect()
    await negotiate(peer, TLS)
    const key = generateKeyPair('Ed25519')
    const cert = createCertificate(key)
    const { socket, error } = await tlsClient(peer, { cert: cert.certPem, key: cert.keyPem, ALPNProtocols: ['/yamux/1.0.0', 'libp2p'] })
    assert.equal(error, undefined)
    socket.on('error', () => {})
    assert.equal(socket.alpnProtocol, '/yamux/1.0.0')
    const id = peerIdFromPrivateKey(key)
    const conn = await t.connectionTo(id)
    socket.write(rawFrame(9, 0, 0, 0))
    await until(() => conn.status === 'closed', 2000, 'the connection to close')
    const close = t.closes.find((c) => c.connection === conn)
    expectCode(close?.error, 'ERR_MUXER_PROTOCOL')
    assert.equal(FrameType.GoAway, 3)
    socket.destroy()
  })
})
