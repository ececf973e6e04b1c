/**
 * Micro-benchmark of the multistream-select message codec (`src/negotiation/message.ts`),
 * next to the building blocks js-libp2p 3 frames the same messages with
 * (`it-length-prefixed` 11 + `uint8arrays`, under its `lpStream`), in one process,
 * alternating run by run; medians of `runs` and the median per-run ratio.
 *
 * Cases, as a stream negotiation uses them:
 * - encode the dialer's lazy proposal: `/multistream/1.0.0` + `/echo/1.0.0` in one buffer;
 * - decode the listener's answer (the same two messages) pushed in one chunk;
 * - decode it pushed one byte at a time (the worst chunking).
 *
 * Run: node --import tsx bench/micro/multistream.ts [--runs 7] [--json]
 */
import { encode as lpEncode, decode as lpDecode } from 'it-length-prefixed'
import { fromString, toString } from 'uint8arrays'
import { encodeMessages, MessageDecoder, PROTOCOL_ID } from '../../src/negotiation/message.js'
import { median } from '../lib/stats.js'

const args = process.argv.slice(2)
const RUNS = (() => { const i = args.indexOf('--runs'); return i >= 0 ? Number(args[i + 1]) : 7 })()
const PROTO = '/echo/1.0.0'
const now = (): number => Number(process.hrtime.bigint()) / 1e6

/** Calls `fn` for about `ms` ms; returns calls per second. */
function rate (fn: () => void, ms = 150): number {
  let n = 0
  const start = now()
  let t = start
  while (t - start < ms) {
    for (let i = 0; i < 256; i++) fn()
    n += 256
    t = now()
  }
  return (n * 1000) / (t - start)
}

let sink = 0
const wire = encodeMessages([PROTOCOL_ID, PROTO])

const cases: Array<{ name: string, ours: () => void, js: () => void }> = [
  {
    name: 'encode header + proposal (one buffer)',
    ours: () => { sink += encodeMessages([PROTOCOL_ID, PROTO]).length },
    js: () => {
      const a = lpEncode.single(fromString(`${PROTOCOL_ID}\n`))
      const b = lpEncode.single(fromString(`${PROTO}\n`))
      sink += a.byteLength + b.byteLength
    }
  },
  {
    name: 'decode header + answer (one chunk)',
    ours: () => {
      const d = new MessageDecoder()
      d.push(wire)
      sink += (d.next() as string).length + (d.next() as string).length
    },
    js: () => {
      for (const m of lpDecode([wire])) sink += toString(m.subarray()).trimEnd().length
    }
  },
  {
    name: 'decode header + answer (1-byte chunks)',
    ours: () => {
      const d = new MessageDecoder()
      for (let i = 0; i < wire.length; i++) {
        d.push(wire.subarray(i, i + 1))
        for (let m = d.next(); m !== undefined; m = d.next()) sink += m.length
      }
    },
    js: () => {
      const bytes: Uint8Array[] = []
      for (let i = 0; i < wire.length; i++) bytes.push(wire.subarray(i, i + 1))
      for (const m of lpDecode(bytes)) sink += toString(m.subarray()).trimEnd().length
    }
  }
]

export interface MicroRow { name: string, unit: string, lp2p: number, js: number, ratio: number }

export function runMultistreamMicro (runs = RUNS): MicroRow[] {
  const rows: MicroRow[] = []
  for (const c of cases) {
    rate(c.ours, 50)
    rate(c.js, 50)
    const a: number[] = []
    const b: number[] = []
    const r: number[] = []
    for (let i = 0; i < runs; i++) {
      const x = rate(c.ours)
      const y = rate(c.js)
      a.push(x)
      b.push(y)
      r.push(x / y)
    }
    rows.push({ name: `multistream: ${c.name}`, unit: 'ops/s', lp2p: median(a), js: median(b), ratio: median(r) })
  }
  if (sink === 0.5) console.log(sink)
  return rows
}

if (process.argv[1]?.endsWith('multistream.ts') === true) {
  const rows = runMultistreamMicro()
  if (args.includes('--json')) {
    console.log(JSON.stringify(rows))
  } else {
    for (const r of rows) console.log(`${r.name.padEnd(52)} lp2p ${r.lp2p.toExponential(2)} js ${r.js.toExponential(2)} ${r.unit}  ratio ${r.ratio.toFixed(2)}x`)
  }
}
