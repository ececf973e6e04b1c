/**
 * Reads V8 CPU profiles (`node --cpu-prof`, the `.cpuprofile` JSON) and lists where the
 * time went: self time per function (the time spent in its own code, not its callees)
 * and per source file, as the evidence behind a missed target.
 *
 * Run: node --import tsx bench/lib/cpuprofile.ts <file.cpuprofile>... [--top 25]
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export interface SelfTime {
  name: string
  /** File (relative to the repository or node_modules) and 1-based line. */
  where: string
  ms: number
  /** Share of all sampled time, 0-1 (idle included). */
  share: number
}

export interface ProfileSummary {
  totalMs: number
  idleMs: number
  /** Time not idle and not the garbage collector. */
  functions: SelfTime[]
  files: Array<{ file: string, ms: number, share: number }>
  /** Self time by area: lp2p folder, node subsystem, npm package, GC, I/O. */
  areas: Array<{ area: string, ms: number }>
  /** Inclusive time (self + callees) of the application's own functions (src/, dist/src/, bench/). */
  inclusive: Array<{ name: string, where: string, ms: number }>
  gcMs: number
}

/** Which part of the system a function belongs to, for the per-area breakdown. */
function area (cf: CallFrame, file: string): string {
  if (cf.functionName === '(garbage collector)') return 'GC'
  if (cf.functionName === '(program)') return '(program: V8/native, unattributed)'
  if (/^(writeBuffer|writev|writevGeneric|writeGeneric|internalConnect|close|shutdown|onStreamRead|readStart)$/.test(cf.functionName) && (file === '(native)' || file.startsWith('node:'))) return 'socket I/O (syscalls)'
  const own = file.replace(/^dist\//, '')
  if (own.startsWith('src/')) return own.split('/').slice(0, own.startsWith('src/security/') || own.startsWith('src/muxer/') ? 3 : 2).join('/').replace(/\.[jt]s$/, '')
  if (file.startsWith('bench/') || file.startsWith('test/')) return 'bench harness'
  if (file.startsWith('node:internal/crypto')) return 'node:crypto'
  if (file.startsWith('node:internal/modules') || file.startsWith('node:internal/bootstrap') || file.includes('tsx/') || file.includes('cjs-module-lexer')) return 'module loading (start-up)'
  if (file.startsWith('node:internal/streams') || file === 'node:stream') return 'node streams'
  if (/^node:(net|internal\/stream_base_commons|internal\/net)/.test(file)) return 'node net'
  if (/^node:(events|internal\/event_target|internal\/abort_controller)/.test(file)) return 'events / AbortSignal'
  if (file.startsWith('node:internal/process') || file.startsWith('node:internal/timers') || file === 'node:timers') return 'scheduling (ticks, timers)'
  if (file.startsWith('node:')) return 'node other'
  if (file === '(native)') return 'native other'
  const pkg = file.split('/')
  return `npm ${pkg[0]?.startsWith('@') === true ? `${pkg[0]}/${pkg[1] ?? ''}` : pkg[0] ?? ''}`
}

function shortUrl (url: string): string {
  if (url === '') return '(native)'
  const p = url.replace(/^file:\/\//, '')
  const nm = p.lastIndexOf('node_modules/')
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length)
  if (p.startsWith('node:')) return p
  const rel = path.relative(process.cwd(), p)
  // The lp2p peers run the build: its frames keep their dist/src/x.js name, since their
  // line numbers are the build's, not src/x.ts's.
  return rel.startsWith('..') ? p : rel
}

/** lp2p's own code, as source (under tsx) or built, and the harness. */
const isOwn = (file: string): boolean => /^((dist\/)?src|bench)\//.test(file)

/** Self time per function and per file of one profile. */
export function summarize (profile: Profile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>()
  for (const n of profile.nodes) byId.set(n.id, n)
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    self.set(id, (self.get(id) ?? 0) + ((profile.timeDeltas[i] ?? 0) / 1000))
  }
  let total = 0
  let idle = 0
  let gc = 0
  const fns = new Map<string, SelfTime>()
  const files = new Map<string, number>()
  for (const [id, ms] of self) {
    total += ms
    const cf = (byId.get(id) as ProfileNode).callFrame
    if (cf.functionName === '(idle)') { idle += ms; continue }
    if (cf.functionName === '(garbage collector)') gc += ms
    const file = shortUrl(cf.url)
    const where = cf.url === '' ? file : `${file}:${cf.lineNumber + 1}`
    const key = `${cf.functionName}@${where}`
    const e = fns.get(key) ?? { name: cf.functionName === '' ? '(anonymous)' : cf.functionName, where, ms: 0, share: 0 }
    e.ms += ms
    fns.set(key, e)
    files.set(file, (files.get(file) ?? 0) + ms)
  }
  const areas = new Map<string, number>()
  for (const [id, ms] of self) {
    const cf = (byId.get(id) as ProfileNode).callFrame
    if (cf.functionName === '(idle)') continue
    const a = area(cf, shortUrl(cf.url))
    areas.set(a, (areas.get(a) ?? 0) + ms)
  }
  // Inclusive time of the application's functions: each tree node's self time plus its
  // subtree, added once per function even when it recurses (ancestors checked by key).
  const inclusive = new Map<string, { name: string, where: string, ms: number }>()
  const rootIds = new Set(profile.nodes.map((n) => n.id))
  for (const n of profile.nodes) for (const c of n.children ?? []) rootIds.delete(c)
  const walk = (id: number, open: Set<string>): number => {
    const n = byId.get(id) as ProfileNode
    const cf = n.callFrame
    const file = shortUrl(cf.url)
    const mine = isOwn(file)
    const key = `${cf.functionName}@${file}:${cf.lineNumber}:${cf.columnNumber}`
    const counted = mine && !open.has(key)
    if (counted) open.add(key)
    let total = self.get(id) ?? 0
    for (const c of n.children ?? []) total += walk(c, open)
    if (counted) {
      open.delete(key)
      const e = inclusive.get(key) ?? { name: cf.functionName === '' ? '(anonymous)' : cf.functionName, where: `${file}:${cf.lineNumber + 1}`, ms: 0 }
      e.ms += total
      inclusive.set(key, e)
    }
    return total
  }
  for (const r of rootIds) walk(r, new Set())
  const functions = [...fns.values()].sort((a, b) => b.ms - a.ms).slice(0, top)
  for (const f of functions) f.share = total > 0 ? f.ms / total : 0
  return {
    totalMs: total,
    idleMs: idle,
    gcMs: gc,
    functions,
    files: [...files].sort((a, b) => b[1] - a[1]).slice(0, top).map(([file, ms]) => ({ file, ms, share: total > 0 ? ms / total : 0 })),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([a, ms]) => ({ area: a, ms })),
    inclusive: [...inclusive.values()].sort((a, b) => b.ms - a.ms).slice(0, top)
  }
}

