/**
 * Where the CLI keeps the node's identity: `--key FILE`, else `$LP2P_KEY`, else
 * `~/.lp2p/identity.json` (written by `lp2p id --init`).
 */
import os from 'node:os'
import path from 'node:path'

export function defaultKeyPath (): string {
  const env = process.env.LP2P_KEY
  if (env !== undefined && env !== '') return env
  return path.join(os.homedir(), '.lp2p', 'identity.json')
}
