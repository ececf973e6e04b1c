/**
 * Perf `/perf/1.0.0` (`specs/perf.md`): the server handler and the client, as thin
 * drivers around {@link PerfServerMachine} and {@link PerfDownloadAccount}
 * (`perf-machine.ts`) and {@link PerfProgress} (`perf-report.ts`).
 *
 * The payload is one zero-filled block written again and again (spec: "Zero is fine
 * [...] as long as it's not a different set of random bytes"); nothing is copied or
 * allocated per write, and received bytes are counted and dropped. Backpressure holds
 * both ways: the writer waits for `'drain'`, the reader is a flowing `'data'` listener
 * that consumes at once, so the muxer's window, not a buffer of ours, paces the sender.
 *
 * Spec, "Security Considerations": perf "SHOULD NOT be enabled by default"; a node
 * serves it only when the application registers {@link perfHandler}, and the size a
 * client may ask for is bounded by `maxResponseBytes`.
 */
import type { Duplex } from 'node:stream'
import { performance } from 'node:perf_hooks'
import type { Connection } from '../interfaces/connection.js'
import { abortErrorFrom, codes, invalidArgValue, Lp2pError } from '../errors.js'
import type { StreamHandler } from './registry.js'
import {
  checkCount, encodePerfHeader, PERF_PROTOCOL, PerfDownloadAccount, PerfServerMachine,
  type PerfServerMachineOptions
} from './perf-machine.js'
import { DEFAULT_REPORT_INTERVAL, PerfProgress, type PerfReport } from './perf-report.js'

export { PERF_PROTOCOL } from './perf-machine.js'

/**
 * Default size of one write, bytes: 64 KiB, the block go-libp2p's perf uses. Larger
 * writes cost fewer calls but the muxer cuts them into frames anyway (yamux sends at
 * most its window, 256 KiB, before an update); smaller ones add per-call overhead.
 */
export const DEFAULT_PERF_BLOCK_SIZE = 64 * 1024

/** Largest accepted block size: 16 MiB, so a caller's typo cannot allocate gigabytes. */
export const MAX_PERF_BLOCK_SIZE = 16 * 1024 * 1024

/**
 * Inbound perf streams served at once on one connection: the runner uses one; 8 allows
 * a few parallel measurements while bounding the work one peer can ask for.
 */
export const PERF_MAX_INBOUND_STREAMS = 8

/** The zero-filled block of the default size, shared by every run (never written to). */
let defaultBlock: Buffer | undefined

/**
 * A zero-filled payload block of `size` bytes. Only the default one is shared: a cache
 * of every size asked for would grow with each caller's choice (up to 16 MiB a size),
 * and one block per run or per handler costs nothing next to the bytes it sends.
 */
function block (size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_PERF_BLOCK_SIZE) {
    throw invalidArgValue('blockSize', `must be an integer from 1 to ${MAX_PERF_BLOCK_SIZE}`)
  }
  if (size !== DEFAULT_PERF_BLOCK_SIZE) return Buffer.alloc(size)
  defaultBlock ??= Buffer.alloc(size)
  return defaultBlock
}

// --- server ---------------------------------------------------------------------------

export interface PerfServerOptions extends PerfServerMachineOptions {
  /** Bytes per write. Default {@link DEFAULT_PERF_BLOCK_SIZE}. */
  blockSize?: number
}

export interface PerfServerResult {
  /** The response size the client asked for. */
  requested: bigint
  /** Bytes the client uploaded after the header. */
  uploaded: number
  /** Bytes we sent. */
  sent: number
}

/**
 * Serves one perf stream: reads the header, drains the upload until the client's
 * half-close, then sends the requested bytes and half-closes. Resolves once our side
 * is finished; rejects (after resetting the stream) on a refused or broken request,
 * or when the stream fails.
 */
export async function handlePerf (stream: Duplex, options: PerfServerOptions = {}): Promise<PerfServerResult> {
  return await serve(stream, options, block(options.blockSize ?? DEFAULT_PERF_BLOCK_SIZE))
}

