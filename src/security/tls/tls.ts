/**
 * The libp2p TLS 1.3 security protocol, `/tls/1.0.0` (`specs/tls.md`), on node:tls.
 *
 * - TLS 1.3 only ("Endpoints MUST NOT negotiate lower TLS versions").
 * - Both sides present a certificate ({@link createCertificate}); the server requests
 *   the client's ("servers MUST require client authentication").
 * - node:tls runs with `rejectUnauthorized: false` and a `checkServerIdentity` that
 *   accepts anything: the libp2p certificate is self-signed with an extension OpenSSL
 *   does not know, so every check is ours ({@link verifyCertificateChain}), run as
 *   soon as the handshake completes, before any application byte is delivered.
 * - No SNI ("clients ... MUST NOT send any value in the Server Name Indication").
 * - ALPN carries the inlined muxer negotiation
 *   (`connections/inlined-muxer-negotiation.md`): the client offers its muxers in
 *   preference order followed by `"libp2p"`; the server picks the first of the
 *   client's entries it supports, and aborts the handshake when there is none
 *   (`specs/tls.md`, "ALPN"). `"libp2p"` (or no ALPN at all) means: negotiate the
 *   muxer with multistream-select afterwards.
 *
 * The certificate and the node SecureContext are made once per host key and reused
 * for every connection, which the spec allows ("MAY reuse the same key and
 * certificate"); a certificate nears its end only after ~100 years, but it is renewed
 * when less than a day of validity is left.
 *
 * Driver code: node:tls owns the handshake.
 */
import { connect as tlsConnect, createSecureContext, TLSSocket, type SecureContext } from 'node:tls'
import type { Duplex } from 'node:stream'
import type { ByteChannel } from '../../interfaces/channel.js'
import type { PrivateKey } from '../../interfaces/keys.js'
import type { SecureOptions, SecureResult, SecurityProtocol } from '../../interfaces/security.js'
import { SocketChannel } from '../../transport/socket-channel.js'
import { ChannelDuplex, hasTakeableSocket, takeOverSocket } from './channel-duplex.js'
import { createCertificate, type LocalCertificate } from './certificate.js'
import { verifyCertificateChain } from './verify.js'
import { DEFAULT_MAX_CERTIFICATE_BYTES } from './x509.js'
import { abortErrorFrom, codes, invalidArgType, invalidArgValue, isLp2pError, Lp2pError } from '../../errors.js'

/** `specs/tls.md`, "Handshake Protocol". */
export const TLS_PROTOCOL = '/tls/1.0.0'

/** `specs/tls.md`, "ALPN": always the last ALPN entry. */
export const LIBP2P_ALPN = 'libp2p'

/** RFC 7301 3.1: an ALPN protocol name is 1 to 255 bytes. */
const MAX_ALPN_BYTES = 255

/** Renew the cached certificate when less than this validity is left (one day). */
const CERTIFICATE_RENEW_MARGIN_MS = 24 * 60 * 60 * 1000

export interface TlsOptions {
  /**
   * The clock, in ms since the epoch, for certificate creation and for the validity
   * check of the peer's certificate. Default `Date.now`.
   */
  now?: () => number
  /** Largest peer certificate accepted (default 16 KiB, see `x509.ts`). */
  maxCertificateBytes?: number
}

interface LocalIdentity {
  readonly certificate: LocalCertificate
  readonly context: SecureContext
}

function validateMuxers (muxers: readonly string[] | undefined): string[] {
  if (muxers === undefined) return []
  if (!Array.isArray(muxers)) throw invalidArgType('options.muxers', 'an array of strings', muxers)
  const out: string[] = []
  for (const m of muxers) {
    if (typeof m !== 'string') throw invalidArgType('options.muxers[]', 'a string', m)
    const n = Buffer.byteLength(m)
    if (n === 0 || n > MAX_ALPN_BYTES) throw invalidArgValue('options.muxers[]', `must be 1 to ${MAX_ALPN_BYTES} bytes as an ALPN protocol id`)
    // "libp2p" is not a muxer: it is always appended last by us.
    if (m !== LIBP2P_ALPN && !out.includes(m)) out.push(m)
  }
  return out
}

function handshakeError (message: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_HANDSHAKE_FAILED, message, { cause })
}

