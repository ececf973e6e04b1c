/**
 * What an idle lp2p connection keeps on the JS heap, by constructor: opens `--conns`
 * connections between two nodes in this process (TCP, Noise, yamux, identify and ping
 * as by default), and diffs two heap snapshots (self sizes, so nothing is counted
 * twice). Both ends of every connection are in this process: the figures are per
 * connection for listener + dialer together. The evidence behind the memory measure
 * of `npm run bench`.
 *
 * `--why <text>` explains the rows whose name contains `<text>` (or is exactly
 * `<text>` after a leading `=`): for the objects of
 * those rows that are new in the second snapshot, the source location of closures
 * (the closure itself, or the closure owning an array) and the most common retainer
 * paths (a few levels up), each with its count per connection.
 *
 * Run: npm run build && node --expose-gc --import tsx bench/memory-objects.ts [--conns 300] [--top 30]
 *        [--why 'closure (anonymous).properties'] [--depth 4]
 */
import { readFileSync, rmSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { writeHeapSnapshot } from 'node:v8'
import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../dist/src/node.js'
import { ping } from '../dist/src/protocols/ping.js'
import type { Connection } from '../dist/src/interfaces/connection.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const CONNS = arg('conns', 300)
const TOP = arg('top', 30)
const DEPTH = arg('depth', 4)
const WHY = ((): string | undefined => {
  const i = args.indexOf('--why')
  return i >= 0 ? args[i + 1] : undefined
})()

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[]], edge_fields: string[], edge_types: [string[]], location_fields?: string[] } }
  nodes: number[]
  edges: number[]
  strings: string[]
  locations?: number[]
}

/** A parsed heap snapshot with the lookups the census and `--why` need. */
class Heap {
  readonly raw: RawSnapshot
  readonly width: number
  readonly eWidth: number
  readonly #f: Record<'type' | 'name' | 'size' | 'edges' | 'id', number>
  readonly #e: Record<'type' | 'name' | 'to', number>
  readonly #types: string[]
  readonly #eTypes: string[]
  /** Index of each node's first edge in `edges`. */
  readonly firstEdge: Uint32Array
  /** Owner of internal arrays and backing stores: "Owner.edge" of the first object pointing at them. */
  readonly owner = new Map<number, string>()
  /** Node index of the owner of each internal array / backing store. */
  readonly ownerNode = new Map<number, number>()
  #retainers: Map<number, Array<[number, string]>> | undefined
  #locationIndex: Map<number, number> | undefined

