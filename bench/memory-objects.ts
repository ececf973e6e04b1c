/**
 * What an idle lp2p connection keeps on the JS heap, by constructor: opens `--conns`
 * connections between two nodes in this process (TCP, Noise, yamux, identify and ping
 * as by default), and diffs two heap snapshots (self sizes, so nothing is counted
 * twice). Both ends of every connection are in this process: the figures are per
 * connection for listener + dialer together. The evidence behind the memory measure
 * of `npm run bench`.
 *
 * Run: node --expose-gc --import tsx bench/memory-objects.ts [--conns 300] [--top 30]
 */
import { getHeapSnapshot } from 'node:v8'
import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../src/node.js'
import { ping } from '../src/protocols/ping.js'
import type { Connection } from '../src/interfaces/connection.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const CONNS = arg('conns', 300)
const TOP = arg('top', 30)

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[]], edge_fields: string[], edge_types: [string[]] } }
  nodes: number[]
  edges: number[]
  strings: string[]
}

/** Self size and count per "type:name" of every heap node. */
async function census (): Promise<Map<string, { size: number, count: number }>> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const chunks: Buffer[] = []
  for await (const c of getHeapSnapshot()) chunks.push(c as Buffer)
  const snap = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Snapshot
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const width = fields.length
  const fType = fields.indexOf('type')
  const fName = fields.indexOf('name')
  const fSize = fields.indexOf('self_size')
  // Owners of internal arrays and backing stores: the first object (by edge order)
  // that points at them, named "Owner.edge", so "(array)" says whose array it is.
  const eFields = snap.snapshot.meta.edge_fields
  const eTypes = snap.snapshot.meta.edge_types[0]
  const eWidth = eFields.length
  const fEdges = fields.indexOf('edge_count')
  const eType = eFields.indexOf('type')
  const eName = eFields.indexOf('name_or_index')
  const eTo = eFields.indexOf('to_node')
  const nameOf = (i: number): string => {
    const type = types[snap.nodes[i + fType] as number] as string
    const name = snap.strings[snap.nodes[i + fName] as number] as string
    if (type === 'object' || type === 'native') return name === '' ? `(${type})` : name
    if (type === 'closure') return `closure ${name === '' ? '(anonymous)' : name}`
    return `(${type})`
  }
  const owner = new Map<number, string>()
  for (let i = 0, e = 0; i < snap.nodes.length; i += width) {
    const edges = snap.nodes[i + fEdges] as number
    for (let k = 0; k < edges; k++, e += eWidth) {
      const to = snap.edges[e + eTo] as number
      if (owner.has(to)) continue
      const toType = types[snap.nodes[to + fType] as number]
      if (toType !== 'array' && nameOf(to) !== 'system / JSArrayBufferData') continue
      const et = eTypes[snap.edges[e + eType] as number]
      const en = et === 'element' || et === 'hidden' ? `[${snap.edges[e + eName] as number}]` : snap.strings[snap.edges[e + eName] as number] as string
      owner.set(to, `${nameOf(i)}.${en}`)
    }
  }
  const out = new Map<string, { size: number, count: number }>()
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + fType] as number] as string
    const name = nameOf(i)
    const via = owner.get(i)
    const key = `${type === 'closure' ? 'closures' : name}${via !== undefined ? ` <- ${via}` : ''}`
    const e = out.get(key) ?? { size: 0, count: 0 }
    e.size += snap.nodes[i + fSize] as number
    e.count++
    out.set(key, e)
  }
  return out
}

async function main (): Promise<void> {
  const listener = createNode({ listen: ['/ip4/0.0.0.0/tcp/0'], limits: { maxConnections: CONNS * 3 } })
  const dialer = createNode({ limits: { maxConnections: CONNS * 3 } })
  await Promise.all([listener.start(), dialer.start()])
  const port = /\/tcp\/(\d+)/.exec(String(listener.getMultiaddrs()[0]))?.[1] as string
  const open = async (n: number): Promise<Connection[]> => {
    const conns: Connection[] = []
    for (let i = 0; i < n; i += 50) {
      conns.push(...await Promise.all(Array.from({ length: Math.min(50, n - i) }, async (_, w) => {
        const c = await dialer.dial(multiaddr(`/ip4/127.0.0.${w + 1}/tcp/${port}`))
        await ping(c)
        return c
      })))
    }
    return conns
  }
  // Warm-up: code and caches that the first connections create are not per connection.
  await Promise.all((await open(50)).map(async (c) => { await c.close() }))
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const before = await census()
  const held = await open(CONNS)
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const after = await census()
  const rows = [...after].map(([k, a]) => {
    const b = before.get(k) ?? { size: 0, count: 0 }
    return { what: k, bytes: (a.size - b.size) / CONNS, count: (a.count - b.count) / CONNS }
  }).filter((r) => r.bytes > 0).sort((x, y) => y.bytes - x.bytes)
  const total = rows.reduce((s, r) => s + r.bytes, 0)
  console.log(`JS heap per connection (listener + dialer, ${CONNS} connections held, ${held.length} open): ${(total / 1024).toFixed(1)} KiB in self sizes`)
  console.log('   bytes  objects  constructor / type')
  for (const r of rows.slice(0, TOP)) console.log(`${r.bytes.toFixed(0).padStart(8)} ${r.count.toFixed(1).padStart(8)}  ${r.what}`)
  await Promise.all([dialer.stop(), listener.stop()])
}

void main()
