/**
 * The QUIC engine adapter: the one file that knows the native engine's API. Every
 * other file of `transport/quic/` speaks to the {@link QuicEngine} interface below.
 *
 * The engine is ChainSafe's prebuilt N-API module for js-libp2p (quinn for QUIC v1,
 * RFC 9000, and rust-libp2p's `libp2p-tls` for the certificate and its verification,
 * `specs/tls.md`), loaded without js-libp2p: its platform package alone
 * (`@chainsafe/libp2p-quic-<platform>`). Its API is internal to that project and
 * changes between versions (2.1.4 requires `shutdownTimeout`, which 2.1.1 did not
 * know), so the version is pinned exactly and checked at load time.
 *
 * Loaded lazily, on the first dial or listen of a QUIC address: a node on a platform
 * without the package starts and runs its other transports, and a QUIC address fails
 * with `ERR_TRANSPORT_UNAVAILABLE` naming the package that is missing.
 *
 * What the engine does not give us (recorded in ARCHITECTURE.md): the peer's
 * certificate (only its peer id, so an RSA or ECDSA peer's public key comes from
 * identify), a separate handshake timeout (`handshakeTimeout` is ignored; the idle
 * timeout bounds a handshake), Retry packets, and ECDSA host keys (its
 * `libp2p-identity` is built without the `ecdsa` feature).
 */
import { createRequire } from 'node:module'
import { codes, Lp2pError } from '../../errors.js'

/** The platform packages lp2p is tested with, by platform key, each at its exact version. */
export const ENGINE_PACKAGES: Readonly<Record<string, string>> = {
  'linux-x64-gnu': '2.1.4'
}

/** Engine settings (see `config.ts` for their meaning and defaults). */
export interface EngineSettings {
  handshakeTimeout: number
  maxIdleTimeout: number
  keepAliveInterval: number
  maxConcurrentStreamLimit: number
  maxStreamData: number
  maxConnectionData: number
  receiveBufferSize: number
  sendBufferSize: number
  shutdownTimeout: number
}

declare const brand: unique symbol
/** Opaque engine handles: only this file looks inside. */
export interface EngineConfig { readonly [brand]: 'config' }
export interface EngineServer { readonly [brand]: 'server' }
export interface EngineClient { readonly [brand]: 'client' }
export interface EngineConnection { readonly [brand]: 'connection' }
export interface EngineStream { readonly [brand]: 'stream' }

export interface QuicEngine {
  /** `@chainsafe/libp2p-quic-<platform>@<version>`, for messages. */
  readonly name: string
  /** A config (certificate included) from a protobuf `PrivateKey`; throws ERR_INVALID_KEY for a key type the engine lacks. */
  config (privateKeyProto: Uint8Array, settings: EngineSettings): EngineConfig
  /** Binds a UDP socket and accepts QUIC on it; throws ERR_LISTEN_FAILED. */
  listen (config: EngineConfig, host: string, port: number): EngineServer
  port (server: EngineServer): number
  /** The next inbound connection, handshake done (several may be awaited at once). */
  accept (server: EngineServer): Promise<EngineConnection>
  /** Closes the endpoint and its connections, then unbinds. */
  closeServer (server: EngineServer): Promise<void>
  /** A client endpoint on an ephemeral port of the family; throws ERR_TRANSPORT_DIAL_FAILED. */
  client (config: EngineConfig, family: 4 | 6): EngineClient
  connect (client: EngineClient, host: string, port: number): Promise<EngineConnection>
  closeClient (client: EngineClient): void
  /** `/ip4|ip6/<host>/udp/<port>/quic-v1/p2p/<id>`: the remote, with the peer id its certificate proved. */
  remoteAddr (conn: EngineConnection): string
  /** Opens a bidirectional stream; waits while the remote's stream limit is reached. */
  openStream (conn: EngineConnection): Promise<EngineStream>
  acceptStream (conn: EngineConnection): Promise<EngineStream>
  /** Closes the connection now (CONNECTION_CLOSE, application code 0). */
  close (conn: EngineConnection): void
  /** Resolves when the connection is closed, for whatever reason. */
  closed (conn: EngineConnection): Promise<void>
  /** The stream's index among the streams of its initiator and type (RFC 9000 §2.1: id >> 2). */
  streamIndex (stream: EngineStream): number
  /** Up to `max` bytes; null at the remote's FIN. */
  read (stream: EngineStream, max: number): Promise<Uint8Array | null>
  /** Resolves once the engine holds all of `data` (within the remote's flow-control credit). */
  write (stream: EngineStream, data: Uint8Array): Promise<void>
  /** Our FIN, after everything written. */
  finish (stream: EngineStream): void
  /** RESET_STREAM our side and STOP_SENDING theirs. */
  reset (stream: EngineStream): void
  /** STOP_SENDING only: we read no more; our side finishes normally. */
  stopReading (stream: EngineStream): void
}

