/**
 * Seeds the fuzz corpus (`fuzz/corpus/<target>/`) from real traffic: the files lp2p's
 * interop peer records when `LP2P_RECORD_DIR` is set (`interop/peers/lp2p/record.ts`)
 * during an interop run against go-, rust-, py- and js-libp2p.
 *
 *   LP2P_RECORD_DIR=/tmp/rec npm run interop -- --filter '...'
 *   node --import tsx fuzz/seed.ts /tmp/rec
 *
 * What comes from where: the raw stream of a connection gives multistream-select
 * (security negotiation), the Noise handshake and transport messages; the decrypted
 * stream gives yamux or mplex frames, and, per stream, multistream-select, identify
 * messages, their public keys (every key type the peers used) and their multiaddr
 * bytes. Three inputs are not visible on the wire and are built from recorded parts
 * or the specs: Noise handshake payloads (encrypted in the handshake; built from the
 * recorded identity keys and muxer lists), TLS certificates (encrypted in TLS 1.3; the
 * spec's test vectors and lp2p's own for each key type), and perf requests (the
 * matrix runs no perf; built from the spec's header). Each seed is capped at 4 KiB
 * (jsfuzz's largest input) and named by its content hash, so seeding twice adds
 * nothing.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MessageDecoder } from '../src/negotiation/message.js'
import { FrameDecoder as YamuxFrames, FrameType } from '../src/muxer/yamux/frame.js'
import { FrameDecoder as MplexFrames, Flag as MplexFlag } from '../src/muxer/mplex/frame.js'
import { FrameDecoder as NoiseFrames } from '../src/security/noise/frame-decoder.js'
import { decodeIdentify, type IdentifyMessage } from '../src/protocols/identify-message.js'
import { decodeUvarint } from '../src/wire/varint.js'
import { encodeHandshakePayload } from '../src/security/noise/payload.js'
import { createCertificate } from '../src/security/tls/certificate.js'
import { generateKeyPair } from '../src/identity/keys.js'
import { encodePerfHeader } from '../src/protocols/perf-machine.js'

const FUZZ = path.dirname(fileURLToPath(import.meta.url))
const MAX_SEED = 4096
let added = 0

function seed (target: string, bytes: Uint8Array, prefix?: number, fixedName?: string): void {
  const body = prefix === undefined ? bytes : Buffer.concat([Uint8Array.of(prefix), bytes])
  const data = body.subarray(0, MAX_SEED)
  if (data.byteLength === 0) return
  const dir = path.join(FUZZ, 'corpus', target)
  mkdirSync(dir, { recursive: true })
  if (fixedName !== undefined && existsSync(path.join(dir, fixedName))) return
  const name = fixedName ?? createHash('sha256').update(data).digest('hex').slice(0, 16)
  writeFileSync(path.join(dir, name), data)
  added++
}

/** A varint, or undefined where there is none (recorded bytes are not always what a guess expects). */
function varint (bytes: Uint8Array, off: number): { value: number, length: number } | undefined {
  try {
    return decodeUvarint(bytes, off)
  } catch {
    return undefined
  }
}

/** Splits the leading multistream-select messages off `bytes`: where they end, and their texts. */
function multistream (bytes: Uint8Array): { end: number, messages: string[] } {
  const d = new MessageDecoder()
  const messages: string[] = []
  let used = 0
  for (let off = 0; off < bytes.byteLength;) {
    const len = varint(bytes, off)
    if (len === undefined || len.value === 0 || len.value > 1024 || bytes[off + len.length + len.value - 1] !== 0x0a) break
    d.push(bytes.subarray(off, off + len.length + len.value))
    let m: string | undefined
    try {
      m = d.next()
    } catch {
      break
    }
    if (m === undefined) break
    messages.push(m)
    off += len.length + len.value
    used = off
  }
  return { end: used, messages }
}

/** The payload bytes of every yamux stream, in order, by stream id. */
function yamuxStreams (bytes: Uint8Array): Map<number, Buffer> | undefined {
  const d = new YamuxFrames({ maxDataLength: 1 << 24 })
  const out = new Map<number, Buffer[]>()
  let current = 0
  try {
    d.push(bytes)
    for (let ev = d.next(); ev !== undefined; ev = d.next()) {
      if (ev instanceof Uint8Array) (out.get(current) ?? out.set(current, []).get(current) as Buffer[]).push(Buffer.from(ev))
      else if (ev.type === FrameType.Data) current = ev.streamId
    }
  } catch {
    return undefined
  }
  return new Map([...out].map(([k, v]) => [k, Buffer.concat(v)]))
}

/** The same for mplex (a stream is named by id and initiator flag). */
function mplexStreams (bytes: Uint8Array): Map<string, Buffer> | undefined {
  const d = new MplexFrames(1 << 20)
  const out = new Map<string, Buffer[]>()
  let current = ''
  try {
    d.push(bytes)
    for (let ev = d.next(); ev !== undefined; ev = d.next()) {
      if (ev instanceof Uint8Array) {
        if (current !== '') (out.get(current) ?? out.set(current, []).get(current) as Buffer[]).push(Buffer.from(ev))
      } else {
        const data = ev.flag === MplexFlag.MessageInitiator || ev.flag === MplexFlag.MessageReceiver
        current = data ? `${ev.streamId}/${ev.flag}` : ''
      }
    }
  } catch {
    return undefined
  }
  return new Map([...out].map(([k, v]) => [k, Buffer.concat(v)]))
}

const identities = new Map<string, Uint8Array>()

