/**
 * `npm run interop`: builds the reference peers (cached outside the clone), asks
 * lp2p's peer what it supports, runs every pair of implementations on every
 * combination both sides support, in both directions, prints the table and writes
 * `interop/results.json`. Exits non-zero on any unexpected failure, showing the
 * failing peers' stderr. See `interop/README.md` for the peer contract and options.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  planMatrix, referenceCapabilities, type Capabilities, type Implementation, type PairMode,
  type PlannedCase, type UnsupportedEntry
} from './matrix.js'
import { CACHE_DIR, INTEROP_DIR, lp2pCommand, REFERENCE_PEERS, SetupError, type PeerCommand } from './peers.js'
import { buildMatrix, count, renderMarkdown, renderText } from './report.js'
import { killAll, runCase, type CaseResult } from './run-case.js'

const USAGE = `usage: npm run interop -- [options]
  --pairs lp2p|reference|all  which pairs to run (default lp2p: lp2p x every implementation, both
                              directions, and lp2p x lp2p; reference: the reference peers against
                              each other, which validates the harness without lp2p)
  --only a,b,...              only these reference implementations (go, rust, python, js-v3, js-v2)
  --filter REGEX              only cases whose id ("dialer -> listener column") matches
  --jobs N                    cases run at once (default 2: this is a 2-core machine)
  --timeout SECS              each dialer's own timeout (default 30; the driver kills it 5 s later)
  --broken MODE               run a deliberately broken lp2p (noise-bitflip or noise-prologue) and
                              expect every case involving lp2p to fail: proves the harness can fail
  --setup-only                build or install every peer into the cache, then exit
  --markdown                  also print the table as Markdown
  --results PATH              where to write the results (default interop/results.json)`

/** Bound on lp2p's --capabilities run: it only loads the sources through tsx. */
const CAPABILITIES_TIMEOUT_MS = 60_000

function log (line: string): void {
  process.stderr.write(`[interop] ${line}\n`)
}

function loadUnsupported (): Record<string, UnsupportedEntry[]> {
  const raw = JSON.parse(readFileSync(join(INTEROP_DIR, 'unsupported.json'), 'utf8')) as Record<string, unknown>
  const out: Record<string, UnsupportedEntry[]> = {}
  for (const [name, entries] of Object.entries(raw)) {
    if (name.startsWith('$')) continue
    if (!Array.isArray(entries)) throw new SetupError(`unsupported.json: ${name} must be a list`)
    for (const e of entries as UnsupportedEntry[]) {
      if (typeof e.reason !== 'string' || e.reason === '') throw new SetupError(`unsupported.json: every ${name} entry needs a reason`)
    }
    out[name] = entries as UnsupportedEntry[]
  }
  return out
}

/** lp2p's capabilities, and the cases it cannot run although it has each part (same shape as unsupported.json). */
function lp2pCapabilities (cmd: PeerCommand): Capabilities & { unsupported?: UnsupportedEntry[] } {
  const res = spawnSync(cmd.command, [...cmd.args, '--capabilities'], { cwd: cmd.cwd, encoding: 'utf8', timeout: CAPABILITIES_TIMEOUT_MS })
  const line = String(res.stdout ?? '').trim().split('\n').pop() ?? ''
  try {
    const caps = JSON.parse(line) as Capabilities & { unsupported?: UnsupportedEntry[] }
    if (res.status === 0 && Array.isArray(caps.transports) && Array.isArray(caps.security) &&
      Array.isArray(caps.muxers) && Array.isArray(caps.keyTypes)) return caps
  } catch { /* reported below */ }
  throw new SetupError(`lp2p's peer did not report its capabilities (exit ${res.status ?? res.signal}):\n${String(res.stderr ?? '').trim().split('\n').slice(-30).join('\n')}`)
}

async function runAll (cases: PlannedCase[], commands: Map<string, PeerCommand>, jobs: number, timeoutSecs: number, lp2pEnv: Record<string, string>): Promise<Map<string, CaseResult>> {
  const todo = cases.filter((c) => c.skip === undefined)
  const results = new Map<string, CaseResult>()
  let next = 0; let done = 0
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const c = todo[next++]
      if (c === undefined) break
      const r = await runCase(c, commands, { timeoutSecs, lp2pEnv })
      results.set(c.id, r)
      done++
      const ms = r.handshakePlusOneRTTMillis !== undefined ? ` ${r.handshakePlusOneRTTMillis.toFixed(1)} ms` : ''
      log(`[${done}/${todo.length}] ${r.status === 'pass' ? 'pass' : 'FAIL'} ${c.id}${ms}${r.error !== undefined ? ` (${r.error})` : ''}`)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker))
  return results
}

