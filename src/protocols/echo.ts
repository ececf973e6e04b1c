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
 * After that the stream flows (`'data'`, no copies), and backpressure holds: while
 * `write()` returns false the stream is paused, so the readable buffer fills, the muxer
 * stops granting window, and the remote stops.
 */
import type { Duplex } from 'node:stream'

export const ECHO_PROTOCOL = '/echo/1.0.0'

export function handleEcho (stream: Duplex): void {
  stream.on('data', onData)
  stream.once('end', onEnd)
  // Flowing starts on the next tick; read() hands what is buffered now to onData at once
  // (one chunk per call in flowing mode; onData pausing the stream ends the loop).
  while (stream.readableFlowing === true && stream.read() !== null) {
    // each read() emitted 'data' for one buffered chunk
  }
}

// Module-level listeners (`this` is the stream): no closures per stream.

function onData (this: Duplex, chunk: Buffer): void {
  if (!this.write(chunk)) {
    this.pause()
    this.once('drain', onDrain)
  }
}

function onDrain (this: Duplex): void { this.resume() }
function onEnd (this: Duplex): void { this.end() }
