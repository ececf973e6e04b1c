/**
 * multistream-select 1.0 messages (`specs/multistream-select.md`, "Protocol").
 *
 * Every message is a varint length, then the UTF-8 text, then `\n`; the length
 * counts the trailing newline (Note 2). `na` is `0x036e610a`. An `ls` response is
 * one message whose body is a sequence of embedded messages followed by `\n`
 * ("ls example in detail").
 *
 * Pure and incremental: {@link MessageDecoder} takes arbitrary chunks and yields whole
 * messages; short input is "need more bytes", never an error.
 */
import { codes, Lp2pError } from '../errors.js'
import { decodeUvarint, uvarintLength, writeUvarint } from '../wire/varint.js'
import { ByteAccumulator, concatBytes } from '../wire/bytes.js'

/** The protocol id of multistream-select itself, sent first by both sides. */
export const PROTOCOL_ID = '/multistream/1.0.0'
/** "Not available": the answer to an unsupported proposal. */
export const NA = 'na'
/** A request for the list of supported protocols. */
export const LS = 'ls'

/**
 * Longest message we accept, newline included. Protocol ids in use are well under
 * 100 bytes (`/ipfs/id/push/1.0.0` is 19); 1024 leaves room for long custom ids
 * while a hostile peer cannot make us buffer more than 1 KiB per negotiation.
 * go-multistream and js-libp2p use the same order of magnitude.
 */
export const MAX_MESSAGE_LENGTH = 1024

/**
 * Longest `ls` response we accept when we asked for one: room for a few hundred
 * protocol ids. Only read when we sent `ls` ourselves.
 */
export const MAX_LS_RESPONSE_LENGTH = 64 * 1024

/**
 * Varint bytes needed for {@link MAX_LS_RESPONSE_LENGTH}; a longer varint is
 * malformed or hostile whatever the limit in force.
 */
const MAX_LENGTH_VARINT_BYTES = 3

const NEWLINE = 0x0a
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Encodes one message: varint(len + 1) || text || '\n'. */
export function encodeMessage (text: string): Uint8Array {
  const body = encoder.encode(text)
  const len = body.length + 1
  const out = new Uint8Array(uvarintLength(len) + len)
  const off = writeUvarint(len, out, 0)
  out.set(body, off)
  out[off + body.length] = NEWLINE
  return out
}

/** Encodes several messages into one buffer (one write, one packet). */
export function encodeMessages (texts: readonly string[]): Uint8Array {
  return concatBytes(texts.map(encodeMessage))
}

/**
 * Encodes the answer to `ls`: one message whose body is every protocol as an embedded
 * message, followed by `\n` (so a non-empty list ends in `\n\n`).
 */
export function encodeLsResponse (protocols: readonly string[]): Uint8Array {
  const inner = protocols.map(encodeMessage)
  let bodyLen = 1
  for (const p of inner) bodyLen += p.length
  const out = new Uint8Array(uvarintLength(bodyLen) + bodyLen)
  let off = writeUvarint(bodyLen, out, 0)
  for (const p of inner) {
    out.set(p, off)
    off += p.length
  }
  out[off] = NEWLINE
  return out
}

/** Parses the body of an `ls` response (as returned by the decoder) into protocol ids. */
export function decodeLsResponse (body: Uint8Array): string[] {
  const inner = new MessageDecoder(MAX_MESSAGE_LENGTH)
  // The body is the embedded messages and a final '\n'; the decoder already removed
  // the outer newline, so what remains is exactly the embedded messages.
  inner.push(body)
  const out: string[] = []
  for (;;) {
    const msg = inner.next()
    if (msg === undefined) break
    out.push(msg)
  }
  if (inner.buffered > 0) {
    throw new Lp2pError(codes.ERR_NEGOTIATION_FAILED, 'truncated protocol in ls response')
  }
  return out
}

/**
 * Incremental decoder: `push()` chunks, then call `next()` until it returns
 * `undefined` (need more bytes). Bytes past the last message taken stay buffered and
 * are returned by `takeRemaining()` (the first bytes of the negotiated protocol).
 */
export class MessageDecoder {
  readonly #input = new ByteAccumulator()
  #maxLength: number

  constructor (maxLength = MAX_MESSAGE_LENGTH) {
    this.#maxLength = maxLength
  }

  /** Raises or lowers the length limit for the next messages (e.g. for an ls reply). */
  set maxLength (n: number) {
    this.#maxLength = n
  }

  /** Bytes buffered and not yet returned as messages. */
  get buffered (): number {
    return this.#input.buffered
  }

  push (chunk: Uint8Array): void {
    this.#input.push(chunk)
  }

  /**
   * The next message's text (without the newline), or `undefined` when more bytes are
   * needed.
   *
   * @throws Lp2pError ERR_INVALID_VARINT, ERR_MESSAGE_TOO_LARGE, or
   *   ERR_NEGOTIATION_FAILED (empty message, missing newline, invalid UTF-8).
   */
  next (): string | undefined {
    const raw = this.nextRaw()
    if (raw === undefined) return undefined
    try {
      return decoder.decode(raw)
    } catch (err) {
      throw new Lp2pError(codes.ERR_NEGOTIATION_FAILED, 'multistream message is not valid UTF-8', { cause: err })
    }
  }

  /** Like {@link next} but returns the body bytes (for `ls` responses). */
  nextRaw (): Uint8Array | undefined {
    const buf = this.#input.buf
    const vi = decodeUvarint(buf, this.#input.offset, MAX_LENGTH_VARINT_BYTES)
    if (vi === undefined) return undefined
    const len = vi.value
    if (len > this.#maxLength) {
      throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `multistream message of ${len} bytes exceeds the limit of ${this.#maxLength}`)
    }
    if (len === 0) {
      throw new Lp2pError(codes.ERR_NEGOTIATION_FAILED, 'empty multistream message (no newline)')
    }
    const start = this.#input.offset + vi.length
    const end = start + len
    if (end > buf.length) return undefined
    if (buf[end - 1] !== NEWLINE) {
      throw new Lp2pError(codes.ERR_NEGOTIATION_FAILED, 'multistream message does not end with a newline')
    }
    this.#input.advanceTo(end)
    return buf.subarray(start, end - 1)
  }

  /** Returns and clears the bytes buffered past the last message taken. */
  takeRemaining (): Uint8Array {
    return this.#input.takeRemaining()
  }
}

/** Shortens a hostile string for an error message. */
export function clip (text: string, max = 64): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`
}
