/**
 * The jsfuzz engine (jsfuzz 1.0.15, pinned; pure JavaScript): coverage from istanbul
 * instrumentation of a CommonJS file, a mutation loop in a parent process, inputs run
 * in a worker process over IPC, new-coverage inputs written to the corpus folder.
 *
 * lp2p is ESM TypeScript, so each target is first bundled with esbuild into one
 * CommonJS file whose `fuzz(buf)` runs the engine-independent property check
 * (`fuzz/lib/target.ts`); jsfuzz instruments that bundle, i.e. exactly the code the
 * target reaches, dependencies included. Another engine only needs its own file
 * here: a bundle entry and a way to run it (jazzer.js, for instance, takes the same
 * `module.exports.fuzz`).
 *
 * jsfuzz has no time budget and stops at the first crash: the run is ended with
 * SIGINT after the budget (its worker then writes `.nyc_output/cov.json`, from which
 * the coverage is read), and a crash input is picked up from `crash-<sha256>`.
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { build } from 'esbuild'

const require = createRequire(import.meta.url)
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..')

export interface EngineRun {
  executions: number
  /** Statements, branches and functions of the bundle the inputs reached, of all of them. */
  covered: number
  total: number
  corpusSize: number
  /** Crash inputs written by the engine. */
  crashes: Buffer[]
  /** The engine's last lines, for a crash report. */
  log: string
}

/** Bundles `targetFile` into `<workDir>/target.cjs` exporting `fuzz(buf)`. */
export async function bundle (targetFile: string, workDir: string): Promise<string> {
  const out = path.join(workDir, 'target.cjs')
  const entry = [
    `import target from ${JSON.stringify(targetFile)}`,
    `import { check } from ${JSON.stringify(path.join(ROOT, 'fuzz', 'lib', 'target.ts'))}`,
    "import { writeFileSync } from 'node:fs'",
    // jsfuzz reports executions only every 3 s; the worker counts them itself and
    // leaves the count behind when the budget's SIGINT ends it.
    'let executions = 0',
    "process.on('exit', () => { writeFileSync('executions', String(executions)) })",
    'export function fuzz (buf) { executions++; check(target, buf) }'
  ].join('\n')
  await build({
    stdin: { contents: entry, resolveDir: ROOT, loader: 'ts', sourcefile: 'fuzz-entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: out,
    logLevel: 'error'
  })
  return out
}

/** Runs jsfuzz on the bundle for `seconds`, with `corpusDir` as its (writable) corpus. */
export async function runJsfuzz (bundlePath: string, corpusDir: string, seconds: number, workDir: string): Promise<EngineRun> {
  const bin = require.resolve('jsfuzz/build/src/index.js')
  const child = spawn(process.execPath, [bin, path.relative(workDir, bundlePath), corpusDir, '--rss-limit-mb', '1024', '--timeout', '10'], {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true // its own process group: SIGINT reaches the worker too
  })
  let log = ''
  let executions = 0
  let corpusSize = 0
  const onLine = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-8192)
    for (const m of chunk.toString().matchAll(/#(\d+) (?:NEW|PULSE)\s+cov: \d+ corp: (\d+)/g)) {
      executions = Math.max(executions, Number(m[1]))
      corpusSize = Number(m[2])
    }
  }
  child.stdout.on('data', onLine)
  child.stderr.on('data', onLine)
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const stopAt = setTimeout(() => { signal(child.pid, 'SIGINT') }, seconds * 1000)
  const killAt = setTimeout(() => { signal(child.pid, 'SIGKILL') }, seconds * 1000 + 15_000)
  await exited
  clearTimeout(stopAt)
  clearTimeout(killAt)
  signal(child.pid, 'SIGKILL') // the worker, if the parent left it behind
  const counted = path.join(workDir, 'executions')
  if (existsSync(counted)) executions = Math.max(executions, Number(readFileSync(counted, 'utf8')))
  const crashes = readdirSync(workDir).filter((f) => f.startsWith('crash-')).map((f) => readFileSync(path.join(workDir, f)))
  const { covered, total } = coverage(path.join(workDir, '.nyc_output', 'cov.json'))
  return { executions, covered, total, corpusSize, crashes, log }
}

function signal (pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, sig)
  } catch {
    // already gone
  }
}

/** Covered and total statements, branches and functions in istanbul's coverage file. */
function coverage (file: string): { covered: number, total: number } {
  if (!existsSync(file)) return { covered: 0, total: 0 }
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { s: Record<string, number>, f: Record<string, number>, b: Record<string, number[]> }>
  let covered = 0
  let total = 0
  for (const fc of Object.values(data)) {
    for (const n of [...Object.values(fc.s), ...Object.values(fc.f), ...Object.values(fc.b).flat()]) {
      total++
      if (n > 0) covered++
    }
  }
  writeFileSync(file, '') // large; not needed any more
  return { covered, total }
}
