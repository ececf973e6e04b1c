/**
 * The floors of the streams measure: 1-byte echoes, one after the other, over one TCP
 * connection between the benchmark's two processes, with no libp2p. One timed loop
 * (`echoLoop`) over an {@link EchoCodec}: plain bytes (`plainEcho`, here) or every
 * message sealed like a Noise transport message (`sealedEcho`, `sealed-echo.ts`).
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'

/** How one echo floor talks: its server, and the client's side of a connection. */
export interface EchoCodec {
  server: () => Server
  /**
   * Starts reading answers on `socket`, calling `reply` for each (with an error for a
   * wrong one); returns the function that sends one 1-byte echo.
   */
  client: (socket: Socket, reply: (err?: Error) => void) => () => void
}

const ONE = Buffer.from([1])

/** Plain TCP: the server sends back what it reads; any data is the answer. */
export const plainEcho: EchoCodec = {
  server: () => createServer((s) => { s.setNoDelay(true); s.pipe(s); s.on('error', () => {}) }),
  client (socket, reply) {
    socket.on('data', () => { reply() })
    return () => { socket.write(ONE) }
  }
}

/** Starts `codec`'s server on `host`, any port; resolves with the port. */
export async function startEchoServer (codec: EchoCodec, host: string): Promise<number> {
  const server = codec.server()
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return (server.address() as AddressInfo).port
}

/**
 * `total` 1-byte echoes, one after the other, over one new TCP connection to `codec`'s
 * server: the seconds of the run (from connected to the last answer) and each echo's
 * latency in ms. The connection failing, closing or ending, or a wrong answer, fails
 * the run (and the echo waiting for its answer).
 */
export async function echoLoop (host: string, port: number, total: number, codec: EchoCodec): Promise<{ seconds: number, latencies: number[] }> {
  const socket = connect({ host, port, noDelay: true })
  let failure: Error | undefined
  let waiting: ((err?: Error) => void) | undefined
  const settle = (err?: Error): void => {
    const w = waiting
    waiting = undefined
    w?.(err)
  }
  const fail = (err: Error): void => {
    failure ??= err
    settle(failure)
  }
  socket.on('error', fail)
  socket.on('end', () => { fail(new Error('echo: the server ended the connection')) })
  socket.on('close', () => { fail(new Error('echo: the connection closed')) })
  /** Runs `start` and waits for the next `settle`. */
  const next = async (start: () => void): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      if (failure !== undefined) {
        reject(failure)
        return
      }
      waiting = (err) => { if (err === undefined) resolve(); else reject(err) }
      start()
    })
  }
  try {
    socket.once('connect', () => { settle() })
    await next(() => {})
    const send = codec.client(socket, settle)
    const latencies: number[] = []
    const t0 = performance.now()
    for (let i = 0; i < total; i++) {
      const start = performance.now()
      await next(send)
      latencies.push(performance.now() - start)
    }
    return { seconds: (performance.now() - t0) / 1000, latencies }
  } finally {
    socket.destroy()
  }
}
