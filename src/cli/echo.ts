/**
 * `lp2p echo <multiaddr>`: dials a peer, sends random bytes over `/echo/1.0.0`,
 * half-closes, reads everything back and compares SHA-256 digests; exits non-zero
 * (ERR_PROTOCOL_VIOLATION) when they differ. With `--security`/`--psk`/`--trace`
 * (`node-security.ts`) it shows which security protocol and muxer were agreed and how.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Command } from 'commander'
import { codes, Lp2pError } from '../errors.js'
import { ECHO_PROTOCOL } from '../protocols/echo.js'
import { positiveInt } from './args.js'
import { clientNode, type ClientOptions } from './client-node.js'
import { addNodeSecurityFlags } from './node-security.js'
import { jsonLine } from './output.js'
import { parseCliTarget } from './target.js'

/** Default payload: 1 MiB, four yamux windows' worth. */
const DEFAULT_ECHO_BYTES = 1 << 20

interface EchoFlags extends ClientOptions {
  bytes: number
  json?: boolean
}

/** Adds `lp2p echo` to the program. */
export function registerEchoCommand (program: Command): void {
  addNodeSecurityFlags(program.command('echo')
    .description('send random bytes over /echo/1.0.0 and check that the same bytes come back (SHA-256)')
    .argument('<target>', 'the peer: a multiaddr (/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...), host:port, or a peer id the peer store knows')
    .option('-b, --bytes <n>', 'bytes to send', positiveInt, DEFAULT_ECHO_BYTES)
    .option('-k, --key <file>', 'identity key file (default: a new key)')
    .option('-d, --data-dir <dir>', 'data directory holding the peer store (default: $LP2P_DATA_DIR or ~/.lp2p)')
    .option('--memory', 'use an empty in-memory peer store')
    .option('--json', 'print one JSON line'))
    .action(async (addr: string, flags: EchoFlags) => {
      const target = parseCliTarget(addr)
      const node = await clientNode(flags, target)
      try {
        const started = performance.now()
        const conn = await node.dial(target)
        const connectMs = performance.now() - started
        const payload = randomBytes(flags.bytes)
        const sent = createHash('sha256').update(payload).digest('hex')
        const stream = await conn.newStream(ECHO_PROTOCOL)
        stream.end(payload)
        const hash = createHash('sha256')
        let received = 0
        for await (const chunk of stream) {
          hash.update(chunk as Uint8Array)
          received += (chunk as Uint8Array).byteLength
        }
        const got = hash.digest('hex')
        const ms = performance.now() - started
        if (flags.json === true) {
          jsonLine({ peerId: conn.remotePeer.toString(), encryption: conn.encryption, multiplexer: conn.multiplexer, connectMillis: connectMs, bytes: received, sha256: got, ok: got === sent, millis: ms })
        } else {
          process.stdout.write(`connected to ${conn.remotePeer.toString()} in ${connectMs.toFixed(1)} ms (${conn.encryption}, ${conn.multiplexer})\n` +
            `echo: sent ${payload.byteLength} bytes sha256 ${sent}\n      got  ${received} bytes sha256 ${got} ${got === sent ? 'ok' : 'MISMATCH'}\n`)
        }
        if (got !== sent) throw new Lp2pError(codes.ERR_PROTOCOL_VIOLATION, `the echo came back different: ${received} bytes, sha256 ${got}`)
      } finally {
        await node.stop()
      }
    })
}
