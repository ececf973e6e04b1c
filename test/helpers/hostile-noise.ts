/**
 * The hostile peer's security layer: multistream-select of `/noise` and the Noise XX
 * handshake (`specs/noise.md`) driven by hand from lp2p's pure machines, so that a
 * test can get through the handshake legitimately and then misbehave inside it (a
 * forged payload, a signature that does not verify, message 3 in tiny writes) or
 * after it (a transport message that fails authentication).
 */
import { generateKeyPair, peerIdFromPublicKey, publicKeyFromProtobuf, type PeerId, type PrivateKey } from '../../src/identity/index.js'
import { encodeMessages, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { XXHandshake, type XXTransportKeys } from '../../src/security/noise/handshake-xx.js'
import { NoiseHandshake, staticKeySignatureData } from '../../src/security/noise/handshake.js'
import { decodeHandshakePayload, encodeHandshakePayload } from '../../src/security/noise/payload.js'
import { sealFrames } from '../../src/security/noise/transport-codec.js'
import { TransportDecoder } from '../../src/security/noise/transport-decoder.js'
import { generateX25519KeyPair, type X25519KeyPair } from '../../src/security/noise/x25519.js'
import type { Parse, RawPeer } from './hostile.js'

export const YAMUX = '/yamux/1.0.0'

/** Frames a Noise message: 2-byte big-endian length, then the message. */
export function frame (message: Uint8Array): Buffer {
  const out = Buffer.alloc(2 + message.byteLength)
  out.writeUInt16BE(message.byteLength, 0)
  out.set(message, 2)
  return out
}

export const parseNoiseFrame: Parse<Buffer> = (buf) => {
  if (buf.byteLength < 2) return undefined
  const n = buf.readUInt16BE(0)
  if (buf.byteLength < 2 + n) return undefined
  return { value: Buffer.from(buf.subarray(2, 2 + n)), used: 2 + n }
}

/**
 * As the dialer: proposes `protocol` and waits for the header and the echo. Throws
 * when the node answers anything else.
 */
export async function negotiate (peer: RawPeer, protocol = '/noise'): Promise<void> {
  peer.write(encodeMessages([PROTOCOL_ID, protocol]))
  const header = await peer.readMessage()
  const answer = await peer.readMessage()
  if (header !== PROTOCOL_ID || answer !== protocol) {
    throw new Error(`negotiation of ${protocol} failed: got ${JSON.stringify(header)}, ${JSON.stringify(answer)}`)
  }
}

export interface HonestPayloadParts {
  identity: PrivateKey
  staticKey: X25519KeyPair
  /** The honest signature over `noise-libp2p-static-key:` || static key. */
  identitySig: Uint8Array
  muxers: string[]
}

export interface InitiatorOptions {
  /** Our identity; a fresh Ed25519 key when absent. */
  identity?: PrivateKey
  /** Muxers offered in message 3. Default `/yamux/1.0.0`. */
  muxers?: string[]
  /** Replaces the message 3 payload (hostile payloads). */
  payload?: (honest: HonestPayloadParts) => Uint8Array
  /** How framed message 3 is sent. Default: one write. */
  sendMessage3?: (peer: RawPeer, framed: Buffer) => Promise<void>
}

/**
 * Negotiates `/noise` and sends a valid message 1 from `staticKey`; resolves with the
 * machine and the node's message 2 once it arrived: the handshake half done, message 3
 * left to the caller.
 */
export async function startHandshake (peer: RawPeer, staticKey = generateX25519KeyPair()): Promise<{ xx: XXHandshake, msg2: Buffer }> {
  await negotiate(peer)
  const xx = new XXHandshake({ initiator: true, staticKey })
  peer.write(frame(xx.writeMessage(new Uint8Array(0))))
  return { xx, msg2: await peer.inbox.pull(parseNoiseFrame, 'Noise message 2') }
}

/**
 * Negotiates `/noise` and runs the XX handshake as initiator. Resolves once message 3
 * is sent (the node, as responder, verifies it when it arrives).
 */
export async function noiseInitiator (peer: RawPeer, options: InitiatorOptions = {}): Promise<SecureSession> {
  const identity = options.identity ?? generateKeyPair('Ed25519')
  const staticKey = generateX25519KeyPair()
  const { xx, msg2 } = await startHandshake(peer, staticKey)
  const remote = decodeHandshakePayload(xx.readMessage(msg2))
  const remoteKey = publicKeyFromProtobuf(remote.identityKey)
  if (!remoteKey.verify(staticKeySignatureData(xx.remoteStaticKey as Buffer), remote.identitySig)) {
    throw new Error('the node signed its static key wrongly')
  }
  const muxers = options.muxers ?? [YAMUX]
  const parts: HonestPayloadParts = {
    identity,
    staticKey,
    identitySig: identity.sign(staticKeySignatureData(staticKey.publicKey)),
    muxers
  }
  const payload = options.payload?.(parts) ?? honestPayload(parts)
  const framed = frame(xx.writeMessage(payload))
  if (options.sendMessage3 !== undefined) await options.sendMessage3(peer, framed)
  else peer.write(framed)
  return new SecureSession(peer, xx.split(), peerIdFromPublicKey(remoteKey), identity)
}

export function honestPayload (p: HonestPayloadParts): Uint8Array {
  return encodeHandshakePayload({
    identityKey: p.identity.publicKey.bytes,
    identitySig: p.identitySig,
    ...(p.muxers.length > 0 ? { extensions: { webtransportCerthashes: [], streamMuxers: p.muxers } } : {})
  })
}

/** For `InitiatorOptions.payload`: the honest payload with byte `at` of its signature flipped, so it does not verify. */
export function badSignature (at: number): (p: HonestPayloadParts) => Uint8Array {
  return (p) => {
    const sig = Buffer.from(p.identitySig)
    sig[at] = (sig[at] as number) ^ 0x01
    return honestPayload({ ...p, identitySig: sig })
  }
}

/**
 * As the responder (a hostile listener): negotiates `/noise` as the listener would
 * and answers message 1 with a message 2 signed by `identity`. Resolves with the
 * session once message 3 verified, or rejects when the dialer gives up.
 */
export async function noiseResponder (peer: RawPeer, identity: PrivateKey): Promise<SecureSession> {
  const header = await peer.readMessage()
  const proposal = await peer.readMessage()
  if (header !== PROTOCOL_ID || proposal !== '/noise') throw new Error(`unexpected proposal ${proposal}`)
  peer.write(encodeMessages([PROTOCOL_ID, '/noise']))
  const machine = new NoiseHandshake({ initiator: false, localKey: identity, muxers: [YAMUX] })
  while (machine.status === 'handshaking') {
    const msg = await peer.inbox.pull(parseNoiseFrame, 'a Noise message from the dialer')
    machine.handleData(frame(msg))
    for (const out of machine.takeOutput()) peer.write(out)
  }
  const result = machine.result()
  return new SecureSession(peer, result.keys, result.remotePeer, identity)
}

/**
 * The transport phase from the hostile side: seals what the test sends, opens what
 * the node sends (handing plaintext to one consumer), and can put arbitrary bytes on
 * the wire where a sealed message should be.
 */
export class SecureSession {
  readonly peer: RawPeer
  readonly keys: XXTransportKeys
  readonly remotePeer: PeerId
  readonly identity: PrivateKey
  /** Set when a message from the node failed to open (it never should). */
  decryptError: Error | undefined
  readonly #decoder: TransportDecoder

  constructor (peer: RawPeer, keys: XXTransportKeys, remotePeer: PeerId, identity: PrivateKey) {
    this.peer = peer
    this.keys = keys
    this.remotePeer = remotePeer
    this.identity = identity
    this.#decoder = new TransportDecoder(keys.receive)
  }

  get localPeer (): PeerId {
    return peerIdFromPublicKey(this.identity.publicKey)
  }

  /** Plaintext from the node goes to `fn` from now on. */
  onPlaintext (fn: (plaintext: Buffer) => void): void {
    const out: Buffer[] = []
    this.peer.setConsumer((chunk) => {
      if (this.decryptError !== undefined) return
      try {
        this.#decoder.decode(chunk, out)
      } catch (err) {
        this.decryptError = err as Error
      }
      for (const p of out.splice(0)) fn(p)
    })
  }

  /** Seals `chunks` (as few messages as fit) and writes them in one go. */
  send (...chunks: Uint8Array[]): boolean {
    let total = 0
    for (const c of chunks) total += c.byteLength
    if (total === 0) return true
    const sealed = sealFrames(this.keys.send, chunks, total)
    return this.peer.write(sealed.length === 1 ? sealed[0] as Buffer : Buffer.concat(sealed))
  }

  /** Writes bytes as they are, where the node expects sealed messages. */
  sendRaw (bytes: Uint8Array): boolean {
    return this.peer.write(bytes)
  }
}