/** One stream's bytes: its negotiation, and identify's message and what is inside. */
function fromStream (role: string, data: Buffer, opener: boolean): void {
  const { end, messages } = multistream(data)
  if (end > 0) {
    // Our side of the stream sees the other side's negotiation messages.
    seed(opener ? 'multistream-dialer' : 'multistream-listener', data.subarray(0, Math.min(data.byteLength, end + 64)), 1)
    seed('multistream-message', data.subarray(0, end), 1)
  }
  if (!messages.includes('/ipfs/id/1.0.0') && !messages.includes('/ipfs/id/push/1.0.0')) return
  const body = data.subarray(end)
  seed('length-prefixed', body, 1)
  const len = varint(body, 0)
  if (len === undefined) return
  const message = body.subarray(len.length, len.length + len.value)
  let msg: IdentifyMessage
  try {
    msg = decodeIdentify(message)
  } catch {
    return
  }
  seed('identify', message)
  seed('protobuf', message)
  if (msg.publicKey !== undefined) {
    seed('keys', msg.publicKey)
    identities.set(Buffer.from(msg.publicKey).toString('hex'), msg.publicKey)
  }
  for (const a of [...msg.listenAddrs, ...(msg.observedAddr !== undefined ? [msg.observedAddr] : [])]) seed('multiaddr', a.bytes)
  void role
}

function fromRecording (file: string): void {
  const data = readFileSync(file)
  const role = path.basename(file).split('-')[0] as string
  if (file.endsWith('.raw')) {
    const { end, messages } = multistream(data)
    seed(role === 'listener' ? 'multistream-listener' : 'multistream-dialer', data.subarray(0, Math.min(data.byteLength, end + 64)), 1)
    seed('multistream-message', data.subarray(0, end), 1)
    seed('varint', data.subarray(0, 16))
    const rest = data.subarray(end)
    if (!messages.includes('/noise')) return
    seed('noise-frames', rest, 1)
    // The handshake messages (one from the remote as dialer, two as listener), then transport messages.
    const frames = new NoiseFrames()
    frames.push(rest)
    let taken = 0
    for (let i = 0; i < (role === 'listener' ? 2 : 1); i++) {
      const m = frames.next()
      if (m === undefined) break
      taken += 2 + m.byteLength
    }
    if (role === 'listener') seed('noise-responder', rest.subarray(0, taken), 0)
    seed('noise-transport', rest.subarray(taken), 0)
    return
  }
  // .secure: the muxer's frames, after its negotiation when it was not inlined.
  const { end } = multistream(data)
  const frames = data.subarray(end)
  seed('noise-transport', frames, 1)
  const yamux = frames[0] === 0 && (frames[1] ?? 9) <= 3 ? yamuxStreams(frames) : undefined
  if (yamux !== undefined) {
    seed('yamux-session', frames, role === 'dialer' ? 1 : 0)
    const ours = role === 'dialer' ? 1 : 0 // dialers open odd streams
    for (const [id, bytes] of yamux) fromStream(role, bytes, id % 2 === ours)
    return
  }
  const mplex = mplexStreams(frames)
  if (mplex !== undefined) {
    seed('mplex-session', frames, 2)
    for (const [key, bytes] of mplex) fromStream(role, bytes, key.endsWith(`/${MplexFlag.MessageReceiver}`))
  }
}

/** Inputs the wire does not show, built from recorded parts and the specs (see the header). */
function built (): void {
  const muxers = [['/yamux/1.0.0'], ['/yamux/1.0.0', '/mplex/6.7.0'], []]
  let i = 0
  for (const key of identities.values()) {
    seed('noise-payload', encodeHandshakePayload({ identityKey: key, identitySig: new Uint8Array(64).fill(i), extensions: { streamMuxers: muxers[i++ % 3] as string[], webtransportCerthashes: [] } }))
  }
  const vectors = JSON.parse(readFileSync(path.join(FUZZ, '..', 'test', 'fixtures', 'spec-vectors', 'tls-certificates.json'), 'utf8')) as { vectors: Array<{ certificate: string }> }
  for (const v of vectors.vectors) {
    seed('x509', Buffer.from(v.certificate, 'hex'))
    seed('der', Buffer.from(v.certificate, 'hex'))
  }
  for (const type of ['Ed25519', 'secp256k1', 'ECDSA', 'RSA'] as const) {
    // Fresh keys and validity each time: made once, under a fixed name.
    const cert = createCertificate(generateKeyPair(type))
    seed('x509', cert.der, undefined, `lp2p-${type}`)
    seed('der', cert.der, undefined, `lp2p-${type}`)
  }
  const keys = JSON.parse(readFileSync(path.join(FUZZ, '..', 'test', 'fixtures', 'spec-vectors', 'peer-ids.json'), 'utf8')) as { vectors: Record<string, string> }
  for (const hex of Object.values(keys.vectors)) {
    seed('keys', Buffer.from(hex, 'hex'))
    seed('protobuf', Buffer.from(hex, 'hex'))
  }
  for (const [n, upload] of [[0, 0], [1024, 0], [0, 100], [65536, 3000]] as const) {
    seed('perf', Buffer.concat([encodePerfHeader(n), new Uint8Array(upload).fill(7)]), 1)
  }
}

const dir = process.argv[2]
if (dir === undefined) {
  console.error('usage: node --import tsx fuzz/seed.ts <recording folder>')
  process.exit(2)
}
const files = readdirSync(dir).filter((f) => f.endsWith('.raw') || f.endsWith('.secure')).sort()
for (const f of files) fromRecording(path.join(dir, f))
built()
console.log(`fuzz/seed: ${files.length} recordings, ${added} seeds written (duplicates included) into fuzz/corpus/`)
