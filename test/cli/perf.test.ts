/**
 * `lp2p perf` end to end as separate processes: the runner's server and client flags,
 * the JSON lines on stdout, `lp2p listen` serving perf; and the command's pure helpers.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { multiaddr } from '@multiformats/multiaddr'
import {
  parseByteCount, parseServerAddress, PERF_RUNNER_PEER_ID, perfRunnerKey, renderBar
} from '../../src/cli/perf.js'
import { ed25519PrivateKeyFromSeed } from '../../src/identity/ed25519.js'
import { peerIdFromPrivateKey } from '../../src/identity/index.js'
import { portOf } from '../helpers/addr.js'
import { ensureStopped, exited, firstLine, lp2p, run } from './lp2p-process.js'
import { quicUnavailable } from '../transport/quic/quic-pair.js'

/** Starts a long-running command and returns it with its first stdout line, parsed. */
async function startServer (args: string[]): Promise<{ child: ChildProcess, info: { peerId: string, multiaddrs: string[] } }> {
  const child = lp2p(args)
  try {
    return { child, info: JSON.parse(await firstLine(child)) as { peerId: string, multiaddrs: string[] } }
  } catch (err) {
    await ensureStopped(child)
    throw err
  }
}

interface Report { type: string, timeSeconds: number, uploadBytes: number, downloadBytes: number }

const parseLines = (stdout: string): Report[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Report)

describe('lp2p perf', () => {
  let server: ChildProcess | undefined
  let port: number
  let quicPort: number | undefined

  before(async () => {
    const started = await startServer(['perf', '--run-server', '--server-address', '127.0.0.1:0'])
    server = started.child
    assert.equal(started.info.peerId, PERF_RUNNER_PEER_ID, 'the runner\'s fixed server identity')
    port = portOf(multiaddr(started.info.multiaddrs[0] as string))
    const q = started.info.multiaddrs.find((a) => a.includes('/quic-v1'))
    quicPort = q === undefined ? undefined : portOf(multiaddr(q))
  })

  after(async () => {
    if (server === undefined) return
    try {
      server.kill('SIGTERM')
      assert.equal(await exited(server), 0)
    } finally {
      await ensureStopped(server)
    }
  })

  it('runs the runner\'s client command and prints intermediary and final JSON lines on stdout only', async () => {
    const res = await run(['perf', '--server-address', `127.0.0.1:${port}`, '--transport', 'tcp',
      '--upload-bytes', '67108864', '--download-bytes', '48MiB', '--report-interval', '5'])
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stderr, '', 'nothing on stderr when it is not a terminal')
    const lines = parseLines(res.stdout)
    const final = lines.at(-1) as Report
    assert.deepEqual(Object.keys(final).sort(), ['downloadBytes', 'timeSeconds', 'type', 'uploadBytes'])
    assert.equal(final.type, 'final')
    assert.equal(final.uploadBytes, 64 << 20)
    assert.equal(final.downloadBytes, 48 << 20)
    const inter = lines.slice(0, -1)
    assert.ok(inter.length >= 1, `intermediary reports: ${inter.length}`)
    assert.ok(inter.every((r) => r.type === 'intermediary' && r.timeSeconds > 0))
    const summed = inter.reduce((a, r) => a + r.timeSeconds, 0)
    assert.ok(summed <= final.timeSeconds, 'intervals fit in the total time')
    assert.ok(inter.reduce((a, r) => a + r.uploadBytes, 0) <= final.uploadBytes)
  })

  it('runs over QUIC with --transport quic-v1 (the server listens on TCP and QUIC)', { skip: quicUnavailable() }, async () => {
    assert.ok(quicPort !== undefined, 'the server listens on QUIC')
    const res = await run(['perf', '--server-address', `127.0.0.1:${quicPort}`, '--transport', 'quic-v1',
      '--upload-bytes', '8MiB', '--download-bytes', '8MiB'])
    assert.equal(res.code, 0, res.stderr)
    const final = parseLines(res.stdout).at(-1) as Report
    assert.deepEqual([final.type, final.uploadBytes, final.downloadBytes], ['final', 8 << 20, 8 << 20])
  })

  it('dials `lp2p listen`, which serves perf, by multiaddr', async () => {
    const { child, info } = await startServer(['listen', '--json', '--listen', '/ip4/127.0.0.1/tcp/0'])
    try {
      const res = await run(['perf', '--server-address', info.multiaddrs[0] as string, '--upload-bytes', '1000', '--download-bytes', '2000'])
      assert.equal(res.code, 0, res.stderr)
      const final = parseLines(res.stdout).at(-1) as Report
      assert.deepEqual([final.type, final.uploadBytes, final.downloadBytes], ['final', 1000, 2000])
    } finally {
      await ensureStopped(child)
    }
  })

  it('fails with one error line for a refused request, a dead server, a bad transport', async () => {
    const { child, info } = await startServer(['listen', '--json', '--listen', '/ip4/127.0.0.1/tcp/0'])
    try {
      // `lp2p listen` bounds requests at 1 TiB.
      const big = await run(['perf', '--server-address', info.multiaddrs[0] as string, '--download-bytes', '2000GiB'])
      assert.notEqual(big.code, 0)
      assert.match(big.stderr, /^lp2p: ERR_STREAM_RESET: /)
    } finally {
      await ensureStopped(child)
    }
    const dead = await run(['perf', '--server-address', '127.0.0.1:1', '--upload-bytes', '1'])
    assert.notEqual(dead.code, 0)
    assert.match(dead.stderr, /^lp2p: ERR_TRANSPORT_DIAL_FAILED: /)
    const webrtc = await run(['perf', '--server-address', '127.0.0.1:1', '--transport', 'webrtc'])
    assert.notEqual(webrtc.code, 0)
    assert.match(webrtc.stderr, /webrtc is not supported/)
  })
})

