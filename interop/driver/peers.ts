/**
 * The peer programs: where each one's sources are, how it is built into the cache
 * outside the clone, and the command that runs it.
 *
 * Each reference peer is built once per content hash of its sources (plus the
 * toolchain's version) into `~/.cache/lp2p-interop/<name>-<hash>/` (override with
 * `LP2P_INTEROP_CACHE`). A build goes into a temporary folder that is renamed into
 * place only when it succeeded, so an interrupted build is redone, never half used.
 * A second run on the same machine finds every folder and starts in seconds.
 *
 * A missing toolchain is an error naming what to install, never a silent skip.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const INTEROP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
export const REPO_DIR = join(INTEROP_DIR, '..')
export const CACHE_DIR = process.env.LP2P_INTEROP_CACHE ?? join(homedir(), '.cache', 'lp2p-interop')

/** How to start one peer process. */
export interface PeerCommand {
  command: string
  args: string[]
  cwd: string
  env?: Record<string, string>
}

export interface PeerProgram {
  name: string
  /** Builds (or finds in the cache) the peer and returns how to run it. */
  prepare: (log: (line: string) => void) => PeerCommand
}

export class SetupError extends Error {
  override name = 'SetupError'
}

const MARKER = '.lp2p-interop-ready'
/** Longest a single build step may take: a cold Rust build on 2 shared cores is the slowest, ~10 min. */
const BUILD_TIMEOUT_MS = 30 * 60_000

function run (log: (line: string) => void, command: string, args: string[], options: SpawnSyncOptions = {}): string {
  log(`$ ${command} ${args.join(' ')}`)
  const res = spawnSync(command, args, { encoding: 'utf8', timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 << 20, ...options })
  if (res.error !== undefined) throw new SetupError(`${command} failed to start: ${res.error.message}`)
  if (res.status !== 0) {
    const output = `${String(res.stdout ?? '')}${String(res.stderr ?? '')}`.trim().split('\n').slice(-40).join('\n')
    throw new SetupError(`${command} ${args.join(' ')} exited with ${res.status ?? res.signal}:\n${output}`)
  }
  return String(res.stdout ?? '')
}

/** Runs `tool args` to read its version, or throws naming what to install. */
function toolVersion (tool: string, args: string[], install: string): string {
  const res = spawnSync(tool, args, { encoding: 'utf8', timeout: 60_000 })
  if (res.error !== undefined || res.status !== 0) {
    throw new SetupError(`missing toolchain: '${tool}' is not usable (${res.error?.message ?? `exit ${res.status}`}). Install ${install}.`)
  }
  return `${res.stdout}${res.stderr}`.trim()
}

function listFiles (dir: string, skip: Set<string>): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    if (skip.has(name)) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...listFiles(path, skip))
    else out.push(path)
  }
  return out
}

/** Content hash of a peer's sources and the toolchain version: the cache key. */
function sourceHash (dir: string, toolchain: string): string {
  const hash = createHash('sha256').update(toolchain)
  for (const file of listFiles(dir, new Set(['node_modules', 'target', '__pycache__']))) {
    hash.update(relative(dir, file)).update('\0').update(readFileSync(file)).update('\0')
  }
  return hash.digest('hex').slice(0, 16)
}

/**
 * Returns the cache folder for `name` at this hash, building it with `build(tmp)` if
 * it is not there yet. Old folders of the same peer are removed after a new build.
 */
