import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { connect as tlsConnect, createSecureContext, TLSSocket } from 'node:tls'
import fc from 'fast-check'
import { tls, LIBP2P_ALPN, TLS_PROTOCOL, createCertificate } from '../../../src/security/tls/index.js'
import { ChannelDuplex } from '../../../src/security/tls/channel-duplex.js'
import { generateKeyPair, peerIdFromPrivateKey } from '../../../src/identity/index.js'
import { MemoryChannel, type MemoryChannelOptions } from '../../../src/transport/memory-channel.js'
import { handleOnChannel, lazySelectOnChannel } from '../../../src/negotiation/channel-negotiation.js'
import type { ByteChannel } from '../../../src/interfaces/channel.js'
import type { SecureOptions, SecureResult } from '../../../src/interfaces/security.js'
import type { PrivateKey } from '../../../src/interfaces/keys.js'
import { AbortError, isLp2pError, TimeoutError } from '../../../src/errors.js'
import { collect, tick } from '../../helpers/channel.js'
import { alpnList, buildCertificate, clientHelloExtensions, tcpPair } from './helpers.js'

const YAMUX = '/yamux/1.0.0'
const MPLEX = '/mplex/6.7.0'
const clientKey = generateKeyPair('Ed25519')
const serverKey = generateKeyPair('Ed25519')
const clientId = peerIdFromPrivateKey(clientKey)
const serverId = peerIdFromPrivateKey(serverKey)
const security = tls()

interface Sides {
  client?: Partial<SecureOptions>
  server?: Partial<SecureOptions>
}

async function handshake (a: ByteChannel, b: ByteChannel, sides: Sides = {}): Promise<[SecureResult, SecureResult]> {
  return await Promise.all([
    security.secureOutbound(a, { localKey: clientKey, ...sides.client }),
    security.secureInbound(b, { localKey: serverKey, ...sides.server })
  ])
}

async function memoryHandshake (sides: Sides = {}, options: MemoryChannelOptions = {}): Promise<[SecureResult, SecureResult]> {
  const [a, b] = MemoryChannel.pair(options)
  return await handshake(a, b, sides)
}

function closeAll (...results: SecureResult[]): void {
  for (const r of results) r.channel.destroy()
}

async function rejectsWith (p: Promise<unknown>, code: string, pattern?: RegExp): Promise<Error> {
  let caught: unknown
  await p.then(() => { throw new Error('expected a rejection') }, (err: unknown) => { caught = err })
  assert.ok(isLp2pError(caught, code as never), `expected ${code}, got ${String(caught)}`)
  if (pattern !== undefined) assert.match((caught as Error).message, pattern)
  return caught as Error
}

/** Sends `size` random bytes each way at the same time and compares SHA-256 digests. */
async function transferBothWays (a: SecureResult, b: SecureResult, size: number): Promise<void> {
  const CHUNK = 64 * 1024
  function endpoint (r: SecureResult, data: Buffer): Promise<Buffer> {
    const received: Buffer[] = []
    let total = 0
    let off = 0
    const pump = (): void => {
      while (off < data.length) {
        const ok = r.channel.write(data.subarray(off, off + CHUNK))
        off += CHUNK
        if (!ok) return
      }
    }
    return new Promise((resolve) => {
      r.channel.attach({
        onData (chunk) {
          received.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          total += chunk.byteLength
          if (total >= size) resolve(Buffer.concat(received))
        },
        onEnd () {},
        onClose () {},
        onDrain: pump
      })
      pump()
    })
  }
  const fromA = randomBytes(size)
  const fromB = randomBytes(size)
  const [atA, atB] = await Promise.all([endpoint(a, fromA), endpoint(b, fromB)])
  const digest = (buf: Buffer): string => createHash('sha256').update(buf).digest('hex')
  assert.equal(atB.length, size)
  assert.equal(atA.length, size)
  assert.equal(digest(atB), digest(fromA))
  assert.equal(digest(atA), digest(fromB))
}

/** A plain node:tls client over a channel, to play a misbehaving libp2p peer. */
function rawClient (channel: ByteChannel, options: { certPem?: string, keyPem?: string, alpn?: string[], tls12?: boolean }): TLSSocket {
  const socket = tlsConnect({
    socket: new ChannelDuplex(channel),
    cert: options.certPem,
    key: options.keyPem,
    minVersion: options.tls12 === true ? 'TLSv1.2' : 'TLSv1.3',
    maxVersion: options.tls12 === true ? 'TLSv1.2' : 'TLSv1.3',
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    ALPNProtocols: options.alpn ?? [LIBP2P_ALPN]
  })
  socket.on('error', () => {})
  return socket
}

