/**
 * Micro-benchmark of what one Noise XX handshake asks of `node:crypto` for X25519
 * (`src/security/noise/x25519.ts`): importing a remote raw public key (JWK, as lp2p
 * does, against DER SubjectPublicKeyInfo), exporting our ephemeral public key (JWK
 * against DER), key generation and the DH itself. Medians of `runs` runs, with the
 * spread.
 *
 * Run: node --import tsx bench/micro/x25519.ts [--runs 5]
 */
import { createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto'
import { generateX25519KeyPair, importX25519PublicKey, x25519 } from '../../src/security/noise/x25519.js'
import { median } from '../lib/stats.js'

const args = process.argv.slice(2)
const RUNS = (() => { const i = args.indexOf('--runs'); return i >= 0 ? Number(args[i + 1]) : 5 })()
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

/** Microseconds per call of `fn`, over about `ms` ms. */
function usPerCall (fn: () => void, ms = 200): number {
  let n = 0
  const start = process.hrtime.bigint()
  const limit = BigInt(ms) * 1_000_000n
  let elapsed = 0n
  while (elapsed < limit) {
    for (let i = 0; i < 64; i++) fn()
    n += 64
    elapsed = process.hrtime.bigint() - start
  }
  return Number(elapsed) / 1e3 / n
}

const me = generateX25519KeyPair()
const remote = generateX25519KeyPair().publicKey
const remoteKey = importX25519PublicKey(remote)
const cases: Array<[string, () => void]> = [
  ['import remote key, JWK (lp2p)', () => { importX25519PublicKey(remote) }],
  ['import remote key, DER SPKI', () => { createPublicKey({ key: Buffer.concat([SPKI_PREFIX, remote]), format: 'der', type: 'spki' }) }],
  ['export public key, JWK (lp2p)', () => { remoteKey.export({ format: 'jwk' }) }],
  ['export public key, DER SPKI', () => { remoteKey.export({ format: 'der', type: 'spki' }) }],
  ['generate key pair (lp2p: random + JWK)', () => { generateX25519KeyPair() }],
  // generateKeyPairSync + JWK export is left out on purpose: it can deadlock on Node 20.
  ['generateKeyPairSync + DER export', () => { generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }) }],
  ['generateKeyPairSync, no export', () => { generateKeyPairSync('x25519') }],
  ['DH with an imported key (lp2p)', () => { x25519(me.privateKey, remoteKey) }],
  ['DH, node:crypto alone', () => { diffieHellman({ privateKey: me.privateKey, publicKey: remoteKey }) }]
]

const results = new Map<string, number[]>()
for (let r = 0; r < RUNS; r++) {
  for (const [name, fn] of cases) {
    const list = results.get(name) ?? []
    list.push(usPerCall(fn))
    results.set(name, list)
  }
}
for (const [name, list] of results) {
  process.stdout.write(`${name.padEnd(40)} ${median(list).toFixed(2).padStart(8)} us  [${Math.min(...list).toFixed(2)}-${Math.max(...list).toFixed(2)}]\n`)
}