class TlsSecurity implements SecurityProtocol {
  readonly protocol = TLS_PROTOCOL
  readonly #now: () => number
  readonly #maxCertificateBytes: number
  readonly #identities = new WeakMap<PrivateKey, LocalIdentity>()

  constructor (options: TlsOptions) {
    this.#now = options.now ?? Date.now
    this.#maxCertificateBytes = options.maxCertificateBytes ?? DEFAULT_MAX_CERTIFICATE_BYTES
    if (!Number.isSafeInteger(this.#maxCertificateBytes) || this.#maxCertificateBytes <= 0) {
      throw invalidArgValue('options.maxCertificateBytes', 'must be a positive integer')
    }
  }

  async secureOutbound (channel: ByteChannel, options: SecureOptions): Promise<SecureResult> {
    return await this.#secure(channel, options, false)
  }

  async secureInbound (channel: ByteChannel, options: SecureOptions): Promise<SecureResult> {
    return await this.#secure(channel, options, true)
  }

  #identity (key: PrivateKey): LocalIdentity {
    const now = this.#now()
    let id = this.#identities.get(key)
    if (id === undefined || id.certificate.notAfter - now < CERTIFICATE_RENEW_MARGIN_MS) {
      const certificate = createCertificate(key, { now })
      const context = createSecureContext({
        cert: certificate.certPem,
        key: certificate.keyPem,
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3'
      })
      id = { certificate, context }
      this.#identities.set(key, id)
    }
    return id
  }

  async #secure (channel: ByteChannel, options: SecureOptions, isServer: boolean): Promise<SecureResult> {
    const muxers = validateMuxers(options.muxers)
    const signal = options.signal
    if (signal?.aborted === true) {
      channel.destroy()
      throw abortReason(signal)
    }
    const { context } = this.#identity(options.localKey)

    let transport: Duplex
    if (hasTakeableSocket(channel)) {
      try {
        transport = await takeOverSocket(channel)
      } catch (err) {
        channel.destroy()
        throw err
      }
      if (isAborted(signal)) {
        channel.destroy()
        throw abortReason(signal)
      }
    } else {
      transport = new ChannelDuplex(channel)
    }

