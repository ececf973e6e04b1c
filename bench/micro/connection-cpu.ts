/**
 * CPU cost of one fresh connection, both ends in one process: dial (TCP connect over
 * loopback) + upgrade (Noise, yamux) + one ping + close, sequentially, with the node's
 * defaults (identify on). Reports CPU microseconds per connection (user + system,
 * `process.cpuUsage`) and wall time, medians of `runs` runs after a warm-up.
 *
 * It is the quiet companion of `npm run bench -- --only conns`: on a loaded 2-core
 * machine the rate between two processes swings by 2x from run to run, while CPU per
 * connection in one process moves by a few percent, which is what an A/B of one
 * change needs. Counting syscalls: `strace -f -c -e trace=write,writev,sendmsg,sendto
 * node --import tsx bench/micro/connection-cpu.ts --runs 1 --conns 200`.
 *
 * It runs the build (`dist/`), as the bench peers do (under tsx, esbuild's `keepNames`
 * gives closures extra work the compiled package does not do): build first. It is not
 * part of `npm run bench`, which builds on its own.
 *
 * Run: npm run build && node --import tsx bench/micro/connection-cpu.ts [--runs 5] [--conns 300] [--warmup 300] [--raw]
 */
import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../../dist/src/node.js'
import { ping } from '../../dist/src/protocols/ping.js'
import { median } from '../lib/stats.js'

const args = process.argv.slice(2)
const num = (flag: string, def: number): number => { const i = args.indexOf(flag); return i >= 0 ? Number(args[i + 1]) : def }
const RUNS = num('--runs', 5)
const CONNS = num('--conns', 300)
const WARMUP = num('--warmup', 300)

const listener = createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], limits: { maxConnections: 10_000 } })
const dialer = createNode({ limits: { maxConnections: 10_000 } })
await listener.start()
await dialer.start()
const port = Number(/\/tcp\/(\d+)/.exec(listener.getMultiaddrs()[0]?.toString() ?? '')?.[1])
const target = multiaddr(`/ip4/127.0.0.1/tcp/${port}`)

async function once (): Promise<void> {
  const conn = await dialer.dial(target)
  await ping(conn)
  await conn.close()
}

async function run (n: number): Promise<{ cpuUs: number, wallUs: number }> {
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await once()
  const wall = Number(process.hrtime.bigint() - t0) / 1e3
  const cpu = process.cpuUsage(cpu0)
  return { cpuUs: (cpu.user + cpu.system) / n, wallUs: wall / n }
}

await run(WARMUP)
const cpu: number[] = []
const wall: number[] = []
for (let r = 0; r < RUNS; r++) {
  const res = await run(CONNS)
  cpu.push(res.cpuUs)
  wall.push(res.wallUs)
}
const fmt = (xs: number[]): string => `${median(xs).toFixed(0)} us [${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}]`
process.stdout.write(`connection (dial + upgrade + ping + close), both ends, ${RUNS} x ${CONNS}:\n`)
process.stdout.write(`  CPU per connection   ${fmt(cpu)}\n`)
process.stdout.write(`  wall per connection  ${fmt(wall)}\n`)
if (args.includes('--raw')) process.stdout.write(`  raw CPU ${cpu.map((x) => x.toFixed(0)).join(' ')}\n`)
await dialer.stop()
await listener.stop()
