/**
 * Summary statistics for the benchmark: medians of repetitions (GUIDE rule 11), latency
 * percentiles, and the spread reported next to every median.
 */

/** The median (the mean of the two middle values for an even count); NaN when empty. */
export function median (xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/**
 * The `p`-th percentile (0-100) by the nearest-rank method: the smallest value with at
 * least p% of the samples at or below it. NaN when empty.
 */
export function percentile (xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * s.length))
  return s[Math.min(rank, s.length) - 1] as number
}

export interface Spread {
  median: number
  min: number
  max: number
  /** (max - min) / median, as a fraction: how much the repetitions disagree. */
  relative: number
  runs: number[]
}

export function spread (xs: readonly number[]): Spread {
  const m = median(xs)
  const min = xs.length === 0 ? Number.NaN : Math.min(...xs)
  const max = xs.length === 0 ? Number.NaN : Math.max(...xs)
  return { median: m, min, max, relative: m !== 0 ? (max - min) / Math.abs(m) : 0, runs: [...xs] }
}
