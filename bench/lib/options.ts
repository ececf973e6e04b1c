/**
 * Options of `npm run bench` (`bench/main.ts`). Every size and repetition count is an
 * option; `--quick` picks small ones for a smoke run of about a minute.
 */
export const MEASURES = ['throughput', 'conns', 'streams', 'memory', 'rtt', 'micro'] as const
export type Measure = typeof MEASURES[number]

export interface BenchOptions {
  quick: boolean
  /** Repetitions of each measure per implementation (medians over these). */
  runs: number
  /** Repetitions of the memory measure (each starts fresh processes). */
  memoryRuns: number
  only: Measure[]
  /** One-stream throughput: bytes per direction and run. */
  throughputBytes: number
  /** Fresh connections per run, sequential. */
  seqConns: number
  /** Fresh connections per run in the concurrent case, and the concurrency. */
  concConns: number
  concurrency: number
  /** Streams per run (open + 1-byte echo), sequential. */
  streams: number
  /** Connections held for the memory measure. */
  memoryConns: number
  /** One-way delay of the round-trip measure, ms (RTT = twice this). */
  delayMs: number
  /** Connection + first byte samples per run and implementation. */
  rttSamples: number
  /** Write V8 CPU profiles of the peer processes and print where the time goes. */
  profile: boolean
  /** Where to write the results. */
  out: string
}

const HELP = `npm run bench -- [options]

  --quick                 smoke run (~1 minute): small sizes, 2 runs
  --runs <n>              repetitions per measure and implementation (default 5)
  --memory-runs <n>       repetitions of the memory measure (default 3)
  --only <list>           comma-separated subset of: ${MEASURES.join(', ')}
  --mib <n>               one-stream throughput size per direction, MiB (default 1024)
  --conns <n>             sequential fresh connections per run (default 300)
  --conc-conns <n>        fresh connections per run, concurrent case (default 500)
  --concurrency <n>       concurrent dialers (default 50)
  --streams <n>           streams per run (default 2000)
  --memory-conns <n>      connections held for the memory measure (default 1000)
  --delay-ms <n>          one-way delay for the round-trip measure (default 25)
  --rtt-samples <n>       connection + first byte samples per run (default 3)
  --profile               CPU-profile the peer processes (bench/profiles/) and summarize
  --out <file>            results file (default bench/results.json)
`

export function parseOptions (argv: string[]): BenchOptions {
  const has = (f: string): boolean => argv.includes(f)
  if (has('--help') || has('-h')) {
    process.stdout.write(HELP)
    process.exit(0)
  }
  const quick = has('--quick')
  const num = (flag: string, full: number, q: number): number => {
    const i = argv.indexOf(flag)
    if (i < 0) return quick ? q : full
    const v = Number(argv[i + 1])
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${flag} needs a positive number`)
    return v
  }
  const str = (flag: string): string | undefined => {
    const i = argv.indexOf(flag)
    return i < 0 ? undefined : argv[i + 1]
  }
  const known = new Set(['--quick', '--runs', '--memory-runs', '--only', '--mib', '--conns', '--conc-conns', '--concurrency',
    '--streams', '--memory-conns', '--delay-ms', '--rtt-samples', '--profile', '--out'])
  for (const a of argv) if (a.startsWith('--') && !known.has(a)) throw new RangeError(`unknown option ${a} (see --help)`)
  const only = (str('--only')?.split(',') ?? [...MEASURES]).map((m) => m.trim())
  for (const m of only) if (!(MEASURES as readonly string[]).includes(m)) throw new RangeError(`unknown measure ${m}`)
  const runs = Math.round(num('--runs', 5, 2))
  return {
    quick,
    runs,
    memoryRuns: Math.round(num('--memory-runs', Math.min(3, runs), 1)),
    only: only as Measure[],
    throughputBytes: Math.round(num('--mib', 1024, 64) * 1024 * 1024),
    seqConns: Math.round(num('--conns', 300, 40)),
    concConns: Math.round(num('--conc-conns', 500, 150)),
    concurrency: Math.round(num('--concurrency', 50, 50)),
    streams: Math.round(num('--streams', 2000, 300)),
    memoryConns: Math.round(num('--memory-conns', 1000, 100)),
    delayMs: num('--delay-ms', 25, 25),
    rttSamples: Math.round(num('--rtt-samples', 3, 1)),
    profile: has('--profile'),
    out: str('--out') ?? 'bench/results.json'
  }
}
