/**
 * The child side of the benchmark's process protocol: the orchestrator (`bench/main.ts`)
 * sends `{ id, cmd, args }` over Node's IPC channel and gets `{ id, ok, result | error }`
 * back. `exit` ends the process cleanly (so `--cpu-prof` writes its profile); losing
 * the parent ends it too, so no peer outlives a crashed benchmark.
 */
export type Handler = (args: any) => Promise<unknown> | unknown

interface Request { id: number, cmd: string, args: unknown }

export function serve (handlers: Record<string, Handler>): void {
  if (process.send === undefined) {
    process.stderr.write('bench peer: must be started by bench/main.ts (needs an IPC channel)\n')
    process.exit(2)
  }
  const send = process.send.bind(process)
  process.on('message', (msg: Request) => {
    if (msg.cmd === 'exit') {
      send({ id: msg.id, ok: true, result: null }, () => { process.exit(0) })
      return
    }
    const handler = handlers[msg.cmd]
    if (handler === undefined) {
      send({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` })
      return
    }
    Promise.resolve().then(async () => await handler(msg.args)).then(
      (result) => { send({ id: msg.id, ok: true, result }) },
      (err: unknown) => { send({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }) }
    )
  })
  process.on('disconnect', () => { process.exit(0) })
  send({ id: 0, ok: true, result: 'ready' })
}