async function serve (stream: Duplex, options: PerfServerMachineOptions, payload: Buffer): Promise<PerfServerResult> {
  const machine = new PerfServerMachine(options)
  return await new Promise<PerfServerResult>((resolve, reject) => {
    let settled = false
    const fail = (err: Error): void => {
      if (settled) return
      settled = true
      stream.destroy(err)
      reject(err)
    }
    const send = (): void => {
      for (;;) {
        const n = machine.take(payload.length)
        if (n === 0) break
        if (!stream.write(n === payload.length ? payload : payload.subarray(0, n))) {
          stream.once('drain', send)
          return
        }
      }
      stream.end()
    }
    stream.on('data', (chunk: Uint8Array) => {
      const s = machine.receive(chunk)
      if (s.phase === 'failed') fail(s.error)
    })
    stream.once('end', () => {
      const s = machine.receiveEnd()
      if (s.phase === 'failed') fail(s.error)
      else send()
    })
    stream.once('finish', () => {
      if (settled) return
      settled = true
      const s = machine.state
      resolve({ requested: s.phase === 'failed' || s.phase === 'header' ? 0n : s.requested, uploaded: machine.uploaded, sent: machine.sent })
    })
    stream.once('error', (err) => { fail(err) })
    stream.once('close', () => {
      fail(new Lp2pError(codes.ERR_CONNECTION_CLOSED, `perf stream closed in phase ${machine.state.phase} after sending ${machine.sent} bytes`))
    })
  })
}

/** A handler for `node.handle(PERF_PROTOCOL, perfHandler(), { maxInboundStreams: PERF_MAX_INBOUND_STREAMS })`. */
export function perfHandler (options: PerfServerOptions = {}): StreamHandler {
  // Validate once, at registration, rather than on the first stream; one block for
  // every stream of this handler.
  void new PerfServerMachine(options)
  const payload = block(options.blockSize ?? DEFAULT_PERF_BLOCK_SIZE)
  return async (stream) => {
    await serve(stream, options, payload).catch(() => {
      // serve() reset the stream; a client's broken request is not our error.
    })
  }
}

// --- client ---------------------------------------------------------------------------

export interface PerfClientOptions {
  /** Bytes to send after the header. */
  uploadBytes: number
  /** Bytes to ask the server for. */
  downloadBytes: number
  /** Bytes per write. Default {@link DEFAULT_PERF_BLOCK_SIZE}. */
  blockSize?: number
  signal?: AbortSignal
  /** Called with each intermediary report (about once per `reportInterval`). */
  onProgress?: (report: PerfReport) => void
  /** ms between intermediary reports. Default {@link DEFAULT_REPORT_INTERVAL}. */
  reportInterval?: number
  /** Counters updated as bytes move, for a live display that reads them on its own timer. */
  live?: PerfLiveCounts
  /**
   * `performance.now()` at the start of the whole measurement, e.g. before the dial,
   * for the final report's `timeSeconds`. Default: when the stream is opened.
   */
  startTime?: number
}

export interface PerfLiveCounts {
  uploadBytes: number
  downloadBytes: number
}

export interface PerfResult {
  uploadBytes: number
  downloadBytes: number
  /** Seconds from opening the stream until the server closed it (spec's measure). */
  streamSeconds: number
  /** Seconds from opening the stream until our half-close left for the muxer. */
  uploadSeconds: number
  /** Seconds from opening the stream until the first response byte; undefined for 0. */
  firstByteSeconds: number | undefined
  /** The final report, its time counted from `startTime`. */
  final: PerfReport
}

/** Opens a perf stream on `connection` (negotiated lazily) and runs the client on it. */
export async function runPerf (connection: Connection, options: PerfClientOptions): Promise<PerfResult> {
  const opened = performance.now()
  const stream = await connection.newStream(PERF_PROTOCOL, options.signal !== undefined ? { signal: options.signal } : {})
  return await perfOnStream(stream, { ...options, startTime: options.startTime ?? opened }, opened)
}

