/**
 * The node of a client command (ping, dial, echo): a new identity unless `--key`
 * names one, the security flags, and the data directory's peer store (to dial a peer
 * by id, and to remember what the dial learns). A dial by peer id needs the store; a
 * dial by address goes on in memory when another process holds it.
 */
import { createNode, type Lp2pNode } from '../node.js'
import { generateKeyPair, isPeerId, loadKeyFile } from '../identity/index.js'
import type { DialTarget } from '../dialer/target.js'
import { keyPath } from './data-dir.js'
import { nodeSecurityOptions, type NodeSecurityFlags } from './node-security.js'
import { openCliPeerStore, type StoreOptions } from './store.js'

export type ClientOptions = StoreOptions & NodeSecurityFlags

/** A started node for a client command that will dial `target`. */
export async function clientNode (opts: ClientOptions, target: DialTarget): Promise<Lp2pNode> {
  const key = opts.key !== undefined ? await loadKeyFile(keyPath(opts)) : generateKeyPair('Ed25519')
  const peerStore = await openCliPeerStore(opts, isPeerId(target))
  const node = createNode({ privateKey: key, ...(peerStore !== undefined ? { peerStore } : {}), ...await nodeSecurityOptions(opts) })
  try {
    await node.start()
  } catch (err) {
    await node.stop()
    throw err
  }
  return node
}
