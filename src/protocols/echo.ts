/**
 * `/echo/1.0.0`: copies the stream's input to its output until the remote half-closes,
 * then half-closes. Served by `lp2p listen` and used by the interop tests. Backpressure
 * holds: `pipe()` stops reading while the write side is full, so the remote's window
 * stops, so the remote stops.
 */
import type { Stream } from '../interfaces/connection.js'

export const ECHO_PROTOCOL = '/echo/1.0.0'

export function handleEcho (stream: Stream): void {
  stream.pipe(stream)
}