export function summarizeFile (file: string, top = 25): ProfileSummary {
  return summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, top)
}

/** A text report of a summary. */
export function formatSummary (label: string, s: ProfileSummary, top = 15): string {
  const busy = s.totalMs - s.idleMs
  const lines = [`${label}: ${(s.totalMs / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy (${((busy / s.totalMs) * 100).toFixed(0)}%), GC ${(s.gcMs / 1000).toFixed(2)} s`,
    '  self time by function (share of busy time):']
  for (const f of s.functions.slice(0, top)) {
    lines.push(`    ${((f.ms / busy) * 100).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`)
  }
  lines.push('  self time by area:')
  for (const a of s.areas.slice(0, 14)) lines.push(`    ${((a.ms / busy) * 100).toFixed(1).padStart(5)}%  ${a.ms.toFixed(0).padStart(6)} ms  ${a.area}`)
  lines.push('  inclusive time of lp2p / harness functions:')
  for (const f of s.inclusive.slice(0, top)) lines.push(`    ${((f.ms / busy) * 100).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`)
  return lines.join('\n')
}

if (process.argv[1]?.endsWith('cpuprofile.ts') === true) {
  const args = process.argv.slice(2)
  const t = args.indexOf('--top')
  const top = t >= 0 ? Number(args[t + 1]) : 25
  for (const f of args.filter((a, i) => !a.startsWith('--') && (t < 0 || i !== t + 1))) {
    console.log(formatSummary(path.basename(f), summarizeFile(f, top), top))
  }
}
