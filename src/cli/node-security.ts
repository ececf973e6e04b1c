/**
 * The CLI's security options, shared by every command that makes a node:
 *
 * - `--security <list>`: the security protocols, comma-separated, in preference order
 *   (`noise`, `tls`, `secio`, `plaintext`). Both offered when dialing and accepted when
 *   listening; SECIO, the legacy one, is proposed last whatever its place. Absent: the
 *   node's default (accept Noise and TLS, dial with Noise).
 * - `--psk <file>`: a private network's key file (`/key/swarm/psk/1.0.0/`, pnet.md).
 * - `--trace`: print the connection upgrade trace on stderr (the multistream messages
 *   of the security and muxer negotiations, each step's outcome): the same as
 *   `DEBUG=lp2p:upgrader`.
 */
import { InvalidArgumentError, type Command } from 'commander'
import type { NodeOptions } from '../node-options.js'
import type { SecurityProtocol } from '../interfaces/security.js'
import { loadPskFile } from '../pnet/psk.js'
import { noise } from '../security/noise/index.js'
import { plaintext } from '../security/plaintext/index.js'
import { secio } from '../security/secio/index.js'
import { tls } from '../security/tls/index.js'
import { enableLogs } from '../util/log.js'

/** The names `--security` takes, each with the factory it stands for. */
const FACTORIES: Readonly<Record<string, () => SecurityProtocol>> = {
  noise: () => noise(),
  tls: () => tls(),
  secio: () => secio(),
  plaintext: () => plaintext()
}

export interface NodeSecurityFlags {
  security?: string[]
  psk?: string
  trace?: boolean
}

/** Parses `--security`: known names, no repeats, at least one. */
export function parseSecurityList (value: string): string[] {
  const names = value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')
  if (names.length === 0) throw new InvalidArgumentError('needs at least one protocol')
  for (const n of names) {
    if (FACTORIES[n] === undefined) throw new InvalidArgumentError(`unknown security protocol ${JSON.stringify(n)} (known: ${Object.keys(FACTORIES).join(', ')})`)
  }
  if (new Set(names).size !== names.length) throw new InvalidArgumentError('names a protocol twice')
  return names
}

/** Adds `--security`, `--psk` and `--trace` to a command. */
export function addNodeSecurityFlags (command: Command): Command {
  return command
    .option('--security <list>', 'security protocols in preference order: noise, tls, secio (legacy), plaintext (tests only)', parseSecurityList)
    .option('--psk <file>', 'join the private network of this key file (/key/swarm/psk/1.0.0/)')
    .option('--trace', 'print the connection upgrade trace on stderr (DEBUG=lp2p:upgrader)')
}

/** The node options the flags ask for (reads the key file; turns the trace on). */
export async function nodeSecurityOptions (flags: NodeSecurityFlags): Promise<Pick<NodeOptions, 'connectionEncrypters' | 'psk'>> {
  if (flags.trace === true) enableLogs('lp2p:upgrader')
  const out: Pick<NodeOptions, 'connectionEncrypters' | 'psk'> = {}
  if (flags.security !== undefined) out.connectionEncrypters = flags.security.map((n) => (FACTORIES[n] as () => SecurityProtocol)())
  if (flags.psk !== undefined) out.psk = await loadPskFile(flags.psk)
  return out
}
