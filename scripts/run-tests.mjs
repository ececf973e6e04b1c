#!/usr/bin/env node
// Runs node:test over every `*.test.ts` file below the given folders (default: test/),
// excluding the separate suites (folders named interop, adversarial, faults, slow) unless a
// folder inside them is named explicitly. `--suite <name>` runs only the files inside
// folders of that name, wherever they are (e.g. every interop/ folder under test/).
// Node 20's `--test` does not expand globs itself.
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { spawnSync } from 'node:child_process'

const SEPARATE_SUITES = new Set(['interop', 'adversarial', 'faults', 'slow'])
const argv = process.argv.slice(2)
const suiteAt = argv.indexOf('--suite')
const suite = suiteAt === -1 ? undefined : argv.splice(suiteAt, 2)[1]
const roots = argv.filter((a) => !a.startsWith('-'))
const extra = argv.filter((a) => a.startsWith('-'))
if (roots.length === 0) roots.push('test')

function collect (dir, out, inSuite) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) {
      if (suite !== undefined) {
        collect(path, out, inSuite || name === suite)
        continue
      }
      // A separate suite's folder is skipped wherever it is below a named root (the
      // root itself may be one: `run-tests.mjs test/adversarial`).
      if (SEPARATE_SUITES.has(name)) continue
      collect(path, out, inSuite)
    } else if (name.endsWith('.test.ts') && (suite === undefined || inSuite)) {
      out.push(path)
    }
  }
}

const files = []
for (const root of roots) {
  if (statSync(root).isFile()) files.push(root)
  else collect(root, files, false)
}
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`)
  process.exit(1)
}
const args = ['--import', 'tsx', '--test', '--test-reporter=spec', ...extra, ...files.map((f) => relative(process.cwd(), f))]
const res = spawnSync(process.execPath, args, { stdio: 'inherit' })
process.exit(res.status ?? 1)