  constructor (raw: RawSnapshot) {
    this.raw = raw
    const fields = raw.snapshot.meta.node_fields
    const eFields = raw.snapshot.meta.edge_fields
    this.width = fields.length
    this.eWidth = eFields.length
    this.#f = { type: fields.indexOf('type'), name: fields.indexOf('name'), size: fields.indexOf('self_size'), edges: fields.indexOf('edge_count'), id: fields.indexOf('id') }
    this.#e = { type: eFields.indexOf('type'), name: eFields.indexOf('name_or_index'), to: eFields.indexOf('to_node') }
    this.#types = raw.snapshot.meta.node_types[0]
    this.#eTypes = raw.snapshot.meta.edge_types[0]
    const count = raw.nodes.length / this.width
    this.firstEdge = new Uint32Array(count + 1)
    for (let n = 0, e = 0; n < count; n++) {
      this.firstEdge[n] = e
      e += (raw.nodes[n * this.width + this.#f.edges] as number) * this.eWidth
    }
    this.firstEdge[count] = raw.edges.length
    for (let i = 0; i < raw.nodes.length; i += this.width) {
      this.forEdges(i, (to, label) => {
        if (this.owner.has(to)) return
        if (this.type(to) !== 'array' && this.nameOf(to) !== 'system / JSArrayBufferData') return
        this.owner.set(to, `${this.nameOf(i)}.${label}`)
        this.ownerNode.set(to, i)
      })
    }
  }

  type (i: number): string { return this.#types[this.raw.nodes[i + this.#f.type] as number] as string }
  size (i: number): number { return this.raw.nodes[i + this.#f.size] as number }
  id (i: number): number { return this.raw.nodes[i + this.#f.id] as number }
  rawName (i: number): string { return this.raw.strings[this.raw.nodes[i + this.#f.name] as number] as string }

  nameOf (i: number): string {
    const type = this.type(i)
    const name = this.rawName(i)
    if (type === 'object' || type === 'native') return name === '' ? `(${type})` : name
    if (type === 'closure') return `closure ${name === '' ? '(anonymous)' : name}`
    return `(${type})`
  }

  /** The census key of a node: its name, and for internal arrays whose they are. */
  key (i: number): string {
    const via = this.owner.get(i)
    return `${this.type(i) === 'closure' ? 'closures' : this.nameOf(i)}${via !== undefined ? ` <- ${via}` : ''}`
  }

  forEdges (i: number, fn: (to: number, label: string, type: string) => void): void {
    const n = i / this.width
    const end = this.firstEdge[n + 1] as number
    for (let e = this.firstEdge[n] as number; e < end; e += this.eWidth) {
      const et = this.#eTypes[this.raw.edges[e + this.#e.type] as number] as string
      const nameOrIndex = this.raw.edges[e + this.#e.name] as number
      const label = et === 'element' || et === 'hidden' ? `[${nameOrIndex}]` : this.raw.strings[nameOrIndex] as string
      fn(this.raw.edges[e + this.#e.to] as number, label, et)
    }
  }

  /** Retainers of every node (built on first use): [retainer node index, edge label]. */
  retainers (i: number): Array<[number, string]> {
    if (this.#retainers === undefined) {
      const r = new Map<number, Array<[number, string]>>()
      for (let n = 0; n < this.raw.nodes.length; n += this.width) {
        this.forEdges(n, (to, label, type) => {
          if (type === 'weak') return
          let list = r.get(to)
          if (list === undefined) r.set(to, list = [])
          list.push([n, label])
        })
      }
      this.#retainers = r
    }
    return this.#retainers.get(i) ?? []
  }

  /**
   * "file:line:col `source...`" of a closure, from the snapshot's locations and its
   * script: line and column are the running script's (dist/src/x.js for lp2p), and
   * the excerpt of its source there says which function it is at a glance.
   */
  location (closure: number): string {
    const loc = this.raw.locations
    const lf = this.raw.snapshot.meta.location_fields
    if (loc === undefined || lf === undefined) return '?'
    if (this.#locationIndex === undefined) {
      this.#locationIndex = new Map()
      const fo = lf.indexOf('object_index')
      for (let k = 0; k < loc.length; k += lf.length) this.#locationIndex.set(loc[k + fo] as number, k)
    }
    const k = this.#locationIndex.get(closure)
    if (k === undefined) return '?'
    const line = loc[k + lf.indexOf('line')] as number
    const column = loc[k + lf.indexOf('column')] as number
    let script = '?'
    let excerpt = ''
    this.forEdges(closure, (shared, label) => {
      if (label !== 'shared') return
      this.forEdges(shared, (s, l) => {
        if (l !== 'script_or_debug_info' && l !== 'script') return
        script = this.rawName(s).replace(/^.*\/(src|bench|node_modules)\//, '$1/')
        this.forEdges(s, (src, l2) => {
          if (l2 !== 'source' || this.type(src) !== 'string') return
          const text = this.rawName(src)
          let offset = 0
          for (let n = 0; n < line; n++) {
            const eol = text.indexOf('\n', offset)
            if (eol < 0) return
            offset = eol + 1
          }
          excerpt = ` \`${text.slice(offset + column, offset + column + 60).replace(/\s+/g, ' ')}\``
        })
      })
    })
    return `${script}:${line + 1}:${column + 1}${excerpt}`
  }

  /** A one-line description of a node, with the location for closures. */
  describe (i: number): string {
    const name = this.nameOf(i)
    return this.type(i) === 'closure' ? `${name} @ ${this.location(i)}` : name
  }
}

/**
 * Writes a heap snapshot to a file after full collections. Snapshots are parsed only
 * once both are taken: a parsed first snapshot would otherwise sit in the heap that
 * the second one describes.
 */
async function snapshot (dir: string, name: string): Promise<string> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return writeHeapSnapshot(path.join(dir, `${name}.heapsnapshot`))
}

function load (file: string): Heap {
  return new Heap(JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot)
}

/** Self size and count per census key. */
function census (heap: Heap): Map<string, { size: number, count: number }> {
  const out = new Map<string, { size: number, count: number }>()
  for (let i = 0; i < heap.raw.nodes.length; i += heap.width) {
    const key = heap.key(i)
    const e = out.get(key) ?? { size: 0, count: 0 }
    e.size += heap.size(i)
    e.count++
    out.set(key, e)
  }
  return out
}

/** Prints where the new objects of the rows matching `text` come from and who holds them. */
function why (old: Set<number>, after: Heap, text: string): void {
  const picked: number[] = []
  for (let i = 0; i < after.raw.nodes.length; i += after.width) {
    const key = after.key(i)
    if (!old.has(after.id(i)) && (text.startsWith('=') ? key === text.slice(1) : key.includes(text))) picked.push(i)
  }
  // Each entry: [key, bytes of the picked object]; rows show objects and bytes per
  // connection, sorted by bytes.
  const tally = (title: string, entries: Iterable<[string, number]>): void => {
    const m = new Map<string, [number, number]>()
    for (const [k, size] of entries) {
      const e = m.get(k) ?? [0, 0]
      e[0]++
      e[1] += size
      m.set(k, e)
    }
    console.log(`\n${title}`)
    console.log(' objects    bytes')
    for (const [k, [c, size]] of [...m].sort((a, b) => b[1][1] - a[1][1]).slice(0, 25)) {
      console.log(`${(c / CONNS).toFixed(2).padStart(8)} ${(size / CONNS).toFixed(0).padStart(8)}  ${k}`)
    }
  }
  console.log(`\n--why ${JSON.stringify(text)}: ${picked.length} new objects (${(picked.length / CONNS).toFixed(1)} per connection)`)
  // The closure behind each object: itself, or the closure owning its array.
  tally('closures (self, or owner of the array), per connection:', picked.flatMap((i): Array<[string, number]> => {
    const c = after.type(i) === 'closure' ? i : after.ownerNode.get(i)
    return c !== undefined && after.type(c) === 'closure' ? [[after.location(c), after.size(i)]] : []
  }))
  // Retainer paths: from the object (or the array's owner) up DEPTH levels, skipping
  // the owner edge itself; the first non-weak retainer at each level.
  tally(`retainer paths (${DEPTH} levels), per connection:`, picked.map((i): [string, number] => {
    let n = after.ownerNode.get(i) ?? i
    const path = [after.describe(n)]
    const seen = new Set([n])
    for (let d = 0; d < DEPTH; d++) {
      const r = after.retainers(n).find(([p]) => !seen.has(p))
      if (r === undefined) break
      n = r[0]
      seen.add(n)
      path.push(`${r[1]} of ${after.describe(n)}`)
    }
    return [path.join(' <- '), after.size(i)]
  }))
}

/**
 * Opens CONNS connections between two nodes of this process and takes a heap snapshot
 * before and after, into `dir`; the nodes are stopped however that ends.
 */
async function snapshots (dir: string): Promise<{ beforeFile: string, afterFile: string, held: number }> {
  const listener = createNode({ listen: ['/ip4/0.0.0.0/tcp/0'], limits: { maxConnections: CONNS * 3 } })
  const dialer = createNode({ limits: { maxConnections: CONNS * 3 } })
  try {
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
    const beforeFile = await snapshot(dir, 'before')
    const held = await open(CONNS)
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const afterFile = await snapshot(dir, 'after')
    return { beforeFile, afterFile, held: held.length }
  } finally {
    await Promise.all([dialer.stop(), listener.stop()])
  }
}

async function main (): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lp2p-memory-objects-'))
  let b: Map<string, { size: number, count: number }>
  let after: Heap
  let held: number
  const old = new Set<number>()
  try {
    const files = await snapshots(dir)
    held = files.held
    let before: Heap | undefined = load(files.beforeFile)
    b = census(before)
    if (WHY !== undefined) for (let i = 0; i < before.raw.nodes.length; i += before.width) old.add(before.id(i))
    before = undefined
    after = load(files.afterFile)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const a = census(after)
  const rows = [...a].map(([k, x]) => {
    const y = b.get(k) ?? { size: 0, count: 0 }
    return { what: k, bytes: (x.size - y.size) / CONNS, count: (x.count - y.count) / CONNS }
  }).filter((r) => r.bytes > 0).sort((x, y) => y.bytes - x.bytes)
  const total = rows.reduce((s, r) => s + r.bytes, 0)
  console.log(`JS heap per connection (listener + dialer, ${CONNS} connections held, ${held} open): ${(total / 1024).toFixed(1)} KiB in self sizes`)
  console.log('   bytes  objects  constructor / type')
  for (const r of rows.slice(0, TOP)) console.log(`${r.bytes.toFixed(0).padStart(8)} ${r.count.toFixed(1).padStart(8)}  ${r.what}`)
  if (WHY !== undefined) why(old, after, WHY)
}

void main()
