/**
 * Shared pieces of the adversarial suite (`test/adversarial`): a scripted raw TCP peer
 * that speaks bytes, a byte inbox with bounded waits, the process-level guards, and
 * small wait and error helpers. The target node itself is in `hostile-target.ts`; the
 * Noise and yamux layers of the hostile peer in `hostile-noise.ts` and
 * `hostile-yamux.ts`.
 *
 * Nothing here mocks a part of lp2p: the hostile peer builds its bytes from lp2p's own
 * pure codecs (multistream messages, the Noise XX machine, yamux headers) and sends
 * them over a real `net.Socket` to a real node.
 */
import net from 'node:net'
import v8 from 'node:v8'
import vm from 'node:vm'
import { performance } from 'node:perf_hooks'
import { isLp2pError } from '../../src/errors.js'
import { decodeUvarint } from '../../src/wire/varint.js'

export type Parse<T> = (buf: Buffer) => { value: T, used: number } | undefined

/**
 * Waits for something to happen, all woken together; each is bounded by its own
 * timer, cleared when woken, so no wait outlives its case.
 */
export class Wakeups {
  readonly #waiters = new Set<() => void>()

  /** Resolves at the next `wake`, or after `ms`. */
  async next (ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#waiters.add(done)
    })
  }

  wake (): void {
    for (const w of [...this.#waiters]) w()
  }
}

/**
 * Received bytes, in order, with waits that are always bounded. `pull` takes one
 * parsed item off the front once it is complete.
 */
export class ByteInbox {
  #chunks: Buffer[] = []
  #length = 0
  readonly #wakeups = new Wakeups()
  #ended = false
  #endReason = 'ended'
  /** Bytes ever pushed. */
  total = 0

  get length (): number {
    return this.#length
  }

  push (chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    this.#length += chunk.byteLength
    this.total += chunk.byteLength
    this.#wakeups.wake()
  }

  /** No more bytes will come (`reason` names why, for error messages). */
  end (reason = 'ended'): void {
    if (this.#ended) return
    this.#ended = true
    this.#endReason = reason
    this.#wakeups.wake()
  }

  /** Everything received and not taken, as one buffer (left in place). */
  peek (): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)]
    return this.#chunks[0] ?? Buffer.alloc(0)
  }

  /** Removes and returns everything received so far. */
  takeAll (): Buffer {
    const all = this.peek()
    this.#chunks = []
    this.#length = 0
    return all
  }

  /** Waits until `parse` finds a complete item at the front; removes and returns it. */
  async pull<T> (parse: Parse<T>, what: string, timeoutMs = 3000): Promise<T> {
    const started = performance.now()
    for (;;) {
      const buf = this.peek()
      const r = parse(buf)
      if (r !== undefined) {
        const rest = buf.subarray(r.used)
        this.#chunks = rest.byteLength > 0 ? [rest] : []
        this.#length = rest.byteLength
        return r.value
      }
      if (this.#ended) throw new Error(`${what}: the peer ${this.#endReason} (${buf.byteLength} bytes unparsed)`)
      const left = timeoutMs - (performance.now() - started)
      if (left <= 0) throw new Error(`${what}: nothing within ${timeoutMs} ms (${buf.byteLength} bytes unparsed)`)
      await this.#wakeups.next(left)
    }
  }

  /** Exactly `n` bytes. */
  async read (n: number, what = `${n} bytes`, timeoutMs = 3000): Promise<Buffer> {
    return await this.pull((b) => b.byteLength >= n ? { value: Buffer.from(b.subarray(0, n)), used: n } : undefined, what, timeoutMs)
  }

}

/** One multistream-select message (`specs/multistream-select.md`), parsed leniently. */
export const parseMultistream: Parse<string> = (buf) => {
  const vi = decodeUvarint(buf, 0, 3)
  if (vi === undefined || buf.byteLength < vi.length + vi.value) return undefined
  const body = buf.subarray(vi.length, vi.length + vi.value)
  return { value: body.subarray(0, Math.max(0, body.byteLength - 1)).toString('utf8'), used: vi.length + vi.value }
}

