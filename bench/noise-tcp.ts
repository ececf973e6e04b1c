/**
 * One-connection throughput of the Noise transport over real TCP between two processes,
 * next to "the encrypted ceiling": the same bytes as 2-byte-length frames of up to 65535
 * bytes, each sealed and opened with node:crypto ChaCha20-Poly1305 by the simplest
 * possible code (one cipher per message, `Buffer.concat` of prefix, ciphertext and tag,
 * a reassembling reader). Both sides run the real code: the receiver (this process)
 * decrypts everything it counts.
 *
 * Run: node --import tsx bench/noise-tcp.ts [--mb 1024] [--runs 3] [--write 262144]
 * Prints Gbit/s per mode (median of `runs`), modes alternating run by run.
 */
import { fork } from 'node:child_process'
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { createServer, connect, type Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { SocketChannel } from '../src/transport/socket-channel.js'
import { generateKeyPair } from '../src/identity/index.js'
import { noise } from '../src/security/noise/index.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const MB = arg('mb', 1024)
const RUNS = arg('runs', 3)
const WRITE = arg('write', 256 * 1024)
const TOTAL = MB * 1024 * 1024
const KEY = Buffer.alloc(32, 1)
const OPTS = { authTagLength: 16 } as const
const ADDR = multiaddr('/ip4/127.0.0.1/tcp/0')

type Mode = 'lp2p' | 'ceiling'

// --- sender (child process) ------------------------------------------------------

async function sender (mode: Mode, port: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port })
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.setNoDelay(true)
  const payload = randomBytes(WRITE)
  if (mode === 'ceiling') {
    const nonce = Buffer.alloc(12)
    let n = 0
    let sent = 0
    const pump = (): void => {
      while (sent < TOTAL) {
        let ok = true
        for (let off = 0; off < payload.length && sent < TOTAL; off += 65519) {
          const pt = payload.subarray(off, Math.min(off + 65519, payload.length))
          nonce.writeUInt32LE(n++, 4)
          const c = createCipheriv('chacha20-poly1305', KEY, nonce, OPTS)
          const ct = c.update(pt)
          c.final()
          const len = Buffer.alloc(2)
          len.writeUInt16BE(ct.length + 16, 0)
          ok = socket.write(Buffer.concat([len, ct, c.getAuthTag()]))
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
    const nonce = Buffer.alloc(12)
    let n = 0
    let pending: Buffer = Buffer.alloc(0)
    let got = 0
    let t0 = 0n
    return await new Promise((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        if (t0 === 0n) t0 = process.hrtime.bigint()
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
        let off = 0
        while (pending.length - off >= 2) {
          const len = pending.readUInt16BE(off)
          if (pending.length - off - 2 < len) break
          const body = pending.subarray(off + 2, off + 2 + len - 16)
          nonce.writeUInt32LE(n++, 4)
          const d = createDecipheriv('chacha20-poly1305', KEY, nonce, OPTS)
          d.setAuthTag(pending.subarray(off + 2 + len - 16, off + 2 + len))
          got += d.update(body).length
          d.final()
          off += 2 + len
        }
        pending = pending.subarray(off)
      })
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
