/**
 * Renders the matrix: a plain-text table for the terminal, a Markdown table for the
 * README, and the record written to `interop/results.json`. Pure: takes the planned
 * cases and the results, returns strings and objects.
 */
import type { PlannedCase } from './matrix.js'
import type { CaseResult } from './run-case.js'

export type CellStatus = 'pass' | 'FAIL' | 'unsupported' | 'lp2p-unsupported' | 'expected-fail' | 'UNEXPECTED-PASS' | 'not-run'

export interface Cell {
  status: CellStatus
  handshakeMillis?: number
  /** A case that must be refused (pnet:wrong-psk) was, after this many ms. */
  refusedMillis?: number
  reason?: string
}

export interface Matrix {
  rows: string[]
  columns: string[]
  cells: Map<string, Cell>
}

/** Builds the grid. With `expectFailure` (a deliberately broken lp2p), a failure of a case involving lp2p is the expected outcome. */
export function buildMatrix (cases: PlannedCase[], results: Map<string, CaseResult>, expectFailure: boolean): Matrix {
  const rows: string[] = []; const columns: string[] = []
  const cells = new Map<string, Cell>()
  for (const c of cases) {
    if (!rows.includes(c.row)) rows.push(c.row)
    if (!columns.includes(c.column)) columns.push(c.column)
    const r = results.get(c.id)
    let cell: Cell
    if (c.skip !== undefined) cell = { status: c.skip.kind, reason: c.skip.reason }
    else if (r === undefined) cell = { status: 'not-run' }
    else {
      const involvesLp2p = c.dialer === 'lp2p' || c.listener === 'lp2p'
      const expectFail = expectFailure && involvesLp2p
      if (r.status === 'pass') {
        cell = expectFail ? { status: 'UNEXPECTED-PASS' } : { status: 'pass' }
        if (r.handshakePlusOneRTTMillis !== undefined) cell.handshakeMillis = r.handshakePlusOneRTTMillis
        if (r.refusedMillis !== undefined) cell.refusedMillis = r.refusedMillis
      } else {
        cell = expectFail ? { status: 'expected-fail' } : { status: 'FAIL' }
        if (r.error !== undefined) cell.reason = r.error
      }
    }
    cells.set(`${c.row}\t${c.column}`, cell)
  }
  return { rows, columns, cells }
}

const SHORT: Record<CellStatus, string> = {
  pass: 'pass',
  FAIL: 'FAIL',
  unsupported: 'unsup',
  'lp2p-unsupported': 'lp2p-unsup',
  'expected-fail': 'xfail',
  'UNEXPECTED-PASS': 'XPASS!',
  'not-run': '-'
}

export function cellText (cell: Cell | undefined): string {
  if (cell === undefined) return ''
  const text = SHORT[cell.status]
  if (cell.refusedMillis !== undefined) return `refused ${cell.refusedMillis}ms`
  return cell.handshakeMillis !== undefined ? `${text} ${Math.round(cell.handshakeMillis)}ms` : text
}

/** A fixed-width text table. */
export function renderText (m: Matrix): string {
  const header = ['dialer -> listener', ...m.columns]
  const body = m.rows.map((row) => [row, ...m.columns.map((col) => cellText(m.cells.get(`${row}\t${col}`)))])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

/** The same table in Markdown, for the README. */
export function renderMarkdown (m: Matrix): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|')
  const header = `| dialer → listener | ${m.columns.map(esc).join(' | ')} |`
  const rule = `|---|${m.columns.map(() => '---').join('|')}|`
  const rows = m.rows.map((row) => `| ${esc(row.replace(' -> ', ' → '))} | ${m.columns.map((col) => esc(cellText(m.cells.get(`${row}\t${col}`)))).join(' | ')} |`)
  return [header, rule, ...rows].join('\n')
}

export interface Counts { pass: number, fail: number, unsupported: number, lp2pUnsupported: number, expectedFail: number, unexpectedPass: number, notRun: number }

export function count (m: Matrix): Counts {
  const c: Counts = { pass: 0, fail: 0, unsupported: 0, lp2pUnsupported: 0, expectedFail: 0, unexpectedPass: 0, notRun: 0 }
  for (const cell of m.cells.values()) {
    switch (cell.status) {
      case 'pass': c.pass++; break
      case 'FAIL': c.fail++; break
      case 'unsupported': c.unsupported++; break
      case 'lp2p-unsupported': c.lp2pUnsupported++; break
      case 'expected-fail': c.expectedFail++; break
      case 'UNEXPECTED-PASS': c.unexpectedPass++; break
      case 'not-run': c.notRun++; break
    }
  }
  return c
}
