/**
 * The parent side of the benchmark's process protocol (`bench/peers/rpc.ts`): starts a
 * peer program (lp2p or js-libp2p, listener or dialer) as its own Node process, with
 * `--expose-gc`, optionally inside a network namespace and with `--cpu-prof`, and calls
 * its commands over IPC.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import type { StackChoice } from '../peers/scenarios.js'

export type ImplName = 'lp2p' | 'js' | 'baseline'

const PEERS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'peers')

/**
 * V8 flags of every peer process, lp2p, js-libp2p and the baselines alike (so ratios
 * compare like with like). `--initial-old-space-size=128`: a bulk transfer churns
 * ~1 GB/s of 64 KiB buffers (socket reads, ciphertext, plaintext); with V8's default
 * sizing, a process that loaded a full node's modules keeps a small old-space limit
 * and runs back-to-back full collections (22-27% of CPU measured) that a bare
 * ceiling process does not. Override with LP2P_BENCH_NODE_FLAGS ('' for none) to
 * measure without.
 */
export const PEER_V8_FLAGS: string[] = (process.env.LP2P_BENCH_NODE_FLAGS ?? '--initial-old-space-size=128').split(' ').filter((f) => f !== '')

export interface PeerProcessOptions {
  impl: ImplName
  /** For error messages and profile names, e.g. `lp2p-listener`. */
  label: string
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string
  /** Write a V8 CPU profile into this folder when the process exits. */
  profileDir?: string
  /** Longest wait for the process to come up, ms. */
  startTimeout?: number
  /** V8 flags for this measure, after PEER_V8_FLAGS (the same for every implementation). */
  nodeFlags?: string[]
  /** Another peer program speaking the same protocol (the fault suite's), instead of `impl`'s. */
  script?: string
}

interface Reply { id: number, ok: boolean, result?: unknown, error?: string }

export class PeerProcess {
  readonly label: string
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  #nextId = 1
  #exited = false

