/**
 * The CLI's peer store: `<data dir>/peerstore/` (LevelDB, `PersistentPeerStore`), or
 * memory with `--memory`. LevelDB allows one process per store: a second command on
 * the same data directory while `lp2p listen` runs either goes on in memory (a
 * command that only needs the store for what it learns: ping or dial by address) or
 * says which process holds it (a command that needs it: `lp2p peers`, a dial by peer
 * id). A corrupt store is always an error naming its folder, with the way out.
 */
import { codes, isLp2pError, Lp2pError } from '../errors.js'
import type { PeerStore } from '../interfaces/peer-store.js'
import { PersistentPeerStore } from '../peer-store/persistent-peer-store.js'
import { ensureDir, dataDirPath, peerStorePath, type DataDirOptions } from './data-dir.js'

export interface StoreOptions extends DataDirOptions {
  /** `--memory`: an empty in-memory store. */
  memory?: boolean
}

/**
 * The data directory's peer store, opened. `required: false`: undefined (the node
 * then keeps its peers in memory) when it is in use by another process.
 */
export async function openCliPeerStore (opts: StoreOptions, required: boolean): Promise<PeerStore | undefined> {
  if (opts.memory === true) return undefined
  await ensureDir(dataDirPath(opts))
  const path = peerStorePath(opts)
  try {
    return await PersistentPeerStore.open(path)
  } catch (err) {
    if (isLp2pError(err, codes.ERR_PEER_STORE_CORRUPT)) {
      throw new Lp2pError(codes.ERR_PEER_STORE_CORRUPT,
        `${err.message}; \`lp2p peers reset${opts.dataDir !== undefined ? ` --data-dir ${opts.dataDir}` : ''}\` starts a fresh one (the identity is kept)`, { cause: err.cause })
    }
    if (!required && isLp2pError(err, codes.ERR_PEER_STORE_UNAVAILABLE)) return undefined
    if (isLp2pError(err, codes.ERR_PEER_STORE_UNAVAILABLE)) {
      throw new Lp2pError(codes.ERR_PEER_STORE_UNAVAILABLE,
        `${err.message} (a running \`lp2p listen\` on this data directory? stop it, or give another --data-dir)`, { cause: err.cause })
    }
    throw err
  }
}
