/**
 * How a muxer reports the end of the channel under it (shared by yamux and mplex):
 * the error its open streams and its connection end with, and the callers of a
 * graceful close waiting for the channel to close.
 */
import { codes, Lp2pError } from '../errors.js'

/** The remote ended its side (FIN): an error only when streams were still open. */
export function remoteEndError (open: number): Lp2pError | undefined {
  return open > 0 ? new Lp2pError(codes.ERR_CONNECTION_CLOSED, `the remote ended the connection with ${open} streams open`) : undefined
}

/**
 * The channel closed under the muxer: `err` (the transport's reason) as an
 * ERR_CONNECTION_CLOSED, or, without one, an error only when streams were still open.
 */
export function channelCloseError (err: Error | undefined, open: number): Lp2pError | undefined {
  if (err !== undefined) {
    return err instanceof Lp2pError && err.code === codes.ERR_CONNECTION_CLOSED
      ? err
      : new Lp2pError(codes.ERR_CONNECTION_CLOSED, `the connection closed: ${err.message}`, { cause: err })
  }
  return open > 0 ? new Lp2pError(codes.ERR_CONNECTION_CLOSED, `the connection closed with ${open} streams open`) : undefined
}
