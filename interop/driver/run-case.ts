/**
 * Runs one case of the matrix: starts the listener, waits for its address line,
 * starts the dialer with that address, and judges the dialer's JSON line.
 *
 * Every process is started as its own process group (`detached`), and every group
 * is killed when its case ends, when a timeout fires, and when the driver exits, so
 * no peer outlives the run. Output is kept bounded (the last {@link MAX_OUTPUT} bytes
 * of each stream), since a misbehaving peer may print without end.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import type { PeerCommand } from './peers.js'
import { isBuiltIn, type Case } from './matrix.js'

/** The last 64 KiB of a peer's stdout or stderr: enough for any stack trace, bounded against a chatty peer. */
const MAX_OUTPUT = 64 * 1024
/** A listener must print its address within this: Python's imports take ~2 s on a busy 2-core machine. */
const LISTENER_START_MS = 30_000
/** Extra time the driver gives a dialer past its own INTEROP_TIMEOUT_SECS before killing it. */
const DIALER_GRACE_MS = 5_000

export interface CaseResult {
  id: string
  status: 'pass' | 'fail'
  handshakePlusOneRTTMillis?: number
  pingRTTMillis?: number
  remoteAgent?: string
  /** A `pnet:wrong-psk` case: the dialer failed as it must, after this many ms. */
  refusedMillis?: number
  /** What failed, one line. */
  error?: string
  dialerStderr?: string
  listenerStderr?: string
  elapsedMillis: number
}

export interface RunOptions {
  timeoutSecs: number
  /** Extra environment for lp2p's peer only (e.g. LP2P_INTEROP_BREAK). */
  lp2pEnv: Record<string, string>
}

const live = new Set<ChildProcess>()

/** Kills a child's whole process group (it was started detached, so its pid is the group id). */
function killGroup (child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    live.delete(child)
    return
  }
  try { process.kill(-child.pid, 'SIGKILL') } catch { /* already gone */ }
  live.delete(child)
}

/** Kills every peer still running; called on exit and on SIGINT/SIGTERM. */
export function killAll (): void {
  for (const child of [...live]) killGroup(child)
}

