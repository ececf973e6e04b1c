/**
 * Growth of a sampled quantity over a soak: the least-squares slope, per hour, and
 * the verdict against a bound.
 *
 * A soak fails when the fitted growth over the measured span exceeds the larger of
 * `perHour x span` and a floor. The floor keeps a short run (the CI's two minutes)
 * from failing on sampling noise, which a slope over a few minutes magnifies; the
 * per-hour bound is what a long run is judged by. Pure.
 */
export interface Sample { t: number, value: number }

/** Least-squares slope of value over time, in value units per hour (t in ms). */
export function slopePerHour (samples: readonly Sample[]): number {
  const n = samples.length
  if (n < 2) return 0
  let st = 0
  let sv = 0
  for (const s of samples) { st += s.t; sv += s.value }
  const mt = st / n
  const mv = sv / n
  let num = 0
  let den = 0
  for (const s of samples) {
    num += (s.t - mt) * (s.value - mv)
    den += (s.t - mt) ** 2
  }
  return den === 0 ? 0 : (num / den) * 3_600_000
}

export interface Bound {
  /** Growth allowed per hour of soak. */
  perHour: number
  /** Growth always allowed, whatever the length of the run (sampling noise). */
  floor: number
}

export interface Verdict {
  slopePerHour: number
  /** Fitted growth over the measured span. */
  growth: number
  allowed: number
  ok: boolean
}

export function judge (samples: readonly Sample[], bound: Bound): Verdict {
  const slope = slopePerHour(samples)
  const spanHours = samples.length < 2 ? 0 : ((samples[samples.length - 1] as Sample).t - (samples[0] as Sample).t) / 3_600_000
  const growth = slope * spanHours
  const allowed = Math.max(bound.floor, bound.perHour * spanHours)
  return { slopePerHour: slope, growth, allowed, ok: growth <= allowed }
}