/**
 * A hostile peer at the byte level: a `net.Socket` it writes exactly what a test says
 * to, and whose received bytes go to an inbox or, once a secure layer takes over, to
 * a consumer.
 */
export class RawPeer {
  readonly socket: net.Socket
  readonly inbox = new ByteInbox()
  /** Settles when the socket is fully closed (either side). */
  readonly closed: Promise<void>
  /** performance.now() of the close. */
  closedAt: number | undefined
  /** performance.now() of the first sign the node closed: its FIN, or the close. */
  remoteClosedAt: number | undefined
  #consumer: ((chunk: Buffer) => void) | undefined
  readonly #closeWaiters: Array<() => void> = []

  /** Every peer not yet closed, so a test can clean up what it left open. */
  static readonly live = new Set<RawPeer>()

  /** Destroys every raw peer still open (call after each test). */
  static destroyAll (): void {
    for (const p of RawPeer.live) p.destroy()
  }

  constructor (socket: net.Socket) {
    this.socket = socket
    RawPeer.live.add(this)
    socket.on('data', (chunk: Buffer) => {
      if (this.#consumer !== undefined) this.#consumer(chunk)
      else this.inbox.push(chunk)
    })
    socket.on('end', () => {
      this.remoteClosedAt ??= performance.now()
      this.inbox.end('ended its side')
      this.#notifyClosed()
    })
    // A reset or EPIPE is followed by 'close', which is what the tests watch; the
    // listener keeps it from being thrown.
    socket.on('error', () => {})
    this.closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        this.closedAt = performance.now()
        RawPeer.live.delete(this)
        this.remoteClosedAt ??= this.closedAt
        this.inbox.end('closed the connection')
        this.#notifyClosed()
        resolve()
      })
    })
  }

  #notifyClosed (): void {
    for (const w of this.#closeWaiters.splice(0)) w()
  }

  /** Connects to a TCP listener (allowHalfOpen: a FIN from the node does not close ours). */
  static async connect (port: number, host = '127.0.0.1'): Promise<RawPeer> {
    const socket = net.connect({ port, host, allowHalfOpen: true, noDelay: true })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    socket.removeAllListeners('error')
    return new RawPeer(socket)
  }

  get isClosed (): boolean {
    return this.closedAt !== undefined
  }

  write (bytes: Uint8Array): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false
    return this.socket.write(bytes)
  }

  /** Writes `bytes` in pieces of `size`, `gapMs` apart, until done or the socket closes. */
  async writeSlowly (bytes: Uint8Array, size: number, gapMs: number): Promise<number> {
    let sent = 0
    while (sent < bytes.byteLength && !this.isClosed) {
      this.write(bytes.subarray(sent, sent + size))
      sent += size
      await sleep(gapMs)
    }
    return Math.min(sent, bytes.byteLength)
  }

  /** From now on received bytes go to `fn`, starting with those still in the inbox. */
  setConsumer (fn: (chunk: Buffer) => void): void {
    this.#consumer = fn
    const held = this.inbox.takeAll()
    if (held.byteLength > 0) fn(held)
  }

  end (): void {
    if (!this.socket.destroyed) this.socket.end()
  }

  destroy (): void {
    this.socket.destroy()
  }

  /**
   * Resolves with the ms from the call until the node closed the connection (its FIN
   * or the socket's close, whichever first; our side stays open, allowHalfOpen).
   * Rejects after `timeoutMs`.
   */
  async waitClosed (timeoutMs: number, what = 'the node to close the connection'): Promise<number> {
    const started = performance.now()
    if (this.remoteClosedAt === undefined) {
      await withTimeout(new Promise<void>((resolve) => { this.#closeWaiters.push(resolve) }), timeoutMs, what)
    }
    return Math.max(0, (this.remoteClosedAt as number) - started)
  }

  async readMessage (timeoutMs = 3000): Promise<string> {
    return await this.inbox.pull(parseMultistream, 'a multistream message', timeoutMs)
  }
}

// --- process-level guards ------------------------------------------------------------

export interface Guards {
  /** Fails (throws) when an unhandled rejection or uncaught exception happened; clears. */
  check: () => void
}

let guards: { problems: unknown[] } | undefined

/**
 * Records every unhandled rejection and uncaught exception of the process, so a test
 * can fail on them (the node must never produce one, whatever a peer sends).
 */
export function installGuards (): Guards {
  if (guards === undefined) {
    const g = { problems: [] as unknown[] }
    process.on('unhandledRejection', (reason) => { g.problems.push(reason) })
    process.on('uncaughtException', (err) => { g.problems.push(err) })
    guards = g
  }
  const g = guards
  return {
    check () {
      const found = g.problems.splice(0)
      if (found.length > 0) {
        const text = found.map((p) => p instanceof Error ? (p.stack ?? p.message) : String(p)).join('\n---\n')
        throw new Error(`${found.length} unhandled rejection(s) / uncaught exception(s):\n${text}`)
      }
    }
  }
}

// --- waits, errors, memory -------------------------------------------------------------

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Rejects with `what` when `p` does not settle within `ms`. */
export async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`timed out after ${ms} ms waiting for ${what}`)) }, ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls `cond` every 10 ms until it holds; throws after `ms` naming `what`. */
export async function until (cond: () => boolean, ms: number, what: string): Promise<void> {
  await untilAsync(async () => cond(), ms, what)
}