class Tail {
  #text = ''
  push (chunk: Buffer): void {
    this.#text += chunk.toString('utf8')
    if (this.#text.length > MAX_OUTPUT) this.#text = this.#text.slice(-MAX_OUTPUT)
  }

  get text (): string { return this.#text }
}

interface Started {
  child: ChildProcess
  stdout: Tail
  stderr: Tail
  exited: Promise<number | string>
}

function start (cmd: PeerCommand, env: Record<string, string>): Started {
  const child = spawn(cmd.command, cmd.args, {
    cwd: cmd.cwd,
    env: { ...process.env, ...cmd.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  live.add(child)
  const stdout = new Tail(); const stderr = new Tail()
  child.stdout?.on('data', (c: Buffer) => stdout.push(c))
  child.stderr?.on('data', (c: Buffer) => stderr.push(c))
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (err) => { stderr.push(Buffer.from(`spawn error: ${err.message}\n`)); resolve('spawn-error') })
    child.on('close', (code, signal) => { live.delete(child); resolve(code ?? signal ?? 'unknown') })
  })
  return { child, stdout, stderr, exited }
}

/** Resolves to the value after `ms`, with an unref'd timer; `cancel` clears it. */
function delay<T> (ms: number, value: T): { promise: Promise<T>, cancel: () => void } {
  let timer: NodeJS.Timeout | undefined
  const promise = new Promise<T>((resolve) => { timer = setTimeout(() => resolve(value), ms) })
  return { promise, cancel: () => clearTimeout(timer) }
}

/** The first complete JSON line of `text` that has `field`, or undefined. */
export function findJsonLine (text: string, field: string): Record<string, unknown> | undefined {
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    if (!trimmed.startsWith('{')) continue
    try {
      const value = JSON.parse(trimmed) as unknown
      if (typeof value === 'object' && value !== null && field in value) return value as Record<string, unknown>
    } catch { /* not JSON: a log line */ }
  }
  return undefined
}

/**
 * Checks a dialer's result line against the contract, and against the case's check
 * when it has one; returns an error or undefined. `listenerAddr` is the address the
 * listener printed.
 *
 * `peer-record`: the dialer reports `remotePeerRecord: { certified, addresses }`, what
 * its own implementation did with the signed peer record the listener sent in
 * identify: certified when it verified the record and kept it (lp2p and js-libp2p:
 * the peer store holds the envelope; go-libp2p: the identify event carries it, go
 * keeps only its addresses; rust-libp2p: identify's info carries it; py-libp2p: its
 * peer store's `get_peer_record`). The addresses must hold the one we dialed.
 */
export function checkDialerResult (line: Record<string, unknown> | undefined, check?: string, listenerAddr?: string): string | undefined {
  if (line === undefined) return 'dialer printed no result line'
  const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0
  if (!num(line.handshakePlusOneRTTMillis)) return 'handshakePlusOneRTTMillis missing or not a number'
  if (!num(line.pingRTTMilllis)) return 'pingRTTMilllis missing or not a number'
  if (line.echoOk !== true) return 'echoOk is not true'
  if (typeof line.remoteAgent !== 'string' || line.remoteAgent === '') return 'remoteAgent missing: identify not read'
  const protocols = line.remoteProtocols
  if (!Array.isArray(protocols) || !protocols.includes('/echo/1.0.0') || !protocols.includes('/ipfs/ping/1.0.0')) {
    return 'remoteProtocols from identify lack /echo/1.0.0 or /ipfs/ping/1.0.0'
  }
  if (check === 'peer-record') {
    const record = line.remotePeerRecord as { certified?: unknown, addresses?: unknown } | undefined
    if (record === undefined || typeof record !== 'object') return 'remotePeerRecord missing: the dialer does not report the peer-record check'
    if (record.certified !== true) return "the listener's signed peer record was not accepted as certified"
    // py-libp2p signs its addresses with a /p2p/<id> suffix, which a peer store strips.
    const bare = (a: unknown): unknown => typeof a === 'string' ? a.replace(/\/p2p\/[^/]+$/, '') : a
    const dialed = bare(listenerAddr)
    if (!Array.isArray(record.addresses) || !record.addresses.map(bare).includes(dialed)) {
      return `the certified addresses ${JSON.stringify(record.addresses)} lack the listener's ${String(dialed)}`
    }
  }
  return undefined
}

function caseEnv (c: Case, role: 'listener' | 'dialer', key: string, timeoutSecs: number, psk: string | undefined): Record<string, string> {
  return {
    INTEROP_ROLE: role,
    INTEROP_TRANSPORT: c.combo.transport,
    // A transport with built-in security and muxer (QUIC) gets neither: each peer's
    // defaults are set up and unused.
    ...(isBuiltIn(c.combo) ? {} : { INTEROP_SECURITY: c.combo.security, INTEROP_MUXER: c.combo.muxer }),
    INTEROP_KEY_TYPE: key,
    INTEROP_TIMEOUT_SECS: String(timeoutSecs),
    ...(psk !== undefined ? { INTEROP_PSK: psk } : {}),
    ...(c.check !== undefined ? { INTEROP_CHECK: c.check } : {})
  }
}

/**
 * The PSKs (64 hex digits) of a private network case, listener's then dialer's: fresh
 * for each case, the same for `shared`, different for `wrong-psk`.
 */
export function casePsks (c: Case): [string | undefined, string | undefined] {
  if (c.pnet === undefined) return [undefined, undefined]
  const listener = randomBytes(32).toString('hex')
  return [listener, c.pnet === 'shared' ? listener : randomBytes(32).toString('hex')]
}

/**
 * A `pnet:wrong-psk` case passes when the dialer fails on its own, before its timeout,
 * without a result line; lp2p as the dialer must also name the reason (ERR_PNET_MISMATCH).
 */
export function judgeRefusal (c: Case, code: number | string, stdout: string, stderr: string): string | undefined {
  if (code === 0 || findJsonLine(stdout, 'echoOk') !== undefined) return 'the dialer connected although the PSKs differ'
  if (c.dialer === 'lp2p' && !stderr.includes('ERR_PNET_MISMATCH')) return 'lp2p refused, but without ERR_PNET_MISMATCH'
  return undefined
}

export async function runCase (c: Case, commands: Map<string, PeerCommand>, options: RunOptions): Promise<CaseResult> {
  const began = performance.now()
  const cmd = (name: string): PeerCommand => {
    const found = commands.get(name)
    if (found === undefined) throw new Error(`no command for ${name}`)
    return found
  }
  const extra = (name: string): Record<string, string> => name === 'lp2p' ? options.lp2pEnv : {}
  const [listenerPsk, dialerPsk] = casePsks(c)
  const listener = start(cmd(c.listener), { ...caseEnv(c, 'listener', c.listenerKey, options.timeoutSecs, listenerPsk), ...extra(c.listener) })
  let dialer: Started | undefined
  const result = (status: 'pass' | 'fail', fields: Partial<CaseResult>): CaseResult => ({
    id: c.id,
    status,
    ...fields,
    ...(status === 'fail' ? { dialerStderr: dialer?.stderr.text ?? '', listenerStderr: listener.stderr.text } : {}),
    elapsedMillis: Math.round(performance.now() - began)
  })
  try {
    // Wait for the listener's address line, its exit, or the start timeout.
    const addr = await new Promise<string | Error>((resolve) => {
      const timer = setTimeout(() => resolve(new Error(`listener printed no address within ${LISTENER_START_MS} ms`)), LISTENER_START_MS)
      const check = (): void => {
        const line = findJsonLine(listener.stdout.text, 'multiaddr')
        if (line !== undefined && typeof line.multiaddr === 'string') { clearTimeout(timer); resolve(line.multiaddr) }
      }
      listener.child.stdout?.on('data', check)
      void listener.exited.then((code) => { clearTimeout(timer); resolve(new Error(`listener exited (${code}) before printing its address`)) })
    })
    if (addr instanceof Error) return result('fail', { error: addr.message })
    if (!addr.includes('/p2p/')) return result('fail', { error: `listener address lacks /p2p/: ${addr}` })

    const dialStarted = performance.now()
    dialer = start(cmd(c.dialer), { ...caseEnv(c, 'dialer', c.dialerKey, options.timeoutSecs, dialerPsk), INTEROP_REMOTE_ADDR: addr, ...extra(c.dialer) })
    const limit = delay(options.timeoutSecs * 1000 + DIALER_GRACE_MS, 'driver-timeout' as const)
    const code = await Promise.race([dialer.exited, limit.promise])
    limit.cancel()
    if (code === 'driver-timeout') return result('fail', { error: `dialer still running after ${options.timeoutSecs} s + grace: killed` })
    if (c.pnet === 'wrong-psk') {
      const wrong = judgeRefusal(c, code, dialer.stdout.text, dialer.stderr.text)
      return wrong !== undefined ? result('fail', { error: wrong }) : result('pass', { refusedMillis: Math.round(performance.now() - dialStarted) })
    }
    const line = findJsonLine(dialer.stdout.text, 'echoOk')
    if (code !== 0) return result('fail', { error: `dialer exited with ${code}` })
    const problem = checkDialerResult(line, c.check, addr)
    if (problem !== undefined || line === undefined) return result('fail', { error: problem ?? 'no result' })
    return result('pass', {
      handshakePlusOneRTTMillis: line.handshakePlusOneRTTMillis as number,
      pingRTTMillis: line.pingRTTMilllis as number,
      remoteAgent: line.remoteAgent as string
    })
  } finally {
    if (dialer !== undefined) killGroup(dialer.child)
    killGroup(listener.child)
    await Promise.all([listener.exited, dialer?.exited])
  }
}