describe('TLS handshake over memory channels', () => {
  it('authenticates both peers and returns their keys', async () => {
    const [c, s] = await memoryHandshake({ client: { remotePeer: serverId } })
    assert.equal(security.protocol, TLS_PROTOCOL)
    assert.ok(c.remotePeer.equals(serverId))
    assert.ok(s.remotePeer.equals(clientId))
    assert.ok(c.remotePublicKey.equals(serverKey.publicKey))
    assert.ok(s.remotePublicKey.equals(clientKey.publicKey))
    assert.equal(c.muxer, undefined)
    assert.equal(s.muxer, undefined)
    closeAll(c, s)
  })

  for (const type of ['secp256k1', 'ECDSA', 'RSA'] as const) {
    it(`authenticates ${type} host keys`, async () => {
      const k1 = generateKeyPair(type)
      const k2 = generateKeyPair(type)
      const [a, b] = MemoryChannel.pair()
      const [c, s] = await Promise.all([
        security.secureOutbound(a, { localKey: k1, remotePeer: peerIdFromPrivateKey(k2) }),
        security.secureInbound(b, { localKey: k2 })
      ])
      assert.ok(s.remotePeer.equals(peerIdFromPrivateKey(k1)))
      assert.ok(c.remotePublicKey.equals(k2.publicKey))
      closeAll(c, s)
    })
  }

  it('negotiates the muxer through ALPN in the client\'s order of preference', async () => {
    const [c, s] = await memoryHandshake({ client: { muxers: [YAMUX, MPLEX] }, server: { muxers: [MPLEX, YAMUX] } })
    assert.equal(c.muxer, YAMUX)
    assert.equal(s.muxer, YAMUX)
    closeAll(c, s)
    const [c2, s2] = await memoryHandshake({ client: { muxers: [MPLEX, YAMUX] }, server: { muxers: [YAMUX, MPLEX] } })
    assert.equal(c2.muxer, MPLEX)
    assert.equal(s2.muxer, MPLEX)
    closeAll(c2, s2)
  })

  it('falls back to "libp2p" (muxer undefined) without a shared muxer, or when either side offers none', async () => {
    const cases: Sides[] = [
      { client: { muxers: [YAMUX] }, server: { muxers: [MPLEX] } },
      { client: { muxers: [YAMUX] } },
      { server: { muxers: [YAMUX] } },
      { client: { muxers: [] }, server: { muxers: [] } },
      // "libp2p" in the muxer list is not a muxer; it is always last.
      { client: { muxers: [LIBP2P_ALPN, YAMUX] }, server: { muxers: [LIBP2P_ALPN] } }
    ]
    for (const sides of cases) {
      const [c, s] = await memoryHandshake(sides)
      assert.equal(c.muxer, undefined, JSON.stringify(sides))
      assert.equal(s.muxer, undefined, JSON.stringify(sides))
      closeAll(c, s)
    }
  })

  it('sends a TLS 1.3-only ClientHello without SNI, offering the muxers then "libp2p"', async () => {
    const [a, b] = MemoryChannel.pair()
    const outbound = security.secureOutbound(a, { localKey: clientKey, muxers: [YAMUX, MPLEX] })
    outbound.catch(() => {})
    const got = collect(b)
    const header = await got.waitFor(5)
    const length = header.readUInt16BE(3)
    const hello = await got.waitFor(5 + length)
    const exts = clientHelloExtensions(hello)
    assert.equal(exts.has(0), false, 'server_name (SNI) must not be sent')
    assert.deepEqual(alpnList(exts.get(16) as Uint8Array), [YAMUX, MPLEX, LIBP2P_ALPN])
    // supported_versions (43): a length byte, then only 0x0304 (TLS 1.3).
    assert.deepEqual([...(exts.get(43) as Uint8Array)], [2, 3, 4])
    b.destroy()
    await rejectsWith(outbound, 'ERR_HANDSHAKE_FAILED')
  })

  it('server aborts when the client offers no application protocol it supports', async () => {
    const [a, b] = MemoryChannel.pair()
    const cert = createCertificate(clientKey)
    const client = rawClient(a, { ...cert, alpn: ['h2'] })
    await rejectsWith(security.secureInbound(b, { localKey: serverKey, muxers: [YAMUX] }), 'ERR_HANDSHAKE_FAILED', /application protocol|ALPN/i)
    client.destroy()
  })

  it('fails with ERR_UNEXPECTED_PEER when the remote is not the peer expected', async () => {
    const [a, b] = MemoryChannel.pair()
    const wrong = peerIdFromPrivateKey(generateKeyPair('Ed25519'))
    const inbound = security.secureInbound(b, { localKey: serverKey })
    const err = await rejectsWith(security.secureOutbound(a, { localKey: clientKey, remotePeer: wrong }), 'ERR_UNEXPECTED_PEER')
    assert.match(err.message, new RegExp(serverId.toString()))
    // The server may finish its side of TLS 1.3 before the client gives up; either way
    // its channel does not outlive the client's rejection.
    await inbound.then(async (s) => { await collect(s.channel).closedP }, () => {})
    assert.equal(a.closed, true)

    const [a2, b2] = MemoryChannel.pair()
    const outbound2 = security.secureOutbound(a2, { localKey: clientKey })
    await rejectsWith(security.secureInbound(b2, { localKey: serverKey, remotePeer: wrong }), 'ERR_UNEXPECTED_PEER')
    await outbound2.then(async (c) => { await collect(c.channel).closedP }, () => {})
  })

  it('carries 4 MiB each way intact', async () => {
    const [c, s] = await memoryHandshake()
    await transferBothWays(c, s, 4 * 1024 * 1024)
    closeAll(c, s)
  })

  it('propagates a half-close while the other direction stays open, then closes', async () => {
    const [c, s] = await memoryHandshake()
    const atServer = collect(s.channel)
    const atClient = collect(c.channel)
    c.channel.write(Buffer.from('last words'))
    c.channel.end()
    await atServer.waitFor(10)
    while (!atServer.ended) await tick()
    s.channel.write(Buffer.from('reply'))
    assert.equal((await atClient.waitFor(5)).toString(), 'reply')
    s.channel.end()
    await Promise.all([atServer.closedP, atClient.closedP])
  })

  it('completes under arbitrary re-chunking of every write (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
      let i = 0
      const chunking = (length: number): number[] => {
        const out: number[] = []
        for (let n = 0; n < length; n += out[out.length - 1] as number) out.push(sizes[i++ % sizes.length] as number)
        return out
      }
      const [c, s] = await memoryHandshake({ client: { muxers: [YAMUX] }, server: { muxers: [YAMUX] } }, { chunking })
      assert.equal(c.muxer, YAMUX)
      const got = collect(s.channel)
      c.channel.write(Buffer.from('x'.repeat(5000)))
      assert.equal((await got.waitFor(5000)).length, 5000)
      closeAll(c, s)
    }), { numRuns: 8 })
  })
})