    let socket: TLSSocket
    if (isServer) {
      socket = new TLSSocket(transport, {
        isServer: true,
        secureContext: context,
        requestCert: true,
        rejectUnauthorized: false,
        // The client's preference wins (inlined-muxer-negotiation.md: "The server
        // SHOULD respect the client's preference"); undefined aborts the handshake
        // with no_application_protocol (tls.md, "ALPN").
        ALPNCallback: ({ protocols }) => protocols.find((p) => p === LIBP2P_ALPN || muxers.includes(p))
      })
    } else {
      socket = tlsConnect({
        socket: transport,
        secureContext: context,
        rejectUnauthorized: false,
        // Our own verification replaces the host name check; no servername: no SNI.
        checkServerIdentity: () => undefined,
        ALPNProtocols: [...muxers, LIBP2P_ALPN]
      })
    }
    return await this.#handshake(channel, socket, options, muxers, isServer)
  }

  async #handshake (
    channel: ByteChannel,
    socket: TLSSocket,
    options: SecureOptions,
    muxers: readonly string[],
    isServer: boolean
  ): Promise<SecureResult> {
    const signal = options.signal
    return await new Promise<SecureResult>((resolve, reject) => {
      let lastError: Error | undefined
      let settled = false
      const cleanup = (): void => {
        settled = true
        socket.off(isServer ? 'secure' : 'secureConnect', onSecure)
        socket.off('error', onError)
        socket.off('_tlsError', onError)
        socket.off('close', onClose)
        socket.off('end', onEnd)
        signal?.removeEventListener('abort', onAbort)
      }
      const failWith = (err: Error): void => {
        if (settled) return
        cleanup()
        // Late errors from the dying socket must not become uncaught exceptions.
        socket.on('error', () => {})
        socket.destroy()
        channel.destroy()
        reject(err)
      }
      const onError = (err: Error): void => {
        lastError ??= err
        failWith(isLp2pError(err, codes.ERR_CONNECTION_CLOSED)
          ? handshakeError(`the connection closed during the TLS handshake: ${err.message}`, err)
          : handshakeError(`TLS handshake failed: ${describeTlsError(err)}`, err))
      }
      const onClose = (): void => {
        failWith(handshakeError('the connection closed during the TLS handshake', lastError))
      }
      // With allowHalfOpen a remote half-close does not close the socket by itself, and
      // a handshake cannot finish without the remote's next flight.
      const onEnd = (): void => {
        failWith(handshakeError('the remote closed its side during the TLS handshake', lastError))
      }
      const onAbort = (): void => {
        if (signal !== undefined) failWith(abortReason(signal))
      }
      const onSecure = (): void => {
        if (settled) return
        let result: SecureResult
        try {
          result = this.#authenticate(channel, socket, options, muxers)
        } catch (err) {
          failWith(err as Error)
          return
        }
        cleanup()
        resolve(result)
      }
      socket.on(isServer ? 'secure' : 'secureConnect', onSecure)
      socket.on('error', onError)
      socket.on('_tlsError', onError)
      socket.on('close', onClose)
      socket.on('end', onEnd)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Runs after the TLS handshake: verify the peer, settle the muxer, wrap the socket. */
  #authenticate (channel: ByteChannel, socket: TLSSocket, options: SecureOptions, muxers: readonly string[]): SecureResult {
    const verified = verifyCertificateChain(peerChain(socket), {
      now: this.#now(),
      maxCertificateBytes: this.#maxCertificateBytes,
      // The leaf as OpenSSL decoded it: its key is the one CertificateVerify proved.
      certificateKey: socket.getPeerX509Certificate()?.publicKey
    })
    if (options.remotePeer !== undefined && !options.remotePeer.equals(verified.peerId)) {
      throw new Lp2pError(codes.ERR_UNEXPECTED_PEER,
        `expected peer ${options.remotePeer.toString()} but the remote authenticated as ${verified.peerId.toString()}`)
    }
    const alpn = socket.alpnProtocol
    let muxer: string | undefined
    if (typeof alpn === 'string' && alpn !== LIBP2P_ALPN) {
      // OpenSSL already refuses a server choice outside the client's list; the server
      // side only ever picks from ours. Checked anyway: it decides how bytes are read.
      if (!muxers.includes(alpn)) throw handshakeError(`the peer selected ALPN "${alpn}", which we did not offer`)
      muxer = alpn
    }
    const secured = new SocketChannel(socket, channel.remoteAddr, channel.localAddr)
    const result: SecureResult = { channel: secured, remotePeer: verified.peerId, remotePublicKey: verified.publicKey }
    if (muxer !== undefined) result.muxer = muxer
    return result
  }
}

/**
 * The certificates the peer sent, leaf first. node exposes the chain only as a linked
 * list of issuers it could match among the received certificates, ending in a
 * self-reference for a self-signed certificate; a second certificate that matches
 * nothing is invisible here (a limit of node's API, harmless: the leaf still has to
 * pass every check, and TLS proved the peer holds its key).
 */
function peerChain (socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = []
  let cert = socket.getPeerCertificate(true)
  // An empty object when the peer sent no certificate.
  while (cert !== undefined && cert !== null && cert.raw !== undefined) {
    chain.push(cert.raw)
    // Four is enough to tell "more than one"; a loop on a hostile chain stops here.
    if (chain.length > 4) break
    const next = cert.issuerCertificate
    if (next === undefined || next === cert) break
    cert = next
  }
  return chain
}

/** OpenSSL errors carry a short `reason` ("wrong version number") beside a long message. */
function describeTlsError (err: Error): string {
  const reason = (err as { reason?: unknown }).reason
  return typeof reason === 'string' && reason.length > 0 ? reason : err.message
}

function isAborted (signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true
}

function abortReason (signal: AbortSignal): Lp2pError {
  return signal.reason instanceof Lp2pError ? signal.reason : abortErrorFrom(signal)
}

/**
 * The libp2p TLS security protocol (`/tls/1.0.0`), for the upgrader:
 * `secureOutbound(channel, { localKey, remotePeer?, muxers?, signal? })` and
 * `secureInbound(...)`, each resolving to the encrypted channel, the authenticated
 * peer and the muxer agreed through ALPN, if any.
 */
export function tls (options: TlsOptions = {}): SecurityProtocol {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options)
  return new TlsSecurity(options)
}
