/**
 * Reads V8 CPU profiles (`node --cpu-prof`, the `.cpuprofile` JSON) and lists where the
 * time went: self time per function (the time spent in its own code, not its callees)
 * and per source file, as the evidence behind a missed target.
 *
 * Run: node --import tsx bench/lib/cpuprofile.ts <file.cpuprofile>... [--top 25]
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame }
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
  gcMs: number
}

function shortUrl (url: string): string {
  if (url === '') return '(native)'
  const p = url.replace(/^file:\/\//, '')
  const nm = p.lastIndexOf('node_modules/')
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length)
  if (p.startsWith('node:')) return p
  const rel = path.relative(process.cwd(), p)
  return rel.startsWith('..') ? p : rel
}

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
  const functions = [...fns.values()].sort((a, b) => b.ms - a.ms).slice(0, top)
  for (const f of functions) f.share = total > 0 ? f.ms / total : 0
  return {
    totalMs: total,
    idleMs: idle,
    gcMs: gc,
    functions,
    files: [...files].sort((a, b) => b[1] - a[1]).slice(0, top).map(([file, ms]) => ({ file, ms, share: total > 0 ? ms / total : 0 }))
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
  lines.push('  self time by file:')
  for (const f of s.files.slice(0, 10)) lines.push(`    ${((f.ms / busy) * 100).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.file}`)
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
