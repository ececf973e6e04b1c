/**
 * Traffic recording for the fuzz corpus (`fuzz/README.md`): with `LP2P_RECORD_DIR`
 * set, lp2p's interop peer tees every byte it receives, per connection, at two
 * layers, into that folder:
 *
 * - `<role>-<pid>-<n>.raw`: what the socket delivered (multistream-select, then the
 *   Noise handshake or TLS records, then transport messages);
 * - `<role>-<pid>-<n>.secure`: what the security channel decrypted (the muxer's
 *   negotiation when not inlined, then yamux or mplex frames, with every stream's
 *   multistream-select, identify, ping and echo bytes inside).
 *
 * `fuzz/seed.ts` cuts these into seeds for each fuzz target. Bytes a layer gives back
 * with `unshift()` (it read past its own end) are re-delivered by the channel and
 * recorded once. Read only by the interop peer, never by lp2p itself.
 */
import { appendFileSync } from 'node:fs'
import path from 'node:path'
import type { ByteChannel, ByteChannelHandler, SecurityProtocol, Transport } from '../../../src/index.js'

let connections = 0

/** A channel that records what it delivers upward into `file`. */
function recording (inner: ByteChannel, file: string): ByteChannel {
  let replay = 0 // unshifted bytes about to be delivered again
  const tee = (chunk: Uint8Array): void => {
    const skip = Math.min(replay, chunk.byteLength)
    replay -= skip
    if (skip < chunk.byteLength) appendFileSync(file, chunk.subarray(skip))
  }
  return {
    get remoteAddr () { return inner.remoteAddr },
    get localAddr () { return inner.localAddr },
    get closed () { return inner.closed },
    attach (handler: ByteChannelHandler) {
      inner.attach({
        onData (chunk) { tee(chunk); handler.onData(chunk) },
        onEnd () { handler.onEnd() },
        onClose (err) { handler.onClose(err) },
        onDrain () { handler.onDrain() }
      })
    },
    detach () { inner.detach() },
    unshift (chunk) { replay += chunk.byteLength; inner.unshift(chunk) },
    write (chunk) { return inner.write(chunk) },
    writev (chunks) { return inner.writev(chunks) },
    end () { inner.end() },
    destroy (err) { inner.destroy(err) },
    pause () { inner.pause() },
    resume () { inner.resume() }
  }
}

/** A name for one connection's files: `<role>-<pid>-<n>`. */
function base (dir: string, role: string): string {
  return path.join(dir, `${role}-${process.pid}-${++connections}`)
}

/**
 * Records the raw bytes of every connection the transport makes or accepts. A
 * transport with its own security (QUIC) yields no raw bytes to record: returned as is.
 */
export function recordTransport (t: Transport, dir: string, role: string): Transport {
  if (t.secure === true) return t
  const files = new WeakMap<ByteChannel, string>()
  const wrap = (c: ByteChannel): ByteChannel => {
    const name = base(dir, role)
    const r = recording(c, `${name}.raw`)
    files.set(r, name)
    return r
  }
  recordTransport.files = files
  return {
    name: t.name,
    canDial: (a) => t.canDial(a),
    canListen: (a) => t.canListen(a),
    dial: async (addr, options) => wrap(await t.dial(addr, options) as ByteChannel),
    createListener: (init) => t.createListener({ ...init, onConnection: (c) => { init.onConnection(wrap(c as ByteChannel)) } })
  }
}
recordTransport.files = new WeakMap<ByteChannel, string>()

/** Records what the security channel decrypts, next to the connection's raw file. */
export function recordSecurity (s: SecurityProtocol, dir: string, role: string): SecurityProtocol {
  const wrap = async (channel: ByteChannel, result: Awaited<ReturnType<SecurityProtocol['secureInbound']>>): Promise<typeof result> => {
    const name = recordTransport.files.get(channel) ?? base(dir, role)
    return { ...result, channel: recording(result.channel, `${name}.secure`) }
  }
  return {
    protocol: s.protocol,
    secureOutbound: async (channel, options) => await wrap(channel, await s.secureOutbound(channel, options)),
    secureInbound: async (channel, options) => await wrap(channel, await s.secureInbound(channel, options))
  }
}
