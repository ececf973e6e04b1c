#!/usr/bin/env node
/**
 * The `lp2p` command: `listen`, `ping`, `dial`, `echo`, `id`, `perf`. Errors go to
 * stderr as one line with the error code (`lp2p: ERR_...: message`, commander's own
 * errors included), and the exit status is non-zero.
 */
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { Command } from 'commander'
import { createNode, type Lp2pNode } from '../node.js'
import { codes, Lp2pError } from '../errors.js'
import { generateKeyPair, loadKeyFile, parseKeyType, peerIdFromPrivateKey, saveKeyFile } from '../identity/index.js'
import type { PrivateKey } from '../interfaces/keys.js'
import { ECHO_PROTOCOL, handleEcho } from '../protocols/echo.js'
import { VERSION } from '../version.js'
import { nonNegativeInt, positiveInt } from './args.js'
import { dataDirPath, ensureDir, keyPath, type DataDirOptions } from './data-dir.js'
import { clientNode } from './client-node.js'
import { registerDialCommand } from './dial.js'
import { registerPeersCommand } from './peers.js'
import { openCliPeerStore } from './store.js'
import { PersistentPeerStore } from '../peer-store/persistent-peer-store.js'
import { jsonLine, reportError, untilSignal } from './output.js'
import { registerPerfCommand, servePerf } from './perf.js'
import { parseCliTarget } from './target.js'
import { registerEchoCommand } from './echo.js'
import { addNodeSecurityFlags, nodeSecurityOptions, type NodeSecurityFlags } from './node-security.js'
import { listenOptional } from './listen.js'

/**
 * Default listen addresses of `lp2p listen`: every IPv4 interface, a free port, over
 * TCP and over QUIC. QUIC is optional (its engine is native): where it cannot run,
 * the node says so on stderr and listens on TCP alone.
 */
const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/udp/0/quic-v1']

/** The node's identity: the key file the options name if it exists (or was named), else a new key. */
async function loadIdentity (opts: DataDirOptions): Promise<{ key: PrivateKey, source: string }> {
  const file = keyPath(opts)
  if (opts.key !== undefined || existsSync(file)) {
    return { key: await loadKeyFile(file), source: file }
  }
  return { key: generateKeyPair('Ed25519'), source: 'ephemeral (run `lp2p id --init` to keep one)' }
}

const program = new Command()
program
  .name('lp2p')
  .description('A libp2p node: TCP (Noise or TLS, yamux) and QUIC, ping, identify, echo, perf.')
  .version(VERSION)
  // commander's errors go through reportError like every other (lp2p: ERR_USAGE: ...).
  .exitOverride()
  .configureOutput({ writeErr: () => {} })
  .showHelpAfterError(false)

addNodeSecurityFlags(program.command('listen')
  .description('start a node that serves ping, identify, /echo/1.0.0 and /perf/1.0.0 until interrupted')
  .option('-l, --listen <multiaddr...>', `addresses to listen on (default: ${DEFAULT_LISTEN.join(' ')})`)
  .option('-k, --key <file>', 'identity key file (default: $LP2P_KEY or <data dir>/identity.json if present)')
  .option('-d, --data-dir <dir>', 'data directory: identity and peer store (default: $LP2P_DATA_DIR or ~/.lp2p)')
  .option('--memory', 'keep the peer store in memory instead of <data dir>/peerstore')
  .option('--json', 'print one JSON line {"peerId", "multiaddrs"} once listening'))
  .action(async (opts: { listen?: string[], key?: string, dataDir?: string, memory?: boolean, json?: boolean } & NodeSecurityFlags) => {
    const { key, source } = await loadIdentity(opts)
    const peerStore = await openCliPeerStore(opts, true)
    const node = createNode({
      privateKey: key,
      ...(peerStore !== undefined ? { peerStore } : {}),
      ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
      ...await nodeSecurityOptions(opts)
    })
    node.handle(ECHO_PROTOCOL, (stream) => { handleEcho(stream) }, { maxInboundStreams: 64 })
    servePerf(node)
    // Signals are caught from here on: a supervisor that stops us as soon as it reads
    // our addresses (the line below) must get a clean stop, not the default exit.
    const stopped = untilSignal()
    await node.start()
    // A private network cannot cover QUIC (it brings its own security): TCP alone then.
    if (opts.listen === undefined) await listenOptional(node, DEFAULT_LISTEN.filter((a) => opts.psk === undefined || !a.includes('/quic')))
    const addrs = node.getMultiaddrs().map(String)
    if (opts.json === true) {
      jsonLine({ peerId: node.peerId.toString(), multiaddrs: addrs })
    } else {
      const store = peerStore instanceof PersistentPeerStore ? `${peerStore.path} (${peerStore.size} peer${peerStore.size === 1 ? '' : 's'} known)` : 'in memory'
      process.stdout.write(`peer id:  ${node.peerId.toString()}\nidentity: ${source}\npeers:    ${store}\nlistening on:\n${addrs.map((a) => `  ${a}`).join('\n')}\n`)
      node.on('peer:connect', (p) => { process.stdout.write(`connected:    ${p.toString()}\n`) })
      node.on('peer:disconnect', (p) => { process.stdout.write(`disconnected: ${p.toString()}\n`) })
    }
    await stopped
    await node.stop()
  })

