/** Listening from the CLI where a transport may be missing (QUIC's engine is optional). */
import type { Lp2pNode } from '../node.js'
import { codes, isLp2pError } from '../errors.js'

/**
 * Listens on each address; one whose transport cannot run here (QUIC without its
 * engine) is skipped with a note on stderr naming what is missing, any other failure
 * is an error.
 */
export async function listenOptional (node: Lp2pNode, addrs: readonly string[]): Promise<void> {
  for (const a of addrs) {
    try {
      await node.listen(a)
    } catch (err) {
      if (!isLp2pError(err, codes.ERR_TRANSPORT_UNAVAILABLE)) throw err
      process.stderr.write(`lp2p: not listening on ${a}: ${err.message}\n`)
    }
  }
}
