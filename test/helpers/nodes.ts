/** Helpers for whole-node tests over the memory transport. */
import { createNode, type Lp2pNode } from '../../src/node.js'
import { memory, type MemoryTransportOptions } from '../../src/transport/memory.js'
import type { EventEmitter } from 'node:events'
import type { NodeEvents, NodeOptions } from '../../src/node-options.js'

let n = 0

/** A started node listening on a fresh `/memory/<name>` address. */
export async function memoryNode (options: NodeOptions = {}, transport: MemoryTransportOptions = {}): Promise<Lp2pNode> {
  const node = createNode({
    transports: [memory(transport)],
    listen: [`/memory/node-${process.pid}-${++n}`],
    ...options
  })
  await node.start()
  return node
}

/** Resolves with the arguments of the next `event` emitted by `node`. */
export async function nextEvent<K extends keyof NodeEvents> (node: Lp2pNode, event: K): Promise<NodeEvents[K]> {
  return await new Promise<NodeEvents[K]>((resolve) => {
    const listener = (...args: NodeEvents[K]): void => { resolve(args) }
    ;(node as unknown as EventEmitter).once(event, listener as (...a: unknown[]) => void)
  })
}

/** Collects a readable stream into one Buffer. */
export async function readAll (stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const c of stream) parts.push(c)
  return Buffer.concat(parts)
}