addNodeSecurityFlags(program.command('ping')
  .description('dial a peer and measure round trips with /ipfs/ping/1.0.0')
  .argument('<target>', 'the peer: a multiaddr (/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...), host:port, or a peer id the peer store knows')
  .option('-c, --count <n>', 'pings to send', positiveInt, 4)
  .option('-i, --interval <ms>', 'pause between pings in ms', nonNegativeInt, 1000)
  .option('-k, --key <file>', 'identity key file (default: a new key)')
  .option('-d, --data-dir <dir>', 'data directory holding the peer store (default: $LP2P_DATA_DIR or ~/.lp2p)')
  .option('--memory', 'use an empty in-memory peer store')
  .option('--json', 'print JSON lines instead of text'))
  .action(async (targetText: string, opts: { count: number, interval: number, key?: string, dataDir?: string, memory?: boolean, json?: boolean } & NodeSecurityFlags) => {
    const target = parseCliTarget(targetText)
    const node = await clientNode(opts, target)
    try {
      const started = performance.now()
      const conn = await node.dial(target)
      const connectMs = performance.now() - started
      if (opts.json === true) jsonLine({ type: 'connected', peerId: conn.remotePeer.toString(), connectMillis: round(connectMs) })
      else process.stdout.write(`connected to ${conn.remotePeer.toString()} in ${connectMs.toFixed(1)} ms (${conn.encryption}, ${conn.multiplexer})\n`)
      const rtts: number[] = []
      for (let i = 0; i < opts.count; i++) {
        if (i > 0 && opts.interval > 0) await new Promise((resolve) => setTimeout(resolve, opts.interval))
        const rtt = await node.ping(conn.remotePeer)
        rtts.push(rtt)
        if (opts.json === true) jsonLine({ type: 'ping', seq: i + 1, rttMillis: round(rtt) })
        else process.stdout.write(`ping ${i + 1}: ${rtt.toFixed(3)} ms\n`)
      }
      const min = Math.min(...rtts)
      const max = Math.max(...rtts)
      const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length
      if (opts.json === true) {
        jsonLine({ type: 'summary', count: rtts.length, minMillis: round(min), avgMillis: round(avg), maxMillis: round(max) })
      } else {
        process.stdout.write(`${rtts.length} pings: min ${min.toFixed(3)} ms, avg ${avg.toFixed(3)} ms, max ${max.toFixed(3)} ms\n`)
      }
    } finally {
      await node.stop()
    }
  })

program.command('id')
  .description('show this node\'s identity, or create one with --init')
  .option('--init', 'create a new identity key file')
  .option('-k, --key <file>', 'key file (default: $LP2P_KEY or <data dir>/identity.json)')
  .option('-d, --data-dir <dir>', 'data directory (default: $LP2P_DATA_DIR or ~/.lp2p), created with mode 0700')
  .option('-t, --type <type>', 'key type for --init: ed25519, secp256k1, ecdsa, rsa', 'ed25519')
  .option('--force', 'with --init, overwrite an existing key file')
  .option('--json', 'print JSON')
  .action(async (opts: { init?: boolean, key?: string, dataDir?: string, type: string, force?: boolean, json?: boolean }) => {
    const file = keyPath(opts)
    let key: PrivateKey
    if (opts.init === true) {
      if (existsSync(file) && opts.force !== true) {
        throw new Lp2pError(codes.ERR_INVALID_ARG_VALUE, `${file} already exists (use --force to replace it)`)
      }
      key = generateKeyPair(parseKeyType(opts.type))
      // The key's folder (the data directory unless --key says otherwise), mode 0700.
      await ensureDir(opts.key === undefined && process.env.LP2P_KEY === undefined ? dataDirPath(opts) : dirname(file))
      await saveKeyFile(file, key, { overwrite: opts.force === true })
    } else {
      key = await loadKeyFile(file)
    }
    const id = peerIdFromPrivateKey(key)
    if (opts.json === true) {
      jsonLine({ peerId: id.toString(), cid: id.toCID(), type: key.type, keyFile: file })
    } else {
      process.stdout.write(`peer id:  ${id.toString()}\ncid:      ${id.toCID()}\nkey type: ${key.type}\nkey file: ${file}${opts.init === true ? ' (created)' : ''}\n`)
    }
  })

function round (ms: number): number {
  return Math.round(ms * 1000) / 1000
}

registerDialCommand(program)
registerPeersCommand(program)
registerPerfCommand(program)
registerEchoCommand(program)

program.parseAsync(process.argv).catch((err: unknown) => {
  reportError(err)
})