describe('lp2p perf helpers', () => {
  it('derives the runner\'s server peer id from the all-zero Ed25519 seed', () => {
    assert.equal(peerIdFromPrivateKey(perfRunnerKey()).toString(), PERF_RUNNER_PEER_ID)
    assert.notEqual(peerIdFromPrivateKey(ed25519PrivateKeyFromSeed(new Uint8Array(32).fill(1))).toString(), PERF_RUNNER_PEER_ID)
  })

  it('parses server addresses', () => {
    assert.equal(parseServerAddress('127.0.0.1:4001').toString(), '/ip4/127.0.0.1/tcp/4001')
    assert.equal(parseServerAddress('[::1]:4001').toString(), '/ip6/::1/tcp/4001')
    assert.equal(parseServerAddress('example.org:80').toString(), '/dns/example.org/tcp/80')
    assert.equal(parseServerAddress('/ip4/10.0.0.1/tcp/5').toString(), '/ip4/10.0.0.1/tcp/5')
    assert.equal(parseServerAddress('127.0.0.1:4001', 'quic-v1').toString(), '/ip4/127.0.0.1/udp/4001/quic-v1')
    assert.equal(parseServerAddress('[::1]:4001', 'quic-v1').toString(), '/ip6/::1/udp/4001/quic-v1')
    assert.throws(() => parseServerAddress('example.org:80', 'quic-v1'), /IP address/)
    for (const bad of ['127.0.0.1', '127.0.0.1:65536', ':4001', '1.2.3.4:x', '/ip4/nope', '[::1:4001']) {
      assert.throws(() => parseServerAddress(bad), bad)
    }
  })

  it('parses byte counts with units', () => {
    assert.equal(parseByteCount('1073741824'), 1 << 30)
    assert.equal(parseByteCount('1GiB'), 1 << 30)
    assert.equal(parseByteCount('100MB'), 100e6)
    assert.equal(parseByteCount('64k'), 64e3)
    assert.equal(parseByteCount('0'), 0)
    for (const bad of ['-1', '1.5x', 'lots', '', '1e3', '99999999999GiB']) assert.throws(() => parseByteCount(bad), bad)
  })

  it('renders the progress bar', () => {
    assert.equal(renderBar(0, 100, 0, 10), '[..........]   0%  0 B / 100 B  0.00 bit/s')
    assert.equal(renderBar(1 << 29, 1 << 30, 5.4e9, 10), '[#####.....]  50%  512.00 MiB / 1.00 GiB  5.40 Gbit/s')
    assert.equal(renderBar(5, 0, 0, 4), '[####] 100%  5 B / 0 B  0.00 bit/s')
  })
})