function cached (name: string, hash: string, log: (line: string) => void, build: (dir: string) => void): string {
  const dir = join(CACHE_DIR, `${name}-${hash}`)
  if (existsSync(join(dir, MARKER))) return dir
  mkdirSync(CACHE_DIR, { recursive: true })
  const tmp = `${dir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  log(`building ${name} into ${dir}`)
  try {
    build(tmp)
    writeFileSync(join(tmp, MARKER), new Date().toISOString() + '\n')
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true })
    throw err
  }
  for (const old of readdirSync(CACHE_DIR)) {
    if (old.startsWith(`${name}-`) && old !== `${name}-${hash}` && /^[0-9a-f]{16}$/.test(old.slice(name.length + 1))) {
      rmSync(join(CACHE_DIR, old), { recursive: true, force: true })
    }
  }
  return dir
}

const peerDir = (name: string): string => join(INTEROP_DIR, 'peers', name)

const goPeer: PeerProgram = {
  name: 'go',
  prepare (log) {
    const version = toolVersion('go', ['version'], 'Go (1.25 or newer) from the Go distribution')
    const src = peerDir('go')
    const dir = cached('go', sourceHash(src, version), log, (tmp) => {
      run(log, 'go', ['build', '-mod=readonly', '-trimpath', '-o', join(tmp, 'peer'), '.'], { cwd: src })
    })
    return { command: join(dir, 'peer'), args: [], cwd: dir }
  }
}

const rustPeer: PeerProgram = {
  name: 'rust',
  prepare (log) {
    const version = toolVersion('cargo', ['--version'], 'Rust and cargo (1.88 or newer) with rustup')
    const src = peerDir('rust')
    const dir = cached('rust', sourceHash(src, version), log, (tmp) => {
      // One shared target folder keeps compiled dependencies across source edits.
      const target = join(CACHE_DIR, 'rust-target')
      run(log, 'cargo', ['build', '--release', '--locked'], { cwd: src, env: { ...process.env, CARGO_TARGET_DIR: target } })
      copyFileSync(join(target, 'release', 'peer'), join(tmp, 'peer'))
      spawnSync('chmod', ['+x', join(tmp, 'peer')])
    })
    return { command: join(dir, 'peer'), args: [], cwd: dir }
  }
}

/** fastecdsa (a py-libp2p dependency) compiles against GMP when no wheel fits. */
function ensureGmp (log: (line: string) => void): void {
  if (spawnSync('dpkg', ['-s', 'libgmp-dev'], { stdio: 'ignore' }).status === 0) return
  if (existsSync('/usr/include/gmp.h') || existsSync('/usr/include/x86_64-linux-gnu/gmp.h')) return
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new SetupError("py-libp2p needs GMP headers: install Debian's libgmp-dev (apt-get install libgmp-dev)")
  }
  run(log, 'apt-get', ['update'])
  run(log, 'apt-get', ['install', '-y', '--no-install-recommends', 'libgmp-dev'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}

const pythonPeer: PeerProgram = {
  name: 'python',
  prepare (log) {
    const version = toolVersion('python3', ['--version'], 'Python 3.10 or newer with the venv module and pip')
    const src = peerDir('python')
    const dir = cached('python', sourceHash(src, version), log, (tmp) => {
      ensureGmp(log)
      run(log, 'python3', ['-m', 'venv', join(tmp, 'venv')])
      run(log, join(tmp, 'venv', 'bin', 'pip'), ['install', '--no-input', '--disable-pip-version-check', '-r', join(src, 'requirements.txt')])
      copyFileSync(join(src, 'peer.py'), join(tmp, 'peer.py'))
    })
    // A venv survives the rename from the temporary folder for running its python
    // (it finds its site-packages next to itself); only its scripts' shebangs
    // (pip) keep the old path, and nothing here runs them after the build.
    return { command: join(dir, 'venv', 'bin', 'python'), args: [join(dir, 'peer.py')], cwd: dir }
  }
}

function jsPeer (name: 'js-v3' | 'js-v2'): PeerProgram {
  return {
    name,
    prepare (log) {
      toolVersion('npm', ['--version'], 'Node.js 20 or newer with npm')
      const src = peerDir(name)
      const dir = cached(name, sourceHash(src, process.version), log, (tmp) => {
        for (const file of ['package.json', 'package-lock.json', 'peer.mjs', 'polyfill.mjs']) {
          copyFileSync(join(src, file), join(tmp, file))
        }
        run(log, 'npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tmp })
      })
      const major = Number(process.versions.node.split('.')[0])
      const args = ['--import', join(dir, 'polyfill.mjs')]
      // Node 20/21 hide the WebSocket global that js-libp2p's WebSocket dialer uses.
      if (major < 22) args.push('--experimental-websocket')
      args.push(join(dir, 'peer.mjs'))
      return { command: process.execPath, args, cwd: dir }
    }
  }
}

/** lp2p runs from the repository's sources through tsx: nothing to build. */
export function lp2pCommand (): PeerCommand {
  return {
    command: process.execPath,
    args: ['--import', 'tsx', join(INTEROP_DIR, 'peers', 'lp2p', 'peer.ts')],
    cwd: REPO_DIR
  }
}

export const REFERENCE_PEERS: PeerProgram[] = [goPeer, rustPeer, pythonPeer, jsPeer('js-v3'), jsPeer('js-v2')]
