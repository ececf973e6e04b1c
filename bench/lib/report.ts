/**
 * The benchmark's results: one row per figure (medians over repetitions with their
 * spread, the lp2p/js-libp2p ratio, the target and whether it is met), the
 * printed table, and the JSON written to `bench/results.json`.
 */
import { spread, type Spread } from './stats.js'

export interface Target {
  /** The target, as text, e.g. ">= 5x js-libp2p". */
  text: string
  /** The figure the target is about (a ratio, or a count of RTTs). */
  value: number
  met: boolean
}

export interface Row {
  id: string
  label: string
  unit: string
  lp2p?: Spread
  js?: Spread
  /** lp2p / js-libp2p, of the medians. */
  ratio?: number
  target?: Target
  /** A single series that is neither implementation (baselines, the link check). */
  baseline?: Spread
  note?: string
}

export function row (id: string, label: string, unit: string, lp2p: number[] | undefined, js: number[] | undefined, extra: Partial<Row> = {}): Row {
  const r: Row = { id, label, unit, ...extra }
  if (lp2p !== undefined && lp2p.length > 0) r.lp2p = spread(lp2p)
  if (js !== undefined && js.length > 0) r.js = spread(js)
  if (r.lp2p !== undefined && r.js !== undefined && r.js.median !== 0) r.ratio = r.lp2p.median / r.js.median
  return r
}

/** A number with 3 significant digits (no exponent for the sizes we print). */
export function fmt (v: number): string {
  if (!Number.isFinite(v)) return '-'
  const a = Math.abs(v)
  if (a >= 100) return v.toFixed(0)
  if (a >= 10) return v.toFixed(1)
  if (a >= 1) return v.toFixed(2)
  return v.toPrecision(3)
}

function cell (s: Spread | undefined): string {
  if (s === undefined) return '-'
  return s.runs.length > 1 ? `${fmt(s.median)} [${fmt(s.min)}-${fmt(s.max)}]` : fmt(s.median)
}

/** The table of medians, `[min-max]` over repetitions, ratios and targets. */
export function formatTable (all: readonly Row[]): string {
  const rows = all.filter((r) => r.baseline === undefined)
  const baselines = all.filter((r) => r.baseline !== undefined)
  const head = ['measure', 'unit', 'lp2p median [min-max]', 'js-libp2p median [min-max]', 'lp2p/js', 'target', 'met']
  const body = rows.map((r) => [
    r.label,
    r.unit,
    cell(r.lp2p),
    cell(r.js),
    r.ratio !== undefined ? `${fmt(r.ratio)}x` : '',
    r.target !== undefined ? `${r.target.text} (is ${fmt(r.target.value)})` : '',
    r.target !== undefined ? (r.target.met ? 'yes' : 'NO') : ''
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')]
  for (const b of body) out.push(line(b))
  if (baselines.length > 0) {
    out.push('')
    const w = Math.max(...baselines.map((r) => r.label.length))
    for (const r of baselines) out.push(`${r.label.padEnd(w)}  ${r.unit}  ${cell(r.baseline)}`)
  }
  const notes = all.filter((r) => r.note !== undefined).map((r) => `  ${r.label}: ${r.note as string}`)
  if (notes.length > 0) out.push('', 'notes:', ...notes)
  return out.join('\n')
}
