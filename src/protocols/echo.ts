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
  stream.on('readable', onReadable)
  stream.once('end', onEnd)
  pump(stream)
}

// Module-level listeners (`this` is the stream): no closures per stream.

/** Writes back everything readable, until `write()` asks to wait for `'drain'`. */
function pump (stream: Duplex): void {
  if (stream.writableNeedDrain) return
  for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) {
    if (!stream.write(chunk)) {
      stream.once('drain', onDrain)
      return
    }
  }
}

function onReadable (this: Duplex): void { pump(this) }
function onDrain (this: Duplex): void { pump(this) }
function onEnd (this: Duplex): void { this.end() }
