/**
 * What every measure gets: the options, a progress log on stderr, where CPU profiles
 * go; and the interleaving rule (GUIDE rule 11): repetition r runs the
 * implementations in an order rotated by r, so slow drifts in machine load hit each
 * side alike.
 */
import os from 'node:os'
import type { BenchOptions } from '../lib/options.js'
import type { Row } from '../lib/report.js'

export interface Ctx {
  opts: BenchOptions
  log: (line: string) => void
  /** Set with --profile: the folder the peer processes write CPU profiles into. */
  profileDir: string | undefined
}

export interface MeasureResult {
  rows: Row[]
  /** Anything else worth keeping in results.json (raw samples, text output). */
  extra?: Record<string, unknown>
}

/** `items` rotated left by `rep`: [a, b] for even reps, [b, a] for odd ones. */
export function rotate<T> (items: readonly T[], rep: number): T[] {
  const k = rep % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export function loadavg (): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ')
}

/** Bytes in `seconds` as Gbit/s. */
export const gbps = (bytes: number, seconds: number): number => (bytes * 8) / seconds / 1e9