/**
 * The client on an open stream: header, upload, half-close, then reads and checks the
 * response. Rejects (and resets the stream) when the server sends more or fewer bytes
 * than asked, resets the stream, or `signal` aborts.
 */
export async function perfOnStream (stream: Duplex, options: PerfClientOptions, opened = performance.now()): Promise<PerfResult> {
  const signal = options.signal
  let state: ReturnType<typeof clientState>
  try {
    if (signal?.aborted === true) throw abortErrorFrom(signal)
    state = clientState(options, opened)
  } catch (err) {
    // Invalid options or an aborted signal: the stream is not left open for nothing.
    stream.destroy()
    throw err
  }
  const { account, payload, progress } = state
  let toSend = state.toSend
  const seconds = (t: number): number => (t - opened) / 1000
  let uploadDone = 0
  let firstByte: number | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  const onProgress = options.onProgress
  const live = options.live ?? { uploadBytes: 0, downloadBytes: 0 }
  if (onProgress !== undefined) {
    timer = setInterval(() => {
      const r = progress.poll(performance.now())
      if (r !== undefined) onProgress(r)
    }, options.reportInterval ?? DEFAULT_REPORT_INTERVAL)
  }
  let onAbort: (() => void) | undefined
  try {
    return await new Promise<PerfResult>((resolve, reject) => {
      let settled = false
      const fail = (err: Error): void => {
        if (settled) return
        settled = true
        stream.destroy(err)
        reject(err)
      }
      onAbort = () => { fail(abortErrorFrom(signal as AbortSignal)) }
      signal?.addEventListener('abort', onAbort, { once: true })
      const pump = (): void => {
        while (toSend > 0) {
          const n = Math.min(toSend, payload.length)
          toSend -= n
          progress.upload(n)
          live.uploadBytes += n
          if (!stream.write(n === payload.length ? payload : payload.subarray(0, n))) {
            stream.once('drain', pump)
            return
          }
        }
        stream.end()
      }
      stream.on('data', (chunk: Uint8Array) => {
        if (firstByte === undefined) firstByte = performance.now()
        try {
          account.add(chunk.byteLength)
        } catch (err) {
          fail(err as Error)
          return
        }
        progress.download(chunk.byteLength)
        live.downloadBytes += chunk.byteLength
      })
      stream.once('finish', () => { uploadDone = performance.now() })
      stream.once('end', () => {
        const now = performance.now()
        try {
          account.end()
        } catch (err) {
          fail(err as Error)
          return
        }
        settled = true
        resolve({
          uploadBytes: progress.uploadBytes,
          downloadBytes: progress.downloadBytes,
          streamSeconds: seconds(now),
          uploadSeconds: seconds(uploadDone === 0 ? now : uploadDone),
          firstByteSeconds: firstByte === undefined ? undefined : seconds(firstByte),
          final: progress.final(now)
        })
      })
      stream.once('error', (err) => { fail(err) })
      stream.once('close', () => {
        fail(new Lp2pError(codes.ERR_CONNECTION_CLOSED, `perf stream closed after ${account.received} of ${account.expected} bytes`))
      })
      stream.write(encodePerfHeader(options.downloadBytes))
      pump()
    })
  } finally {
    if (timer !== undefined) clearInterval(timer)
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
  }
}

/** The client's validated options and counters. @throws RangeError for invalid options. */
function clientState (options: PerfClientOptions, opened: number): { toSend: number, account: PerfDownloadAccount, payload: Buffer, progress: PerfProgress } {
  return {
    toSend: checkCount('uploadBytes', options.uploadBytes),
    account: new PerfDownloadAccount(options.downloadBytes),
    payload: block(options.blockSize ?? DEFAULT_PERF_BLOCK_SIZE),
    progress: new PerfProgress(options.startTime ?? opened, options.reportInterval ?? DEFAULT_REPORT_INTERVAL)
  }
}
