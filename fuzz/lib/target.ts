/**
 * What a fuzz target is, and the property every target is held to, independent of
 * the engine that feeds it (`fuzz/engines/`): any input ends in a value or a typed
 * lp2p error with a code, never another exception, and never an allocation beyond
 * the target's declared limit.
 *
 * A target is one file in `fuzz/targets/` whose default export is a
 * {@link FuzzTarget}; its seeds live in `fuzz/corpus/<name>/` and the inputs that once
 * broke it in `fuzz/regressions/<name>/` (both replayed by `npm test`,
 * `test/fuzz/corpus.test.ts`). `fuzz/README.md` says how to add one.
 */
import { getHeapStatistics } from 'node:v8'
import { Lp2pError } from '../../src/errors.js'

export interface FuzzTarget {
  /** kebab-case; names the corpus and regression folders. */
  readonly name: string
  /** What the target reads, and the spec section of that input. */
  readonly description: string
  /**
   * Most bytes one input may allocate in all (JS heap and array buffers, garbage
   * included), checked after the run. Default {@link DEFAULT_MAX_ALLOCATION}. Set it
   * from the limits the code under test declares.
   */
  readonly maxAllocation?: number
  /**
   * Errors other than lp2p's that count as a typed rejection: only for inputs that
   * reach a dependency's own decoder, where lp2p catches that library's errors (the
   * multiaddr library's, for instance). Default: none.
   */
  readonly expected?: (err: unknown) => boolean
  /**
   * Runs one input synchronously. Returns normally, or throws an Lp2pError with a
   * code; it may also throw a {@link PropertyViolation} for a broken invariant of its
   * own (a round trip that does not hold, an output frame that does not decode).
   */
  run (data: Uint8Array): void
}

/**
 * Inputs are at most a few KiB (jsfuzz caps them at 4096 bytes), so anything past
 * 16 MiB per input is a decoder trusting a length from the wire. The check measures
 * heap growth across the run, so a collection during the run can hide an allocation
 * (it never invents one): a last line of defence behind each decoder's own limits and
 * their hostile-input tests.
 */
export const DEFAULT_MAX_ALLOCATION = 16 * 1024 * 1024

/** A target's own invariant failed: always a finding. */
export class PropertyViolation extends Error {
  override get name (): string { return 'PropertyViolation' }
}

/** What the property found wrong with one input. */
export class FuzzFinding extends Error {
  override get name (): string { return 'FuzzFinding' }
}

export function defineTarget (target: FuzzTarget): FuzzTarget {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(target.name)) throw new TypeError(`fuzz target name ${target.name} is not kebab-case`)
  return target
}

/** Throws a {@link PropertyViolation} unless `ok`. */
export function invariant (ok: boolean, message: string): asserts ok {
  if (!ok) throw new PropertyViolation(message)
}

function heapBytes (): number {
  const s = getHeapStatistics()
  return s.used_heap_size + s.external_memory
}

/** A typed lp2p error: an Lp2pError with a non-empty string code. */
export function isTypedError (err: unknown): boolean {
  return err instanceof Lp2pError && typeof err.code === 'string' && err.code.startsWith('ERR_')
}

/**
 * Runs `data` through `target` and holds it to the property; throws a
 * {@link FuzzFinding} (with the original error as `cause`) when it does not hold.
 */
export function check (target: FuzzTarget, data: Uint8Array): void {
  const before = heapBytes()
  try {
    target.run(data)
  } catch (err) {
    if (!(isTypedError(err) || (!(err instanceof PropertyViolation) && target.expected?.(err) === true))) {
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      throw new FuzzFinding(`${target.name}: ${what}`, { cause: err })
    }
  }
  const grown = heapBytes() - before
  const limit = target.maxAllocation ?? DEFAULT_MAX_ALLOCATION
  if (grown > limit) throw new FuzzFinding(`${target.name}: one input of ${data.byteLength} bytes allocated ${grown} bytes (limit ${limit})`)
}

/**
 * Cuts `data` into chunks whose sizes come from the input itself (its first byte
 * seeds them), so one input also chooses how the bytes arrive: every decoder must
 * give the same answer for any chunking (GUIDE.md, "Codecs are pure and incremental").
 */
export function chunks (data: Uint8Array): Uint8Array[] {
  if (data.byteLength === 0) return []
  let seed = (data[0] as number) | 1
  const body = data.subarray(1)
  const out: Uint8Array[] = []
  for (let off = 0; off < body.byteLength;) {
    seed = (seed * 1103515245 + 12345) >>> 0
    const n = 1 + ((seed >>> 16) % 64) * ((seed & 3) === 0 ? 16 : 1)
    out.push(body.subarray(off, off + n))
    off += n
  }
  return out
}
