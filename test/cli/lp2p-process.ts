/** Runs the `lp2p` command as a separate process, for the CLI suites. Every wait is bounded. */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { withTimeout } from '../helpers/hostile.js'

const MAIN = path.resolve('src/cli/main.ts')

/** How long a command may run (a perf transfer of ~100 MiB on a loaded machine included). */
export const RUN_MS = 120_000
/** How long a long-running command may take to print its first line (tsx compiles first). */
export const FIRST_LINE_MS = 30_000
/** How long a command may take to exit once told to. */
export const EXIT_MS = 10_000

export function lp2p (args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
}

const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

/**
 * Runs a command to its exit; its whole output ('close': stdout and stderr read to
 * their end). A command still running after `ms` is killed and the run fails.
 */
export async function run (args: string[], env: NodeJS.ProcessEnv = {}, ms = RUN_MS): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = lp2p(args, env)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  try {
    const [code] = await withTimeout(once(child, 'close'), ms, `lp2p ${args.join(' ')} to exit`) as [number | null]
    return { code, stdout, stderr }
  } catch (err) {
    child.kill('SIGKILL')
    throw new Error(`${(err as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`, { cause: err })
  }
}

/** The exit code of `child` once it exits, within `ms`. */
export async function exited (child: ChildProcess, ms = EXIT_MS): Promise<number | null> {
  if (hasExited(child)) return child.exitCode
  const [code] = await withTimeout(once(child, 'exit'), ms, 'the lp2p process to exit') as [number | null]
  return code
}

/**
 * Makes sure `child` is gone (for `finally` blocks): SIGTERM, then SIGKILL if it has
 * not exited within `ms`. Never throws.
 */
export async function ensureStopped (child: ChildProcess, ms = EXIT_MS): Promise<void> {
  if (hasExited(child)) return
  child.kill('SIGTERM')
  try {
    await exited(child, ms)
  } catch {
    child.kill('SIGKILL')
    await exited(child, ms).catch(() => {})
  }
}

/**
 * The first stdout line of a long-running command (`--json` listeners print it once
 * listening). Fails if stdout ends first or nothing comes within `ms`.
 */
export async function firstLine (child: ChildProcess, ms = FIRST_LINE_MS): Promise<string> {
  // The interface stays open after the first line: it keeps reading stdout, so a
  // command that prints more never blocks on a full pipe.
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  let onLine!: (line: string) => void
  let onClose!: () => void
  const first = new Promise<string>((resolve, reject) => {
    onLine = resolve
    onClose = () => { reject(new Error(`stdout ended before the first line (exit code ${String(child.exitCode)})`)) }
    lines.once('line', onLine)
    lines.once('close', onClose)
  })
  try {
    return await withTimeout(first, ms, 'the first line of the lp2p process')
  } finally {
    lines.off('line', onLine)
    lines.off('close', onClose)
  }
}
