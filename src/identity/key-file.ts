/**
 * Identity key files (driver: uses node:fs). The CLI keeps a node's identity here
 * (`lp2p id --init`, `lp2p listen --key FILE`).
 *
 * Format written, version 1, a small JSON document (one line plus a newline):
 *
 * ```json
 * {"version":1,"type":"Ed25519","peerId":"12D3KooW...","privateKey":"<base64>"}
 * ```
 *
 * `privateKey` is the standard base64 (RFC 4648 section 4, padded) of the protobuf
 * `PrivateKey` message of peer-ids.md, the same bytes go-libp2p stores; `peerId` is the
 * base58btc id, written so a human can see whose key it is and checked on load so a
 * file edited by hand (or a mix-up of two files) fails loudly instead of giving the node
 * another identity than the one its operator expects.
 *
 * `loadKeyFile` also accepts a raw binary protobuf `PrivateKey` (what go-libp2p, kubo's
 * `ipfs key export`-style tools and js-libp2p's `privateKeyToProtobuf` write).
 *
 * Files are written atomically: a temporary file in the same directory, created with
 * mode 0600, flushed, then renamed over the target (or hard-linked, when the caller
 * refuses to overwrite), so a crash never leaves a half-written identity.
 */
import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { codes, Lp2pError } from '../errors.js'
import type { PrivateKey } from '../interfaces/keys.js'
import { privateKeyFromProtobuf } from './keys.js'
import { peerIdFromPrivateKey } from './peer-id.js'

/** Version of the JSON key file format this module writes and reads. */
export const KEY_FILE_VERSION = 1

/**
 * Largest key file read: 16 KiB. The largest private key message is
 * `MAX_PRIVATE_KEY_BYTES` (8 KiB); base64 makes it 4/3 larger, plus under 200 bytes of
 * JSON. Anything larger is not a key file and is refused before it is read.
 */
export const MAX_KEY_FILE_BYTES = 16384

/** Standard base64 with padding, nothing else (Buffer.from would silently skip junk). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function invalidFile (path: string, message: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_KEY_FILE, `key file ${path}: ${message}`, cause !== undefined ? { cause } : undefined)
}

export interface SaveKeyFileOptions {
  /** Replace an existing file (default true). When false, an existing file is an error. */
  overwrite?: boolean
}

/**
 * Reads a private key from a key file (the JSON format above, or a raw protobuf
 * `PrivateKey`).
 * @throws Lp2pError `ERR_INVALID_KEY_FILE` when the file cannot be read, is too large,
 *   does not parse, holds an invalid key, or names a peer id the key does not have. The
 *   `cause` holds the underlying error (e.g. `ENOENT`, `ERR_INVALID_KEY`).
 */
export async function loadKeyFile (path: string): Promise<PrivateKey> {
  const bytes = await readBounded(path)
  const first = bytes.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)
  if (first !== 0x7b /* '{' */) {
    // A protobuf PrivateKey starts with its Type tag 0x08, never with '{' (0x7b).
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw invalidFile(path, `neither a JSON key file nor a protobuf PrivateKey: ${(err as Error).message}`, err)
    }
  }
  let doc: unknown
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw invalidFile(path, 'not valid JSON', err)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidFile(path, 'not a JSON object')
  const { version, type, peerId, privateKey } = doc as Record<string, unknown>
  if (version !== KEY_FILE_VERSION) throw invalidFile(path, `unsupported version ${JSON.stringify(version)} (expected ${KEY_FILE_VERSION})`)
  if (typeof privateKey !== 'string' || !BASE64.test(privateKey)) throw invalidFile(path, '"privateKey" must be a base64 string')
  if (typeof peerId !== 'string') throw invalidFile(path, '"peerId" must be a string')
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(Uint8Array.from(Buffer.from(privateKey, 'base64')))
  } catch (err) {
    throw invalidFile(path, `"privateKey" is not a valid key: ${(err as Error).message}`, err)
  }
  if (typeof type !== 'string' || type.toLowerCase() !== key.type.toLowerCase()) {
    throw invalidFile(path, `"type" is ${JSON.stringify(type)} but the key is ${key.type}`)
  }
  const id = peerIdFromPrivateKey(key)
  if (!id.equals(peerId)) throw invalidFile(path, `"peerId" ${peerId} does not match the key, whose peer id is ${id.toString()}`)
  return key
}

/**
 * Writes `key` to `path` in the JSON format, atomically, with mode 0600.
 * @throws Lp2pError `ERR_INVALID_KEY_FILE` when the file cannot be written (cause: the
 *   fs error; `EEXIST` when `overwrite` is false and the file exists).
 */
export async function saveKeyFile (path: string, key: PrivateKey, options: SaveKeyFileOptions = {}): Promise<void> {
  const doc = {
    version: KEY_FILE_VERSION,
    type: key.type,
    peerId: peerIdFromPrivateKey(key).toString(),
    privateKey: Buffer.from(key.bytes).toString('base64')
  }
  const text = JSON.stringify(doc) + '\n'
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const fh = await open(tmp, 'wx', 0o600)
    try {
      await fh.writeFile(text)
      await fh.sync()
    } finally {
      await fh.close()
    }
    if (options.overwrite === false) {
      await link(tmp, path) // fails with EEXIST instead of replacing
      await unlink(tmp)
    } else {
      await rename(tmp, path)
    }
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw invalidFile(path, `cannot write: ${(err as Error).message}`, err)
  }
}

async function readBounded (path: string): Promise<Uint8Array> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch (err) {
    throw invalidFile(path, `cannot open: ${(err as Error).message}`, err)
  }
  try {
    const { size } = await fh.stat()
    if (size > MAX_KEY_FILE_BYTES) throw invalidFile(path, `${size} bytes is larger than any key file (limit ${MAX_KEY_FILE_BYTES})`)
    // Read one byte past the limit in case the file grew since stat().
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1)
    let n = 0
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n)
      if (bytesRead === 0) break
      n += bytesRead
      if (n > MAX_KEY_FILE_BYTES) throw invalidFile(path, `larger than any key file (limit ${MAX_KEY_FILE_BYTES})`)
    }
    if (n === 0) throw invalidFile(path, 'empty file')
    return new Uint8Array(buf.subarray(0, n))
  } catch (err) {
    if (err instanceof Lp2pError) throw err
    throw invalidFile(path, `cannot read: ${(err as Error).message}`, err)
  } finally {
    await fh.close()
  }
}