function lastLines (text: string | undefined, n: number): string {
  return (text ?? '').trim().split('\n').slice(-n).map((l) => `    ${l}`).join('\n')
}

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: 'lp2p' },
      only: { type: 'string' },
      filter: { type: 'string' },
      jobs: { type: 'string', default: '2' },
      timeout: { type: 'string', default: '30' },
      broken: { type: 'string' },
      'setup-only': { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      results: { type: 'string', default: join(INTEROP_DIR, 'results.json') },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help === true) { process.stdout.write(USAGE + '\n'); return 0 }
  const mode = values.pairs as PairMode
  if (!['lp2p', 'reference', 'all'].includes(mode)) throw new SetupError(`--pairs must be lp2p, reference or all\n${USAGE}`)
  const broken = values.broken ?? ''
  if (broken !== '' && !['noise-bitflip', 'noise-prologue'].includes(broken)) throw new SetupError('--broken must be noise-bitflip or noise-prologue')
  const jobs = Number(values.jobs); const timeoutSecs = Number(values.timeout)
  if (!Number.isInteger(jobs) || jobs < 1 || !Number.isInteger(timeoutSecs) || timeoutSecs < 1) throw new SetupError('--jobs and --timeout take positive integers')
  const only = values.only?.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const unknown = only?.filter((n) => !REFERENCE_PEERS.some((p) => p.name === n)) ?? []
  if (unknown.length > 0) throw new SetupError(`--only: unknown implementation(s) ${unknown.join(', ')}`)
  const filter = values.filter !== undefined ? new RegExp(values.filter) : undefined

  const unsupported = loadUnsupported()
  const started = performance.now()
  const commands = new Map<string, PeerCommand>()
  const impls: Implementation[] = []
  log(`cache: ${CACHE_DIR}`)
  for (const peer of REFERENCE_PEERS) {
    if (only !== undefined && !only.includes(peer.name)) continue
    commands.set(peer.name, peer.prepare(log))
    const entries = unsupported[peer.name] ?? []
    impls.push({ name: peer.name, isLp2p: false, capabilities: referenceCapabilities(entries), unsupported: entries })
  }
  log(`peers ready in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (values['setup-only'] === true) return 0

  if (mode !== 'reference') {
    const cmd = lp2pCommand()
    const caps = lp2pCapabilities(cmd)
    log(`lp2p capabilities: ${JSON.stringify(caps)}`)
    commands.set('lp2p', cmd)
    const { unsupported: lp2pUnsupported, ...lp2pCaps } = caps
    impls.unshift({ name: 'lp2p', isLp2p: true, capabilities: lp2pCaps, unsupported: lp2pUnsupported ?? [] })
  }

  let cases = planMatrix(impls, mode)
  // Two identically broken lp2p peers could agree with each other (same wrong prologue): not a proof.
  // Both break modes break Noise, so only Noise cases can show it.
  // A wrong-PSK case must fail anyway: it proves nothing about a broken lp2p.
  if (broken !== '') cases = cases.filter((c) => !(c.dialer === 'lp2p' && c.listener === 'lp2p') && c.combo.security === 'noise' && c.pnet !== 'wrong-psk')
  if (filter !== undefined) cases = cases.filter((c) => filter.test(c.id))
  const runnable = cases.filter((c) => c.skip === undefined).length
  log(`${cases.length} cases, ${runnable} to run, ${jobs} at a time${broken !== '' ? `, lp2p deliberately broken (${broken})` : ''}`)

  const lp2pEnv: Record<string, string> = broken !== '' ? { LP2P_INTEROP_BREAK: broken } : {}
  const results = await runAll(cases, commands, jobs, timeoutSecs, lp2pEnv)
  const matrix = buildMatrix(cases, results, broken !== '')
  const counts = count(matrix)
  const elapsed = (performance.now() - started) / 1000

  process.stdout.write('\n' + renderText(matrix) + '\n\n')
  if (values.markdown === true) process.stdout.write(renderMarkdown(matrix) + '\n\n')
  const failures = cases.filter((c) => matrix.cells.get(`${c.row}\t${c.column}`)?.status === 'FAIL')
  for (const c of failures) {
    const r = results.get(c.id)
    process.stdout.write(`FAIL ${c.id}: ${r?.error ?? ''}\n  dialer (${c.dialer}) stderr:\n${lastLines(r?.dialerStderr, 25)}\n  listener (${c.listener}) stderr:\n${lastLines(r?.listenerStderr, 25)}\n`)
  }
  for (const c of cases) {
    if (matrix.cells.get(`${c.row}\t${c.column}`)?.status === 'UNEXPECTED-PASS') process.stdout.write(`UNEXPECTED PASS ${c.id}: the broken lp2p (${broken}) was not caught\n`)
  }

  writeFileSync(values.results, JSON.stringify({
    generated: new Date().toISOString(),
    mode,
    broken: broken === '' ? undefined : broken,
    elapsedSeconds: Math.round(elapsed),
    capabilities: Object.fromEntries(impls.map((i) => [i.name, i.capabilities])),
    counts,
    columns: matrix.columns,
    rows: matrix.rows,
    cases: cases.map((c) => ({ ...c, cell: matrix.cells.get(`${c.row}\t${c.column}`), result: results.get(c.id) })),
    markdown: renderMarkdown(matrix)
  }, null, 2) + '\n')

  const skipped = counts.unsupported + counts.lp2pUnsupported
  if (broken !== '') {
    const proved = counts.unexpectedPass === 0 && counts.expectedFail > 0
    process.stdout.write(`broken lp2p (${broken}): ${counts.expectedFail} cases failed as expected, ${counts.unexpectedPass} passed unexpectedly: ${proved ? 'the harness catches it' : 'NOT caught'}\n`)
    process.stdout.write(`interop: ${counts.expectedFail + counts.pass} passed, ${counts.unexpectedPass + counts.fail} failed, ${skipped} skipped\n`)
    return proved && counts.fail === 0 ? 0 : 1
  }
  process.stdout.write(`${counts.pass} pass, ${counts.fail} FAIL, ${counts.unsupported} unsupported, ${counts.lp2pUnsupported} lp2p-unsupported; ${elapsed.toFixed(0)} s; results in ${values.results}\n`)
  process.stdout.write(`interop: ${counts.pass} passed, ${counts.fail} failed, ${skipped} skipped\n`)
  return counts.fail === 0 ? 0 : 1
}

process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => { killAll(); process.exit(130) })
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  killAll()
  if (err instanceof SetupError) process.stderr.write(`[interop] setup failed: ${err.message}\n`)
  else process.stderr.write(`[interop] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 2
})
