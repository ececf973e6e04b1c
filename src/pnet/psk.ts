/**
 * Pre-shared keys of private networks (`specs/pnet.md`, "Interface"): 32 bytes, in a
 * key file (IPFS's `swarm.key`) made of path-based multicodec lines:
 *
 * ```
 * /key/swarm/psk/1.0.0/
 * /base16/
 * 0f5a...(64 hex digits)
 * ```
 *
 * The second line names the encoding of the rest: `/base16/` (what `ipfs-swarm-key-gen`
 * and every guide write), `/base64/` or `/bin/` (raw bytes). Pure; reading the file is
 * the caller's (`loadPskFile`).
 */
import { readFile } from 'node:fs/promises'
import { codes, Lp2pError } from '../errors.js'

/** "The key has to be exactly 256-bits (32 bytes) long." */
export const PSK_BYTES = 32

/** The codec line of a PSK v1 file. */
export const PSK_V1_CODEC = '/key/swarm/psk/1.0.0/'

/** Largest key file read: 4 KiB, far above the 87 bytes of a base16 file with CRLF line ends. */
export const MAX_PSK_FILE_BYTES = 4096

function invalid (message: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_INVALID_PSK, message, cause !== undefined ? { cause } : undefined)
}

/** Splits off the next line (`\n` or `\r\n`) of `bytes` from `at`. */
function line (bytes: Uint8Array, at: number): { text: string, next: number } {
  let end = bytes.indexOf(0x0a, at)
  if (end === -1) end = bytes.byteLength
  let stop = end
  if (stop > at && bytes[stop - 1] === 0x0d) stop--
  return { text: Buffer.from(bytes.subarray(at, stop)).toString('latin1'), next: Math.min(end + 1, bytes.byteLength) }
}

/** Decodes a PSK v1 key file. Throws ERR_INVALID_PSK naming what is wrong. */
export function decodePskFile (bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength > MAX_PSK_FILE_BYTES) throw invalid(`a PSK file is at most ${MAX_PSK_FILE_BYTES} bytes, got ${bytes.byteLength}`)
  const codec = line(bytes, 0)
  if (codec.text !== PSK_V1_CODEC) throw invalid(`a PSK file starts with ${PSK_V1_CODEC}, got ${JSON.stringify(codec.text.slice(0, 40))}`)
  const encoding = line(bytes, codec.next)
  const rest = bytes.subarray(encoding.next)
  let key: Uint8Array
  if (encoding.text === '/bin/') {
    key = rest
  } else if (encoding.text === '/base16/') {
    const text = Buffer.from(rest).toString('latin1').trim()
    if (!/^[0-9a-fA-F]*$/.test(text) || text.length % 2 !== 0) throw invalid('the /base16/ key is not hexadecimal')
    key = Buffer.from(text, 'hex')
  } else if (encoding.text === '/base64/') {
    const text = Buffer.from(rest).toString('latin1').trim()
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw invalid('the /base64/ key is not base64')
    key = Buffer.from(text, 'base64')
  } else {
    throw invalid(`unknown PSK encoding ${JSON.stringify(encoding.text.slice(0, 40))} (known: /base16/, /base64/, /bin/)`)
  }
  if (key.byteLength !== PSK_BYTES) throw invalid(`a PSK is ${PSK_BYTES} bytes, the file holds ${key.byteLength}`)
  return new Uint8Array(key)
}

/** Encodes a key as a `/base16/` PSK v1 file (what `lp2p` and go-libp2p's tools write). */
export function encodePskFile (key: Uint8Array): string {
  checkPsk(key)
  return `${PSK_V1_CODEC}\n/base16/\n${Buffer.from(key).toString('hex')}\n`
}

/** Throws ERR_INVALID_PSK unless `key` is 32 bytes. */
export function checkPsk (key: unknown): Uint8Array {
  if (!(key instanceof Uint8Array) || key.byteLength !== PSK_BYTES) {
    throw invalid(`a PSK is a Uint8Array of ${PSK_BYTES} bytes`)
  }
  return key
}

/** Reads and decodes a key file. */
export async function loadPskFile (path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw invalid(`cannot read the PSK file ${path}: ${(err as Error).message}`, err)
  }
  return decodePskFile(bytes)
}