describe('TLS handshake failures', () => {
  it('rejects an already aborted signal and destroys the channel', async () => {
    const [a] = MemoryChannel.pair()
    const ac = new AbortController()
    ac.abort()
    await rejectsWith(security.secureOutbound(a, { localKey: clientKey, signal: ac.signal }), 'ERR_ABORTED')
    assert.equal(a.closed, true)
  })

  it('aborts a handshake in progress with ERR_ABORTED (or the signal\'s own typed reason)', async () => {
    const [a, b] = MemoryChannel.pair()
    const silent = collect(b) // the remote never answers
    const ac = new AbortController()
    const p = security.secureOutbound(a, { localKey: clientKey, signal: ac.signal })
    await silent.waitFor(1)
    ac.abort()
    await rejectsWith(p, 'ERR_ABORTED')
    await silent.closedP

    const [a2, b2] = MemoryChannel.pair()
    collect(a2)
    const ac2 = new AbortController()
    const p2 = security.secureInbound(b2, { localKey: serverKey, signal: ac2.signal })
    ac2.abort(new TimeoutError('handshake timed out'))
    await rejectsWith(p2, 'ERR_TIMEOUT')
    void AbortError
  })

  it('rejects garbage instead of a ClientHello, and instead of a ServerHello', async () => {
    const [a, b] = MemoryChannel.pair()
    collect(a)
    const inbound = security.secureInbound(b, { localKey: serverKey })
    a.write(Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'))
    await rejectsWith(inbound, 'ERR_HANDSHAKE_FAILED', /TLS handshake failed/)
    assert.equal(b.closed, true)

    const [a2, b2] = MemoryChannel.pair()
    const outbound = security.secureOutbound(a2, { localKey: clientKey })
    const hello = collect(b2)
    await hello.waitFor(1)
    b2.write(randomBytes(400))
    await rejectsWith(outbound, 'ERR_HANDSHAKE_FAILED')
  })

  it('rejects any random garbage with a typed error (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 600 }), async (junk) => {
      const [a, b] = MemoryChannel.pair()
      collect(a)
      const inbound = security.secureInbound(b, { localKey: serverKey })
      a.write(junk)
      a.end()
      await rejectsWith(inbound, 'ERR_HANDSHAKE_FAILED')
    }), { numRuns: 25 })
  })

  it('rejects a connection closed during the handshake', async () => {
    const [a, b] = MemoryChannel.pair()
    const inbound = security.secureInbound(b, { localKey: serverKey })
    a.destroy()
    await rejectsWith(inbound, 'ERR_HANDSHAKE_FAILED', /closed/)
  })

  it('refuses TLS 1.2, as client and as server', async () => {
    const [a, b] = MemoryChannel.pair()
    const client = rawClient(a, { ...createCertificate(clientKey), tls12: true })
    await rejectsWith(security.secureInbound(b, { localKey: serverKey }), 'ERR_HANDSHAKE_FAILED', /unsupported protocol/i)
    client.destroy()

    const [a2, b2] = MemoryChannel.pair()
    const cert = createCertificate(serverKey)
    const server = new TLSSocket(new ChannelDuplex(b2), {
      isServer: true,
      secureContext: createSecureContext({ cert: cert.certPem, key: cert.keyPem, maxVersion: 'TLSv1.2' }),
      requestCert: true,
      rejectUnauthorized: false
    })
    server.on('error', () => {})
    await rejectsWith(security.secureOutbound(a2, { localKey: clientKey }), 'ERR_HANDSHAKE_FAILED', /version|protocol/i)
    server.destroy()
  })

  it('rejects a client that presents no certificate', async () => {
    const [a, b] = MemoryChannel.pair()
    const client = rawClient(a, {})
    await rejectsWith(security.secureInbound(b, { localKey: serverKey }), 'ERR_HANDSHAKE_FAILED', /no certificate/)
    client.destroy()
  })

  it('rejects a client that presents two certificates', async () => {
    const [a, b] = MemoryChannel.pair()
    const cert = createCertificate(clientKey)
    const client = rawClient(a, { certPem: cert.certPem + cert.certPem, keyPem: cert.keyPem })
    await rejectsWith(security.secureInbound(b, { localKey: serverKey }), 'ERR_HANDSHAKE_FAILED', /2 certificates/)
    client.destroy()
  })

  it('rejects a client whose extension was signed by another host key', async () => {
    const [a, b] = MemoryChannel.pair()
    const forged = buildCertificate({ hostKey: clientKey, extensionSigner: generateKeyPair('Ed25519') })
    const client = rawClient(a, forged)
    await rejectsWith(security.secureInbound(b, { localKey: serverKey }), 'ERR_HANDSHAKE_FAILED', /does not verify/)
    client.destroy()
  })

  it('rejects a server certificate that is not yet valid or expired by its clock', async () => {
    const century = 101 * 365 * 24 * 3600 * 1000
    // A server whose clock is a century ahead (its certificate starts then) or behind
    // (its 100-year certificate ended a year ago).
    for (const [skew, pattern] of [[century, /not yet valid/], [-century, /expired/]] as const) {
      const skewed = tls({ now: () => Date.now() + skew })
      const [a, b] = MemoryChannel.pair()
      const inbound = skewed.secureInbound(b, { localKey: generateKeyPair('Ed25519') })
      inbound.catch(() => {})
      await rejectsWith(security.secureOutbound(a, { localKey: clientKey }), 'ERR_HANDSHAKE_FAILED', pattern)
    }
  })

  it('rejects an expired client certificate', async () => {
    const [a, b] = MemoryChannel.pair()
    const expired = buildCertificate({ hostKey: clientKey, notBefore: Date.UTC(2000, 0, 1), notAfter: Date.UTC(2001, 0, 1) })
    const client = rawClient(a, expired)
    await rejectsWith(security.secureInbound(b, { localKey: serverKey }), 'ERR_HANDSHAKE_FAILED', /expired/)
    client.destroy()
  })

  it('validates its arguments', () => {
    assert.throws(() => tls({ maxCertificateBytes: 0 }), RangeError)
    const [a] = MemoryChannel.pair()
    return assert.rejects(security.secureOutbound(a, { localKey: clientKey, muxers: ['x'.repeat(256)] }), RangeError)
  })
})

