/**
 * Small helpers to read from a stream (a Node Readable) with bounds, for protocol
 * drivers. Every reader here has a byte limit: a peer decides how much it sends, we
 * decide how much we keep.
 */
import type { Readable } from 'node:stream'
import { codes, Lp2pError } from '../errors.js'
import { LengthPrefixedDecoder } from '../wire/length-prefixed.js'

/** Reads exactly `n` bytes, or fails when the stream ends or errors first. */
export async function readExactly (stream: Readable, n: number): Promise<Uint8Array> {
  return await new Promise<Uint8Array>((resolve, reject) => {
    const parts: Buffer[] = []
    let got = 0
    const cleanup = (): void => {
      stream.off('readable', onReadable)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('close', onClose)
    }
    const onReadable = (): void => {
      while (got < n) {
        const chunk = stream.read(Math.min(n - got, stream.readableLength)) as Buffer | null
        if (chunk === null) break
        parts.push(chunk)
        got += chunk.length
      }
      if (got >= n) {
        cleanup()
        resolve(parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts, got))
      }
    }
    const onEnd = (): void => {
      cleanup()
      reject(new Lp2pError(codes.ERR_PROTOCOL_VIOLATION, `stream ended after ${got} of ${n} bytes`))
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(err)
    }
    const onClose = (): void => {
      cleanup()
      reject(new Lp2pError(codes.ERR_CONNECTION_CLOSED, `stream closed after ${got} of ${n} bytes`))
    }
    stream.on('readable', onReadable)
    stream.once('end', onEnd)
    stream.once('error', onError)
    stream.once('close', onClose)
    onReadable()
  })
}

/**
 * Reads varint length-prefixed messages until the stream ends. At most `maxMessages`
 * of at most `maxLength` bytes each; more is ERR_MESSAGE_TOO_LARGE.
 */
export async function readAllLengthPrefixed (stream: Readable, maxLength: number, maxMessages: number): Promise<Uint8Array[]> {
  const decoder = new LengthPrefixedDecoder(maxLength)
  const out: Uint8Array[] = []
  for await (const chunk of stream) {
    decoder.push(chunk as Uint8Array)
    for (let m = decoder.next(); m !== undefined; m = decoder.next()) {
      out.push(m)
      if (out.length > maxMessages) {
        throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, `more than ${maxMessages} messages`)
      }
    }
    if (decoder.buffered > maxLength + 4) {
      throw new Lp2pError(codes.ERR_MESSAGE_TOO_LARGE, 'message too large')
    }
  }
  if (decoder.buffered > 0) {
    throw new Lp2pError(codes.ERR_PROTOCOL_VIOLATION, 'stream ended inside a message')
  }
  return out
}