/**
 * Turns an engine failure into one of our errors. The engine reports every failure
 * with code `Unknown` and quinn's message text, so the message is all there is.
 */
export function engineError (err: unknown, what: string): Lp2pError {
  if (err instanceof Lp2pError) return err
  const message = err instanceof Error ? err.message : String(err)
  let code: Lp2pError['code'] = codes.ERR_CONNECTION_CLOSED
  if (/reset by peer|stopped by peer/.test(message)) code = codes.ERR_STREAM_RESET
  else if (/certificate|handshake failed|crypto|peer id/i.test(message)) code = codes.ERR_HANDSHAKE_FAILED
  return new Lp2pError(code, `${what}: ${message}`, { cause: err })
}

/** The platform key of this process: `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`. */
export function platformKey (): string {
  const base = `${process.platform}-${process.arch}`
  if (process.platform === 'win32') return `${base}-msvc`
  if (process.platform !== 'linux') return base
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
  return `${base}-${report?.header?.glibcVersionRuntime !== undefined ? 'gnu' : 'musl'}`
}

let loaded: QuicEngine | Lp2pError | undefined

/**
 * The engine, loaded on first use (once per process).
 * @throws ERR_TRANSPORT_UNAVAILABLE naming the missing or mismatched package.
 */
export function loadEngine (): QuicEngine {
  if (loaded === undefined) {
    try {
      loaded = load()
    } catch (err) {
      loaded = err instanceof Lp2pError ? err : unavailable(String(err), err)
    }
  }
  if (loaded instanceof Lp2pError) throw loaded
  return loaded
}

function load (): QuicEngine {
  const key = platformKey()
  const version = ENGINE_PACKAGES[key]
  const pkg = `@chainsafe/libp2p-quic-${key}`
  if (version === undefined) {
    throw unavailable(`no QUIC engine is known to work on ${key} (tested: ${Object.keys(ENGINE_PACKAGES).map((k) => `@chainsafe/libp2p-quic-${k}`).join(', ')})`)
  }
  const require = createRequire(import.meta.url)
  let installed: string
  try {
    installed = (require(`${pkg}/package.json`) as { version: string }).version
  } catch (err) {
    throw unavailable(`the QUIC engine ${pkg}@${version} is not installed (it is an optional dependency: \`npm install ${pkg}@${version}\`)`, err)
  }
  if (installed !== version) {
    throw unavailable(`${pkg}@${installed} is installed but lp2p needs exactly ${version} (the engine's native API changes between versions)`)
  }
  let binding: NativeBinding
  try {
    binding = require(pkg) as NativeBinding
  } catch (err) {
    throw unavailable(`${pkg}@${version} failed to load: ${(err as Error).message}`, err)
  }
  return new NativeEngine(binding, `${pkg}@${version}`)
}

function unavailable (message: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_TRANSPORT_UNAVAILABLE, `QUIC is unavailable: ${message}`, cause !== undefined ? { cause } : undefined)
}

// --- the native module (2.1.x) ----------------------------------------------------