describe('TLS handshake over TCP', () => {
  it('authenticates, negotiates the muxer and carries 8 MiB each way over the taken-over socket', async () => {
    const { client, server } = await tcpPair()
    const [c, s] = await handshake(client, server, { client: { remotePeer: serverId, muxers: [YAMUX] }, server: { muxers: [MPLEX, YAMUX] } })
    assert.ok(c.remotePeer.equals(serverId))
    assert.ok(s.remotePeer.equals(clientId))
    assert.equal(c.muxer, YAMUX)
    assert.equal(s.muxer, YAMUX)
    assert.deepEqual(c.channel.remoteAddr, client.remoteAddr)
    await transferBothWays(c, s, 8 * 1024 * 1024)
    // TLS close_notify both ways, then the TCP connection closes.
    const atServer = collect(s.channel)
    const atClient = collect(c.channel)
    c.channel.end()
    while (!atServer.ended) await tick()
    s.channel.end()
    await Promise.all([atServer.closedP, atClient.closedP])
    assert.equal(atServer.closeError, undefined)
  })

  it('hands bytes read past a preceding negotiation to TLS (lazy multistream-select)', async () => {
    const { client, server } = await tcpPair()
    const lazy = lazySelectOnChannel(client, TLS_PROTOCOL)
    const outbound = security.secureOutbound(lazy, { localKey: clientKey, muxers: [YAMUX] })
    const agreed = await handleOnChannel(server, { isSupported: (p) => p === TLS_PROTOCOL })
    assert.equal(agreed, TLS_PROTOCOL)
    const [c, s] = await Promise.all([outbound, security.secureInbound(server, { localKey: serverKey, muxers: [YAMUX] })])
    assert.equal(s.muxer, YAMUX)
    const got = collect(s.channel)
    c.channel.write(Buffer.from('after lazy negotiation'))
    assert.equal((await got.waitFor(22)).toString(), 'after lazy negotiation')
    closeAll(c, s)
  })

  it('gives TLS the ClientHello bytes a previous layer unshifted into the socket channel', async () => {
    const { client, server, clientSocket } = await tcpPair()
    const prefix = Buffer.from('PREFIX:')
    clientSocket.write(prefix)
    const outbound = security.secureOutbound(client, { localKey: clientKey })
    // Read until the prefix and at least one ClientHello byte are in, then give the
    // rest back, as a negotiation that read past its end does.
    const rest = await new Promise<Uint8Array>((resolve) => {
      const chunks: Buffer[] = []
      server.attach({
        onData (chunk) {
          chunks.push(Buffer.from(chunk))
          const all = Buffer.concat(chunks)
          if (all.length > prefix.length) {
            server.detach()
            resolve(all.subarray(prefix.length))
          }
        },
        onEnd () {},
        onClose () {},
        onDrain () {}
      })
    })
    assert.equal(rest[0], 22, 'a TLS handshake record follows the prefix')
    server.unshift(rest)
    const [c, s] = await Promise.all([outbound, security.secureInbound(server, { localKey: serverKey })])
    assert.ok(s.remotePeer.equals(clientId))
    closeAll(c, s)
  })

  it('rejects garbage and a handshake aborted mid-way with typed errors', async () => {
    const { client, server, clientSocket } = await tcpPair()
    const inbound = security.secureInbound(server, { localKey: serverKey })
    clientSocket.write(randomBytes(1000))
    await rejectsWith(inbound, 'ERR_HANDSHAKE_FAILED')
    client.destroy()

    const pair = await tcpPair()
    const ac = new AbortController()
    const p = security.secureOutbound(pair.client, { localKey: clientKey, signal: ac.signal })
    const silent = collect(pair.server)
    await silent.waitFor(1)
    ac.abort()
    await rejectsWith(p, 'ERR_ABORTED')
    // The client's socket is gone: the server sees the TCP FIN (half-open sockets).
    while (!silent.ended && !silent.closed) await tick()
    pair.server.destroy()
  })

  it('reuses one certificate per host key', async () => {
    const key: PrivateKey = generateKeyPair('Ed25519')
    const seen = new Set<string>()
    for (let i = 0; i < 2; i++) {
      const [a, b] = MemoryChannel.pair()
      const [c, s] = await Promise.all([
        security.secureOutbound(a, { localKey: key }),
        security.secureInbound(b, { localKey: serverKey })
      ])
      const tlsSocket = (s.channel as unknown as { socket: TLSSocket }).socket
      seen.add(Buffer.from(tlsSocket.getPeerX509Certificate()?.raw ?? []).toString('hex'))
      closeAll(c, s)
    }
    assert.equal(seen.size, 1)
  })
})
