/**
 * A delayed link between two network namespaces, for the round-trip measure: builds
 * `delay-link.c` into `~/.cache/lp2p-bench/` (never committed), creates namespaces
 * `lp2p-bench-<pid>-a` (10.77.0.1, the dialer) and `-b` (10.77.0.2, the listener),
 * each with loopback and a TUN device, and runs delay-link between the two devices.
 *
 * `teardown()` deletes both namespaces (which removes their devices) and stops the
 * forwarder; it is also registered for process exit and SIGINT/SIGTERM, so a failed
 * or interrupted benchmark leaves nothing behind.
 *
 * Needs root (namespaces, TUN) and a C compiler; `unavailable()` says why not.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'delay-link.c')
const CACHE = path.join(os.homedir(), '.cache', 'lp2p-bench')
const BINARY = path.join(CACHE, 'delay-link')

export const DIALER_IP = '10.77.0.1'
export const LISTENER_IP = '10.77.0.2'
/** Standard Ethernet MTU, so TCP segments look as on a real path. */
const MTU = 1500

export interface DelayedLink {
  dialerNs: string
  listenerNs: string
  /** One-way delay in ms; RTT is twice this. */
  delayMs: number
  teardown: () => void
}

function run (cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Why the delayed link cannot be built here, or undefined when it can. */
export function unavailable (): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and TUN devices)'
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun'
  try {
    run('ip', ['-V'])
  } catch {
    return 'no `ip` command (iproute2)'
  }
  try {
    run('cc', ['--version'])
  } catch {
    return 'no C compiler (cc) to build bench/netem/delay-link.c'
  }
  return undefined
}

/** Compiles delay-link.c when the cached binary is missing or older than the source. */
function build (): string {
  mkdirSync(CACHE, { recursive: true })
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < statSync(SOURCE).mtimeMs) {
    run('cc', ['-O2', '-Wall', '-Wextra', '-o', BINARY, SOURCE])
  }
  return BINARY
}

/** Sets up the two namespaces and the delayed link between them. */
export async function createDelayedLink (delayMs: number): Promise<DelayedLink> {
  const bin = build()
  const a = `lp2p-bench-${process.pid}-a`
  const b = `lp2p-bench-${process.pid}-b`
  let forwarder: ChildProcess | undefined
  let down = false
  const teardown = (): void => {
    if (down) return
    down = true
    forwarder?.kill('SIGTERM')
    for (const ns of [a, b]) {
      try {
        run('ip', ['netns', 'del', ns])
      } catch {
        // Not created (setup failed early), or already gone.
      }
    }
    process.off('exit', teardown)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  const onSignal = (): void => {
    teardown()
    process.exit(130)
  }
  process.on('exit', teardown)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    for (const [ns, dev, ip] of [[a, 'lp2pa', DIALER_IP], [b, 'lp2pb', LISTENER_IP]] as const) {
      run('ip', ['netns', 'add', ns])
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      run('ip', ['-n', ns, 'tuntap', 'add', 'dev', dev, 'mode', 'tun'])
      run('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev])
      run('ip', ['-n', ns, 'link', 'set', dev, 'mtu', String(MTU), 'up'])
    }
    const child = spawn(bin, [`/var/run/netns/${a}`, 'lp2pa', `/var/run/netns/${b}`, 'lp2pb', String(Math.round(delayMs * 1000))], {
      stdio: ['pipe', 'pipe', 'inherit']
    })
    forwarder = child
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('delay-link did not start')) }, 10_000)
      child.stdout?.once('data', () => { clearTimeout(timer); resolve() })
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`delay-link exited with ${code}`)) })
    })
    return { dialerNs: a, listenerNs: b, delayMs, teardown }
  } catch (err) {
    teardown()
    throw err
  }
}
