/**
 * A faulty link between two network namespaces, for the round-trip measure (delay
 * only) and the fault suite (`test/faults/`): builds `fault-link.c` into
 * `~/.cache/lp2p-bench/` (never committed), creates namespaces `<prefix><pid>-a`
 * (10.77.0.1, the dialer) and `<prefix><pid>-b` (10.77.0.2, the listener), each with
 * loopback and a TUN device named `<prefix>a` / `<prefix>b`, and runs fault-link
 * between the two devices. Its faults change at run time: `set()`, `partition()`.
 *
 * `teardown()` deletes both namespaces (which removes their devices) and stops the
 * forwarder; it is also registered for process exit and SIGINT/SIGTERM, so a failed
 * or interrupted run leaves nothing behind.
 *
 * Needs root (namespaces, TUN), `ip` and a C compiler; `unavailable()` says why not.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fault-link.c')
const CACHE = path.join(os.homedir(), '.cache', 'lp2p-bench')
const BINARY = path.join(CACHE, 'fault-link')

export const DIALER_IP = '10.77.0.1'
export const LISTENER_IP = '10.77.0.2'
/** Standard Ethernet MTU, so TCP segments look as on a real path. */
const MTU = 1500

/** The link's faults (see fault-link.c); every field optional, both directions alike. */
export interface Faults {
  /** One-way delay, ms. */
  delayMs?: number
  /** Link rate, Mbit/s; 0 = unlimited. */
  rateMbit?: number
  /** The rate limiter's queue, bytes (tail drop beyond it). */
  queueBytes?: number
  /** Probability of losing a packet, 0..1. */
  loss?: number
  /** Probability of holding a packet back by `reorderMs`, 0..1. */
  reorder?: number
  reorderMs?: number
  /** Probability of delivering a packet twice, 0..1. */
  duplicate?: number
  seed?: number
}

export interface LinkDirectionStats {
  in: number
  out: number
  lost: number
  partitioned: number
  queueDrops: number
  overflow: number
  duplicated: number
  reordered: number
  pending: number
}

/** Counters per direction: `ab` dialer to listener, `ba` the way back. */
export interface LinkStats { partition: boolean, ab: LinkDirectionStats, ba: LinkDirectionStats }

export interface FaultLink {
  dialerNs: string
  listenerNs: string
  /** Changes faults now. */
  set: (faults: Faults) => Promise<void>
  /** Drops everything both ways (packets in flight too) until called with false. */
  partition: (on: boolean) => Promise<void>
  stats: () => Promise<LinkStats>
  teardown: () => void
}

/** The bench's delayed link: a FaultLink with only a delay. */
export interface DelayedLink extends FaultLink {
  /** One-way delay in ms; RTT is twice this. */
  delayMs: number
}

function run (cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Why the link cannot be built here, or undefined when it can. */
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
    return 'no C compiler (cc) to build bench/netem/fault-link.c'
  }
  return undefined
}

/** Compiles fault-link.c when the cached binary is missing or older than the source. */
function build (): string {
  mkdirSync(CACHE, { recursive: true })
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < statSync(SOURCE).mtimeMs) {
    run('cc', ['-O2', '-Wall', '-Wextra', '-o', BINARY, SOURCE])
  }
  return BINARY
}

function faultArgs (f: Faults): string[] {
  const out: string[] = []
  if (f.delayMs !== undefined) out.push(`delay_us=${Math.round(f.delayMs * 1000)}`)
  if (f.rateMbit !== undefined) out.push(`rate_kbit=${Math.round(f.rateMbit * 1000)}`)
  if (f.queueBytes !== undefined) out.push(`queue_bytes=${Math.round(f.queueBytes)}`)
  if (f.loss !== undefined) out.push(`loss=${f.loss}`)
  if (f.reorder !== undefined) out.push(`reorder=${f.reorder}`)
  if (f.reorderMs !== undefined) out.push(`reorder_us=${Math.round(f.reorderMs * 1000)}`)
  if (f.duplicate !== undefined) out.push(`duplicate=${f.duplicate}`)
  if (f.seed !== undefined) out.push(`seed=${Math.round(f.seed)}`)
  return out
}

/**
 * Sets up the two namespaces and the link between them. `prefix` names the
 * namespaces and devices (at most 6 characters, so a device name fits Linux's 15).
 */
export async function createFaultLink (faults: Faults = {}, prefix = 'lp2p-'): Promise<FaultLink> {
  if (prefix.length > 6) throw new RangeError(`namespace prefix ${prefix} is longer than 6 characters`)
  const bin = build()
  const a = `${prefix}${process.pid}-a`
  const b = `${prefix}${process.pid}-b`
  const devA = `${prefix}a`
  const devB = `${prefix}b`
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
    for (const [ns, dev, ip] of [[a, devA, DIALER_IP], [b, devB, LISTENER_IP]] as const) {
      run('ip', ['netns', 'add', ns])
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      run('ip', ['-n', ns, 'tuntap', 'add', 'dev', dev, 'mode', 'tun'])
      run('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev])
      run('ip', ['-n', ns, 'link', 'set', dev, 'mtu', String(MTU), 'up'])
    }
    const child = spawn(bin, [`/var/run/netns/${a}`, devA, `/var/run/netns/${b}`, devB, ...faultArgs(faults)], {
      stdio: ['pipe', 'pipe', 'inherit']
    })
    forwarder = child
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    const waiting: Array<(line: string) => void> = []
    let failed: Error | undefined
    lines.on('line', (line) => { waiting.shift()?.(line) })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('fault-link did not start')) }, 10_000)
      waiting.push(() => { clearTimeout(timer); resolve() })
      child.once('exit', (code) => {
        clearTimeout(timer)
        failed = new Error(`fault-link exited with ${code}`)
        reject(failed)
        for (const w of waiting.splice(0)) w('error')
      })
    })
    // One command at a time: each is answered by exactly one line.
    let queue = Promise.resolve('')
    const command = async (line: string): Promise<string> => {
      queue = queue.then(async () => {
        if (failed !== undefined) throw failed
        return await new Promise<string>((resolve) => {
          waiting.push(resolve)
          child.stdin?.write(line + '\n')
        })
      })
      return await queue
    }
    const expectOk = async (line: string): Promise<void> => {
      const answer = await command(line)
      if (answer !== 'ok') throw new Error(`fault-link: ${line}: ${answer}`)
    }
    return {
      dialerNs: a,
      listenerNs: b,
      set: async (f) => { await expectOk(['set', ...faultArgs(f)].join(' ')) },
      partition: async (on) => { await expectOk(`partition ${on ? 'on' : 'off'}`) },
      stats: async () => JSON.parse(await command('stats')) as LinkStats,
      teardown
    }
  } catch (err) {
    teardown()
    throw err
  }
}

/** The round-trip measure's link: namespaces `lp2pb-<pid>-a/b`, a fixed delay. */
export async function createDelayedLink (delayMs: number): Promise<DelayedLink> {
  const link = await createFaultLink({ delayMs }, 'lp2pb-')
  return { ...link, delayMs }
}
