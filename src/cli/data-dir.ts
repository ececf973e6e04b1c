/**
 * The CLI's data directory: one folder holds the node's identity and its peer store.
 * `--data-dir DIR`, else `$LP2P_DATA_DIR`, else `~/.lp2p`. It is created on first use
 * with mode 0700 (it holds a private key). The identity is `--key FILE`, else
 * `$LP2P_KEY`, else `<data dir>/identity.json`; the peer store is
 * `<data dir>/peerstore/` (delete that folder, or run `lp2p peers reset`, to start
 * fresh: the identity stays).
 */
import { mkdir, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { codes, Lp2pError } from '../errors.js'

export interface DataDirOptions {
  dataDir?: string
  key?: string
}

/** The data directory the options name (not created). */
export function dataDirPath (options: DataDirOptions = {}): string {
  if (options.dataDir !== undefined && options.dataDir !== '') return path.resolve(options.dataDir)
  const env = process.env.LP2P_DATA_DIR
  if (env !== undefined && env !== '') return path.resolve(env)
  return path.join(os.homedir(), '.lp2p')
}

/** The identity key file the options name. */
export function keyPath (options: DataDirOptions = {}): string {
  if (options.key !== undefined && options.key !== '') return path.resolve(options.key)
  const env = process.env.LP2P_KEY
  if (env !== undefined && env !== '') return path.resolve(env)
  return path.join(dataDirPath(options), 'identity.json')
}

/** The peer store folder inside the data directory. */
export function peerStorePath (options: DataDirOptions = {}): string {
  return path.join(dataDirPath(options), 'peerstore')
}

/**
 * Creates `dir` (and its parents) if missing, the last level with mode 0700, and
 * checks it is a directory. A path that exists as a file, or cannot be created, is
 * an `ERR_DATA_DIR` error naming it.
 */
export async function ensureDir (dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const s = await stat(dir)
    if (!s.isDirectory()) throw new Error('it exists and is not a directory')
  } catch (err) {
    throw new Lp2pError(codes.ERR_DATA_DIR, `cannot use ${dir} as a data directory: ${(err as Error).message}`, { cause: err })
  }
  return dir
}
