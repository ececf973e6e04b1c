/**
 * `/echo/1.0.0`: copies the stream's input to its output until the remote half-closes,
 * then half-closes. Served by `lp2p listen` and used by the interop tests and the
 * benchmark's stream measure.
 *
 * Bytes already in the readable buffer when the handler starts (the data that arrived
 * with the protocol proposal, on a lazily negotiated stream) are written back at once,
 * synchronously, so they join the negotiation answer in the muxer's next flush: one
 * frame batch, one Noise message, one socket write for answer and echo. (`pipe()` would
 * start reading on a later tick, after that flush, and cost a second write per stream:
 * 3 socket writes per open + 1-byte echo instead of 2, measured with `bench/stack-ab.ts`.)
 *
 * Backpressure holds: while `write()` returns false nothing more is read, so the
 * readable buffer fills, the muxer stops granting window, and the remote stops.
 */
import type { Duplex } from 'node:stream'

export const ECHO_PROTOCOL = '/echo/1.0.0'

export function handleEcho (stream: Duplex): void {
  let waiting = false
  const pump = (): void => {
    waiting = false
    for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) {
      if (!stream.write(chunk)) {
        waiting = true
        stream.once('drain', pump)
        return
      }
    }
  }
  stream.on('readable', () => { if (!waiting) pump() })
  stream.once('end', () => { stream.end() })
  pump()
}
