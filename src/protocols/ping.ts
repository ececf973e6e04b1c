/**
 * Ping `/ipfs/ping/1.0.0` (`specs/ping.md`): the dialer sends 32 random bytes, the
 * listener echoes them, the dialer measures the round trip.
 *
 * - The listener loops, echoing every payload until the dialer half-closes, then
 *   closes its side (spec: "SHOULD loop and echo the next payload").
 * - The listener accepts at most two ping streams per peer (spec: "SHOULD accept at
 *   most two streams per peer"): the handler is registered with maxInboundStreams 2.
 * - The dialer keeps at most one outbound ping stream per peer (spec: "MUST NOT keep
 *   more than one"): pings to one connection are serialized.
 * - The dialer half-closes after the last echo arrived. The spec lets it close its
 *   write side right after sending the last payload ("SHOULD close the write
 *   operation of the stream after sending the last payload"), which would save the
 *   round trip a connection close right after a ping waits for, but js-libp2p 3's
 *   handler (@libp2p/ping `handlePing`) leaves its loop without echoing when the FIN
 *   arrives with the payload: interoperability wins (test/interop/js-libp2p.test.ts).
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Connection, Stream } from '../interfaces/connection.js'
import { abortErrorFrom, codes, Lp2pError, TimeoutError } from '../errors.js'
import { untilAborted } from '../util/deadline.js'
import { readExactly } from './stream-io.js'

export const PING_PROTOCOL = '/ipfs/ping/1.0.0'
/** Payload size fixed by the spec. */
export const PING_LENGTH = 32
/** Spec: "at most two streams per peer". */
export const PING_MAX_INBOUND_STREAMS = 2
/**
 * Default time one round trip may take (the first one includes the stream's lazy
 * negotiation), ms. The spec sets no number; 10 s is a few round trips on the slowest
 * links. Without a bound, a peer that never echoes would hold the stream, and every
 * later ping to the connection (they queue), until the connection closed.
 */
export const DEFAULT_PING_TIMEOUT = 10_000

/** The listener side: echo everything back, with backpressure, until the remote ends. */
export function handlePing (stream: Stream): void {
  stream.on('error', () => {})
  stream.pipe(stream)
}

const queues = new WeakMap<Connection, Promise<unknown>>()

export interface PingOptions {
  signal?: AbortSignal
  /** Payloads to send on the stream; the result has one RTT per payload. Default 1. */
  count?: number
  /** Pause between payloads, ms. Default 0. */
  interval?: number
  /** Most time one round trip may take, ms (ERR_TIMEOUT). Default {@link DEFAULT_PING_TIMEOUT}; 0: none. */
  timeout?: number
}

/**
 * Pings over `connection`: opens one stream, sends `count` payloads one after the
 * other, returns each round trip in ms (fractional).
 */
export async function ping (connection: Connection, options: PingOptions = {}): Promise<number[]> {
  const previous = queues.get(connection) ?? Promise.resolve()
  const run = previous.catch(() => {}).then(async () => await pingNow(connection, options))
  queues.set(connection, run)
  // The caller's signal ends its wait in the queue too; the run it leaves behind
  // fails at once (its signal is aborted) and must not be an unhandled rejection.
  run.catch(() => {})
  return await untilAborted(run, options.signal, 'ping')
}

async function pingNow (connection: Connection, options: PingOptions): Promise<number[]> {
  const count = options.count ?? 1
  const timeout = options.timeout ?? DEFAULT_PING_TIMEOUT
  if (options.signal?.aborted === true) throw abortErrorFrom(options.signal)
  const stream = await connection.newStream(PING_PROTOCOL, options.signal !== undefined ? { signal: options.signal } : {})
  const onAbort = (): void => { stream.destroy(new Lp2pError(codes.ERR_ABORTED, 'ping aborted')) }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const rtts: number[] = []
    for (let i = 0; i < count; i++) {
      // The pause ends with the signal too: an aborted ping leaves no timer behind.
      if (i > 0 && (options.interval ?? 0) > 0) await sleep(options.interval, undefined, options.signal !== undefined ? { signal: options.signal } : {})
      const payload = randomBytes(PING_LENGTH)
      const start = performance.now()
      stream.write(payload)
      const timer = timeout > 0
        ? setTimeout(() => { stream.destroy(new TimeoutError(`no ping echo within ${timeout} ms`)) }, timeout)
        : undefined
      let echo: Uint8Array
      try {
        echo = await readExactly(stream, PING_LENGTH)
      } finally {
        clearTimeout(timer)
      }
      const rtt = performance.now() - start
      if (!Buffer.from(echo).equals(payload)) {
        throw new Lp2pError(codes.ERR_PROTOCOL_VIOLATION, 'ping echo does not match the payload')
      }
      rtts.push(rtt)
    }
    stream.end()
    // Read the remote's close so the stream can finish closing.
    stream.resume()
    return rtts
  } catch (err) {
    stream.destroy()
    throw err
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}
