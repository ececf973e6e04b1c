/**
 * One-connection throughput of the Noise transport over real TCP between two processes,
 * next to "the encrypted ceiling": the same bytes as 2-byte-length frames of up to 65535
 * bytes, each sealed and opened with node:crypto ChaCha20-Poly1305 by the simplest
 * possible code (one cipher per message, `Buffer.concat` of prefix, ciphertext and tag,
 * a reassembling reader: `peers/chacha-frames.ts`, as the `ceiling-simple` baseline of
 * `npm run bench`). Both sides run the real code: the receiver (this process) decrypts
 * everything it counts.
 *
 * Run: node --import tsx bench/noise-tcp.ts [--mb 1024] [--runs 3] [--write 262144]
 * Prints Gbit/s per mode (median of `runs`), modes alternating run by run.
 */
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, connect, type Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { SocketChannel } from '../src/transport/socket-channel.js'
import { generateKeyPair } from '../src/identity/index.js'
import { noise } from '../src/security/noise/index.js'
import { MAX_PLAINTEXT, readMessages, seal } from './peers/chacha-frames.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const MB = arg('mb', 1024)
const RUNS = arg('runs', 3)
const WRITE = arg('write', 256 * 1024)
const TOTAL = MB * 1024 * 1024
const ADDR = multiaddr('/ip4/127.0.0.1/tcp/0')

type Mode = 'lp2p' | 'ceiling'

// --- sender (child process) ------------------------------------------------------

async function sender (mode: Mode, port: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port })
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.setNoDelay(true)
  const payload = randomBytes(WRITE)
  if (mode === 'ceiling') {
    let n = 0
    let sent = 0
    const pump = (): void => {
      while (sent < TOTAL) {
        let ok = true
        for (let off = 0; off < payload.length && sent < TOTAL; off += MAX_PLAINTEXT) {
          const pt = payload.subarray(off, Math.min(off + MAX_PLAINTEXT, payload.length))
          ok = socket.write(seal(n++, pt))
          sent += pt.length
        }
        if (!ok) {
          socket.once('drain', pump)
          return
        }
      }
      socket.end()
    }
    pump()
    return
  }
  const channel = new SocketChannel(socket, ADDR)
  const { channel: secure } = await noise().secureOutbound(channel, { localKey: generateKeyPair() })
  let sent = 0
  const pump = (): void => {
    while (sent < TOTAL) {
      const ok = secure.write(payload)
      sent += payload.length
      if (!ok) return
    }
    secure.end()
  }
  secure.attach({ onData: () => {}, onEnd: () => {}, onClose: () => { process.exit(0) }, onDrain: pump })
  pump()
}

// --- receiver (this process) -------------------------------------------------------

async function receive (mode: Mode, socket: Socket): Promise<number> {
  if (mode === 'ceiling') {
    let got = 0
    let t0 = 0n
    return await new Promise((resolve, reject) => {
      socket.once('data', () => { t0 = process.hrtime.bigint() })
      readMessages(socket, (plain) => { got += plain.length })
      socket.on('error', reject)
      socket.on('end', () => {
        if (got !== TOTAL) throw new Error(`received ${got} of ${TOTAL}`)
        resolve(Number(process.hrtime.bigint() - t0))
      })
    })
  }
  const { channel: secure } = await noise().secureInbound(new SocketChannel(socket, ADDR), { localKey: generateKeyPair() })
  let got = 0
  let t0 = 0n
  return await new Promise((resolve) => {
    secure.attach({
      onData: (chunk) => {
        if (t0 === 0n) t0 = process.hrtime.bigint()
        got += chunk.byteLength
      },
      onEnd: () => {
        if (got !== TOTAL) throw new Error(`received ${got} of ${TOTAL}`)
        resolve(Number(process.hrtime.bigint() - t0))
        secure.end()
      },
      onClose: () => {},
      onDrain: () => {}
    })
  })
}

async function run (mode: Mode): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const child = fork(process.argv[1] as string, ['--child', mode, String(port), '--mb', String(MB), '--write', String(WRITE)], {
    execArgv: ['--import', 'tsx']
  })
  const socket = await accepted
  socket.setNoDelay(true)
  const ns = await receive(mode, socket)
  await new Promise((resolve) => child.once('exit', resolve))
  server.close()
  return (TOTAL * 8) / ns // Gbit/s
}

async function main (): Promise<void> {
  const childAt = args.indexOf('--child')
  if (childAt >= 0) {
    await sender(args[childAt + 1] as Mode, Number(args[childAt + 2]))
    return
  }
  const results: Record<Mode, number[]> = { lp2p: [], ceiling: [] }
  for (let r = 0; r < RUNS; r++) {
    for (const mode of ['ceiling', 'lp2p'] as const) results[mode].push(await run(mode))
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
  console.log(`Noise over TCP, one connection, ${MB} MiB, writes of ${WRITE} B, median of ${RUNS} (node ${process.version})`)
  for (const mode of ['ceiling', 'lp2p'] as const) {
    console.log(`${mode.padEnd(8)} ${median(results[mode]).toFixed(2)} Gbit/s   runs: ${results[mode].map((x) => x.toFixed(2)).join(' ')}`)
  }
  console.log(`ratio lp2p/ceiling: ${(median(results.lp2p) / median(results.ceiling)).toFixed(2)}`)
}

void main()
