/**
 * `lp2p dial PEER-ID|MULTIADDR|HOST:PORT`: dials through the dialer (and the peer
 * store, for a peer id) and prints the timeline: each address scheduled, when its
 * attempt started, how it ended, which one won; then what identify says of the peer.
 * `--json` prints the same as JSON lines.
 */
import type { Command } from 'commander'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { DialProgress } from '../dialer/dialer.js'
import type { Lp2pNode } from '../node.js'
import type { DialTarget } from '../dialer/target.js'
import { clientNode, type ClientOptions } from './client-node.js'
import { addNodeSecurityFlags } from './node-security.js'
import { jsonLine } from './output.js'
import { parseCliTarget } from './target.js'

export interface DialCommandOptions {
  json?: boolean
  force?: boolean
  timeout?: number
}

/** The dial's steps as text lines (pure: the tests read it). `undefined`: nothing to print. */
export function formatProgress (e: DialProgress): string | undefined {
  const at = (ms: number): string => `+${ms.toFixed(0).padStart(5)} ms`
  switch (e.type) {
    case 'joined': return 'joined a dial of this peer already in flight'
    case 'scheduled': {
      const lines = [`${e.addresses.length} address${e.addresses.length === 1 ? '' : 'es'} scheduled${e.skipped.length > 0 ? `, ${e.skipped.length} skipped` : ''}:`]
      for (const a of e.addresses) lines.push(`  at ${String(a.delay).padStart(4)} ms  ${a.addr.toString()}`)
      for (const s of e.skipped) lines.push(`  skipped     ${s.addr.toString()}: ${s.reason} (${s.error.message})`)
      return lines.join('\n')
    }
    case 'attempt': return `${at(e.at)}  ${e.addr.toString()}  dialing`
    case 'attempt-failed': return `${at(e.at)}  ${e.addr.toString()}  failed: ${e.reason} (${codeOf(e.error)}${e.error.message})`
    case 'attempt-cancelled': return `${at(e.at)}  ${e.addr.toString()}  cancelled: ${e.why}`
    case 'connected': return `${at(e.at)}  ${e.addr.toString()}  connected (winner)`
    case 'satisfied': return `${at(e.at)}  an inbound connection from the peer arrived: using it`
  }
}

/** The dial's steps as JSON values (pure). */
export function progressJson (e: DialProgress): Record<string, unknown> {
  const addr = (a: Multiaddr): string => a.toString()
  switch (e.type) {
    case 'joined': return { type: 'joined' }
    case 'scheduled': return {
      type: 'scheduled',
      addresses: e.addresses.map((a) => ({ address: addr(a.addr), delayMillis: a.delay })),
      skipped: e.skipped.map((s) => ({ address: addr(s.addr), reason: s.reason, error: s.error.message }))
    }
    case 'attempt': return { type: 'attempt', address: addr(e.addr), atMillis: e.at }
    case 'attempt-failed': return { type: 'attempt-failed', address: addr(e.addr), atMillis: e.at, reason: e.reason, code: (e.error as { code?: unknown }).code, error: e.error.message }
    case 'attempt-cancelled': return { type: 'attempt-cancelled', address: addr(e.addr), atMillis: e.at, why: e.why }
    case 'connected': return { type: 'attempt-connected', address: addr(e.addr), atMillis: e.at }
    case 'satisfied': return { type: 'satisfied', atMillis: e.at }
  }
}

function codeOf (err: Error): string {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? `${code}: ` : ''
}

/** Runs one dial on a started node and prints it; throws the dial's error. */
export async function dialAndReport (node: Lp2pNode, target: DialTarget, opts: DialCommandOptions): Promise<void> {
  const print = (e: DialProgress): void => {
    if (opts.json === true) {
      jsonLine(progressJson(e))
      return
    }
    const line = formatProgress(e)
    if (line !== undefined) process.stdout.write(`${line}\n`)
  }
  const signal = opts.timeout !== undefined ? AbortSignal.timeout(opts.timeout) : undefined
  const started = performance.now()
  const conn = await node.dial(target, { onProgress: print, ...(opts.force === true ? { force: true } : {}), ...(signal !== undefined ? { signal } : {}) })
  const ms = performance.now() - started
  let agent: string | undefined
  let protocols: string[] = []
  try {
    const id = await node.identify(conn, { signal: AbortSignal.timeout(5000) })
    agent = id.agentVersion
    protocols = id.protocols
  } catch {
    // The peer may not run identify; the dial itself worked.
  }
  if (opts.json === true) {
    jsonLine({
      type: 'connected',
      peerId: conn.remotePeer.toString(),
      address: conn.remoteAddr.toString(),
      connectMillis: Math.round(ms * 1000) / 1000,
      encryption: conn.encryption,
      multiplexer: conn.multiplexer,
      ...(agent !== undefined ? { agentVersion: agent } : {}),
      protocols
    })
  } else {
    process.stdout.write(`connected to ${conn.remotePeer.toString()} via ${conn.remoteAddr.toString()} in ${ms.toFixed(1)} ms (${conn.encryption}, ${conn.multiplexer})\n`)
    if (agent !== undefined || protocols.length > 0) {
      process.stdout.write(`agent:     ${agent ?? '(not given)'}\nprotocols: ${protocols.join(', ')}\n`)
    }
  }
}

export function registerDialCommand (program: Command): void {
  addNodeSecurityFlags(program.command('dial')
    .description('dial a peer (by peer id from the peer store, or by address) and print each address tried')
    .argument('<target>', 'a peer id, a multiaddr, or host:port')
    .option('-k, --key <file>', 'identity key file (default: a new key)')
    .option('-d, --data-dir <dir>', 'data directory holding the peer store (default: $LP2P_DATA_DIR or ~/.lp2p)')
    .option('--memory', 'use an empty in-memory peer store')
    .option('--force', 'dial addresses in backoff or black-holed too')
    .option('--json', 'print JSON lines instead of text'))
    .action(async (targetText: string, opts: DialCommandOptions & ClientOptions) => {
      const target = parseCliTarget(targetText)
      const node = await clientNode(opts, target)
      try {
        await dialAndReport(node, target, opts)
      } finally {
        await node.stop()
      }
    })
}
