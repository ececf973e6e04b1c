/**
 * `npm run fuzz -- --seconds N [--target a,b] [--keep]`: coverage-guided fuzzing of
 * every target in `fuzz/targets/` (or the named ones), one after the other, N seconds
 * each (default 60), with the jsfuzz engine (`fuzz/engines/jsfuzz.ts`).
 *
 * Each target starts from its corpus (`fuzz/corpus/<name>/`, seeded from real
 * traffic by `fuzz/record.ts`) and its regressions (`fuzz/regressions/<name>/`), in a
 * scratch copy. A crash input is written to `fuzz/regressions/<name>/`, where
 * `npm test` replays it (`test/fuzz/corpus.test.ts`) until it is fixed, and the run
 * fails. `--keep` adds the inputs that reached new coverage to the corpus.
 *
 * Prints, per target: executions, executions per second, coverage reached
 * (statements, branches and functions of the code bundled for the target), corpus
 * growth and crashes.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { bundle, runJsfuzz } from './engines/jsfuzz.js'

const FUZZ = path.dirname(fileURLToPath(import.meta.url))

export function targetNames (): string[] {
  return readdirSync(path.join(FUZZ, 'targets')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort()
}

function copyInto (from: string, to: string): number {
  if (!existsSync(from)) return 0
  let n = 0
  for (const f of readdirSync(from)) {
    cpSync(path.join(from, f), path.join(to, f))
    n++
  }
  return n
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      target: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help === true) {
    console.log('usage: npm run fuzz -- [--seconds N] [--target a,b] [--keep]\ntargets: ' + targetNames().join(', '))
    return
  }
  const seconds = Number(values.seconds)
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError('--seconds must be a positive number')
  const all = targetNames()
  const names = values.target === undefined ? all : values.target.split(',')
  for (const n of names) if (!all.includes(n)) throw new RangeError(`no fuzz target ${n} (have: ${all.join(', ')})`)
  let failed = 0
  const rows: string[] = []
  for (const name of names) {
    const work = mkdtempSync(path.join(os.tmpdir(), `lp2p-fuzz-${name}-`))
    try {
      const corpus = path.join(work, 'corpus')
      mkdirSync(corpus)
      const seeds = copyInto(path.join(FUZZ, 'corpus', name), corpus) + copyInto(path.join(FUZZ, 'regressions', name), corpus)
      const seen = new Set(readdirSync(corpus))
      const file = await bundle(path.join(FUZZ, 'targets', `${name}.ts`), work)
      const r = await runJsfuzz(file, corpus, seconds, work)
      const found = readdirSync(corpus).filter((f) => !seen.has(f))
      if (values.keep === true && found.length > 0) {
        mkdirSync(path.join(FUZZ, 'corpus', name), { recursive: true })
        for (const f of found) cpSync(path.join(corpus, f), path.join(FUZZ, 'corpus', name, f))
      }
      for (const crash of r.crashes) {
        const dir = path.join(FUZZ, 'regressions', name)
        mkdirSync(dir, { recursive: true })
        const id = createHash('sha256').update(crash).digest('hex').slice(0, 16)
        writeFileSync(path.join(dir, `crash-${id}`), crash)
        console.log(`fuzz: ${name}: CRASH, input written to fuzz/regressions/${name}/crash-${id} (${crash.byteLength} bytes: ${crash.subarray(0, 64).toString('hex')}${crash.byteLength > 64 ? '...' : ''})`)
        console.log(r.log.split('\n').slice(-25).join('\n'))
        failed++
      }
      const pct = r.total > 0 ? (100 * r.covered / r.total).toFixed(1) : '?'
      const row = `${name}: ${r.executions} execs (${Math.round(r.executions / seconds)}/s), coverage ${r.covered}/${r.total} (${pct}%), corpus ${seeds} -> ${seeds + found.length}, crashes ${r.crashes.length}`
      rows.push(row)
      console.log(`fuzz: ${row}`)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }
  console.log(`\nfuzz: ${names.length} targets, ${seconds} s each`)
  for (const row of rows) console.log(`  ${row}`)
  if (failed > 0) {
    console.log(`fuzz: ${failed} crash(es); each is now a regression test (npm test)`)
    process.exitCode = 1
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => { console.error(err); process.exitCode = 1 })
}