interface NativeStream {
  id (): string
  read (max: number): Promise<Uint8Array | null>
  write (data: Uint8Array): Promise<void>
  finishWrite (): unknown
  resetWrite (): unknown
  stopRead (): unknown
}
interface NativeConnection {
  inboundStream (): Promise<NativeStream>
  outboundStream (): Promise<NativeStream>
  abort (): void
  remoteMultiaddr (): string
  closed (): Promise<void>
}
interface NativeServer {
  port (): number
  inboundConnection (): Promise<NativeConnection>
  abort (): Promise<void>
}
interface NativeClient {
  outboundConnection (ip: string, port: number): Promise<NativeConnection>
  abort (): void
}
interface NativeBinding {
  QuinnConfig: new (config: EngineSettings & { privateKeyProto: Uint8Array }) => object
  Server: new (config: object, ip: string, port: number) => NativeServer
  Client: new (config: object, family: number) => NativeClient
}

/** `finishWrite` and friends return a promise in 2.1.4 and nothing in older builds: never let one reject unhandled. */
function settle (result: unknown): void {
  if (result instanceof Promise) result.catch(() => {})
}

class NativeEngine implements QuicEngine {
  readonly name: string
  readonly #n: NativeBinding

  constructor (binding: NativeBinding, name: string) {
    this.#n = binding
    this.name = name
  }

  config (privateKeyProto: Uint8Array, settings: EngineSettings): EngineConfig {
    try {
      return new this.#n.QuinnConfig({ ...settings, privateKeyProto }) as unknown as EngineConfig
    } catch (err) {
      throw new Lp2pError(codes.ERR_INVALID_KEY, `the QUIC engine (${this.name}) cannot use this identity key: ${(err as Error).message}`, { cause: err })
    }
  }

  listen (config: EngineConfig, host: string, port: number): EngineServer {
    return new this.#n.Server(config, host, port) as unknown as EngineServer
  }

  port (server: EngineServer): number { return (server as unknown as NativeServer).port() }
  async accept (server: EngineServer): Promise<EngineConnection> {
    return await (server as unknown as NativeServer).inboundConnection() as unknown as EngineConnection
  }

  async closeServer (server: EngineServer): Promise<void> { await (server as unknown as NativeServer).abort() }
  client (config: EngineConfig, family: 4 | 6): EngineClient {
    return new this.#n.Client(config, family === 4 ? 0 : 1) as unknown as EngineClient
  }

  async connect (client: EngineClient, host: string, port: number): Promise<EngineConnection> {
    return await (client as unknown as NativeClient).outboundConnection(host, port) as unknown as EngineConnection
  }

  closeClient (client: EngineClient): void { (client as unknown as NativeClient).abort() }
  remoteAddr (conn: EngineConnection): string { return (conn as unknown as NativeConnection).remoteMultiaddr() }
  async openStream (conn: EngineConnection): Promise<EngineStream> {
    return await (conn as unknown as NativeConnection).outboundStream() as unknown as EngineStream
  }

  async acceptStream (conn: EngineConnection): Promise<EngineStream> {
    return await (conn as unknown as NativeConnection).inboundStream() as unknown as EngineStream
  }

  close (conn: EngineConnection): void { (conn as unknown as NativeConnection).abort() }
  async closed (conn: EngineConnection): Promise<void> { await (conn as unknown as NativeConnection).closed() }
  streamIndex (stream: EngineStream): number { return Number((stream as unknown as NativeStream).id()) }
  async read (stream: EngineStream, max: number): Promise<Uint8Array | null> {
    return await (stream as unknown as NativeStream).read(max)
  }

  async write (stream: EngineStream, data: Uint8Array): Promise<void> {
    await (stream as unknown as NativeStream).write(data)
  }

  finish (stream: EngineStream): void { settle((stream as unknown as NativeStream).finishWrite()) }
  reset (stream: EngineStream): void {
    const s = stream as unknown as NativeStream
    settle(s.resetWrite())
    settle(s.stopRead())
  }

  stopReading (stream: EngineStream): void { settle((stream as unknown as NativeStream).stopRead()) }
}