/** Like {@link until} for an asynchronous condition. */
export async function untilAsync (cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const started = performance.now()
  while (!(await cond())) {
    if (performance.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(10)
  }
}

/** The `code`s along an error's `cause` chain (outermost first). */
export function codeChain (err: unknown): string[] {
  const out: string[] = []
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') out.push(code)
    e = (e as { cause?: unknown }).cause
  }
  return out
}

/** True when `err` or one of its causes is an Lp2pError with `code`. */
export function hasCode (err: unknown, code: string): boolean {
  return codeChain(err).includes(code)
}

/** Asserts `err` is (or wraps) an Lp2pError with `code`; returns it for more checks. */
export function expectCode (err: unknown, code: string): Error {
  if (!hasCode(err, code) || !(isLp2pError(err) || err instanceof Error)) {
    const detail = err instanceof Error ? `${err.name}: ${err.message} [${codeChain(err).join(' <- ')}]` : String(err)
    throw new Error(`expected ${code}, got ${detail}`)
  }
  return err as Error
}

/** Awaits `p` and returns what it rejected with; fails if it resolved. */
export async function rejection (p: Promise<unknown>, ms = 5000, what = 'the operation to fail'): Promise<unknown> {
  try {
    await withTimeout(p, ms, what)
  } catch (err) {
    return err
  }
  throw new Error(`expected ${what}, but it succeeded`)
}

let gc: (() => void) | undefined

/**
 * Heap in use after a full collection. The adversarial script cannot pass
 * `--expose-gc`, so the flag is set at run time and `gc` taken from a new context
 * (V8 installs it in contexts created after the flag is set).
 */
export function heapUsed (): number {
  if (gc === undefined) {
    v8.setFlagsFromString('--expose-gc')
    gc = vm.runInNewContext('gc') as () => void
  }
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/**
 * Heap plus external and ArrayBuffer memory after a full collection: buffers queued
 * for a socket or a stream live outside the V8 heap.
 */
export function memoryInUse (): number {
  heapUsed()
  const m = process.memoryUsage()
  return m.heapUsed + m.external + m.arrayBuffers
}

export const KiB = 1024
export const MiB = 1024 * 1024