  private constructor (child: ChildProcess, label: string) {
    this.#child = child
    this.label = label
    child.on('message', (m: Reply) => {
      const p = this.#pending.get(m.id)
      if (p === undefined) return
      this.#pending.delete(m.id)
      if (m.ok) p.resolve(m.result)
      else p.reject(new Error(`${label}: ${m.error ?? 'failed'}`))
    })
    child.on('exit', (code, signal) => {
      this.#exited = true
      for (const p of this.#pending.values()) p.reject(new Error(`${label} exited (${code ?? signal})`))
      this.#pending.clear()
    })
  }

  static async start (options: PeerProcessOptions): Promise<PeerProcess> {
    const nodeArgs = ['--expose-gc', ...PEER_V8_FLAGS, ...(options.nodeFlags ?? []), '--import', 'tsx']
    // One folder per process: Node writes one profile per thread (tsx's loader hooks run
    // in a worker) under its default name, CPU.<date>.<time>.<pid>.<thread>.<seq>; the
    // main thread's is thread 0.
    if (options.profileDir !== undefined) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${path.join(options.profileDir, `${options.label}.${Date.now()}`)}`)
    const script = options.script ?? path.join(PEERS, `${options.impl === 'js' ? 'js' : options.impl}.ts`)
    const [cmd, args] = options.netns !== undefined
      ? ['ip', ['netns', 'exec', options.netns, process.execPath, ...nodeArgs, script]]
      : [process.execPath, [...nodeArgs, script]]
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: path.join(PEERS, '..', '..') })
    const peer = new PeerProcess(child, options.label)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${options.label} did not start`)) }, options.startTimeout ?? 30_000)
      peer.#pending.set(0, {
        resolve: () => { clearTimeout(timer); resolve() },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      child.once('error', (e) => { clearTimeout(timer); reject(e) })
    })
    return peer
  }

  /** Calls `cmd` in the peer; rejects with the peer's error, or after `timeoutMs`. */
  async call<T = unknown> (cmd: string, args: unknown = {}, timeoutMs = 300_000): Promise<T> {
    if (this.#exited) throw new Error(`${this.label} is not running`)
    const id = this.#nextId++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.label}: ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      this.#child.send({ id, cmd, args })
    })
  }

  /** Resolves when the process has exited (at once if it has), with its code or signal. */
  async exited (): Promise<number | string | null> {
    if (this.#exited) return this.#child.exitCode ?? this.#child.signalCode
    return await new Promise((resolve) => { this.#child.once('exit', (code, signal) => { resolve(code ?? signal) }) })
  }

  /** Kills the process at once (SIGKILL): a peer that dies without closing anything. */
  kill (): void {
    this.#child.kill('SIGKILL')
  }

  /** Asks the peer to exit (it writes its CPU profile then); kills it if it hangs. */
  async stop (): Promise<void> {
    if (this.#exited) return
    const exited = new Promise<void>((resolve) => { this.#child.once('exit', () => { resolve() }) })
    this.call('exit', {}, 10_000).catch(() => {})
    const timer = setTimeout(() => { this.#child.kill('SIGKILL') }, 15_000)
    await exited
    clearTimeout(timer)
  }
}

/** A listener and a dialer of one implementation. */
export interface Pair {
  impl: ImplName
  listener: PeerProcess
  dialer: PeerProcess
  port: number
  tcpEchoPort?: number
  sealedEchoPort?: number
}

export interface PairOptions {
  /** Where the listener listens (and the dialer dials). */
  host: string
  maxConnections: number
  listenerNetns?: string
  dialerNetns?: string
  /** Also start a plain TCP echo server beside the listener (`Pair.tcpEchoPort`). */
  tcpEcho?: boolean
  /** Also start the sealed echo server beside the listener (`Pair.sealedEchoPort`). */
  sealedEcho?: boolean
  profileDir?: string
  /** Measure name, for profile file names. */
  measure: string
  /** Extra V8 flags for both processes (see PeerProcessOptions.nodeFlags). */
  nodeFlags?: string[]
  /** Security and muxer of both nodes (default Noise + yamux; lp2p only). */
  stack?: StackChoice
}

export async function startPair (impl: ImplName, o: PairOptions): Promise<Pair> {
  const base = { impl, ...(o.profileDir !== undefined ? { profileDir: o.profileDir } : {}), ...(o.nodeFlags !== undefined ? { nodeFlags: o.nodeFlags } : {}) }
  const [listener, dialer] = await Promise.all([
    PeerProcess.start({ ...base, label: `${impl}-${o.measure}-listener`, ...(o.listenerNetns !== undefined ? { netns: o.listenerNetns } : {}) }),
    PeerProcess.start({ ...base, label: `${impl}-${o.measure}-dialer`, ...(o.dialerNetns !== undefined ? { netns: o.dialerNetns } : {}) })
  ])
  try {
    const l = await listener.call<{ port: number, tcpEchoPort?: number, sealedEchoPort?: number }>('listen', {
      host: o.listenerNetns !== undefined ? o.host : '0.0.0.0',
      maxConnections: o.maxConnections,
      tcpEcho: o.tcpEcho === true,
      sealedEcho: o.sealedEcho === true,
      ...o.stack
    })
    await dialer.call('dialer', { maxConnections: o.maxConnections, ...o.stack })
    return {
      impl,
      listener,
      dialer,
      port: l.port,
      ...(l.tcpEchoPort !== undefined ? { tcpEchoPort: l.tcpEchoPort } : {}),
      ...(l.sealedEchoPort !== undefined ? { sealedEchoPort: l.sealedEchoPort } : {})
    }
  } catch (err) {
    await Promise.all([listener.stop(), dialer.stop()])
    throw err
  }
}

export async function stopPair (p: Pair | undefined): Promise<void> {
  if (p === undefined) return
  await Promise.all([p.listener.stop(), p.dialer.stop()])
}
