/**
 * The `lp2p` command end to end, as separate processes: listen, ping, id, errors.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ensureStopped, exited, firstLine, lp2p, run } from './lp2p-process.js'
import { quicUnavailable } from '../transport/quic/quic-pair.js'

describe('lp2p CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lp2p-cli-'))
  const keyFile = path.join(dir, 'key.json')
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('creates and shows an identity', async () => {
    const made = await run(['id', '--init', '--key', keyFile, '--type', 'secp256k1', '--json'])
    assert.equal(made.code, 0, made.stderr)
    const created = JSON.parse(made.stdout) as { peerId: string, type: string }
    assert.equal(created.type, 'secp256k1')
    const shown = await run(['id', '--key', keyFile, '--json'])
    assert.equal((JSON.parse(shown.stdout) as { peerId: string }).peerId, created.peerId)
    const again = await run(['id', '--init', '--key', keyFile])
    assert.notEqual(again.code, 0, 'refuses to overwrite without --force')
  })

  it('listens, answers pings from another process, and exits cleanly on SIGTERM', async () => {
    const listener = lp2p(['listen', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--key', keyFile])
    let stderr = ''
    listener.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    try {
      const info = JSON.parse(await firstLine(listener)) as { peerId: string, multiaddrs: string[] }
      const shown = await run(['id', '--key', keyFile, '--json'])
      assert.equal(info.peerId, (JSON.parse(shown.stdout) as { peerId: string }).peerId, 'the node uses the key file')
      assert.match(info.multiaddrs[0] ?? '', new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${info.peerId}$`))

      const pinged = await run(['ping', info.multiaddrs[0] as string, '--count', '3', '--interval', '0', '--json'])
      assert.equal(pinged.code, 0, pinged.stderr)
      const out = pinged.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string, count?: number })
      assert.equal(out.filter((o) => o.type === 'ping').length, 3)
      assert.equal(out.at(-1)?.type, 'summary')

      // host:port works too: the identity is whatever the handshake proves.
      const port = /\/tcp\/(\d+)\//.exec(info.multiaddrs[0] as string)?.[1] as string
      const byHostPort = await run(['ping', `127.0.0.1:${port}`, '--count', '1', '--json'])
      assert.equal(byHostPort.code, 0, byHostPort.stderr)
      assert.equal((JSON.parse(byHostPort.stdout.split('\n')[0] as string) as { peerId: string }).peerId, info.peerId)

      // lp2p dial prints the timeline: scheduled, attempt, connected.
      const dialed = await run(['dial', info.multiaddrs[0] as string, '--json'])
      assert.equal(dialed.code, 0, dialed.stderr)
      const steps = dialed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string, peerId?: string, protocols?: string[] })
      assert.deepEqual(steps.map((x) => x.type), ['scheduled', 'attempt', 'attempt-connected', 'connected'])
      assert.equal(steps.at(-1)?.peerId, info.peerId)
      assert.ok(steps.at(-1)?.protocols?.includes('/ipfs/ping/1.0.0'), 'identify ran')

      listener.kill('SIGTERM')
      assert.equal(await exited(listener), 0, stderr)
    } finally {
      await ensureStopped(listener)
    }
  })

  it('listens on TCP and QUIC by default; pings over QUIC', { skip: quicUnavailable() }, async () => {
    const listener = lp2p(['listen', '--json'])
    let stderr = ''
    listener.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    try {
      const info = JSON.parse(await firstLine(listener)) as { peerId: string, multiaddrs: string[] }
      assert.ok(info.multiaddrs.some((a) => a.startsWith('/ip4/127.0.0.1/tcp/')), info.multiaddrs.join(' '))
      const quic = info.multiaddrs.find((a) => a.startsWith('/ip4/127.0.0.1/udp/') && a.includes('/quic-v1/p2p/'))
      assert.ok(quic !== undefined, info.multiaddrs.join(' '))
      const pinged = await run(['ping', quic, '--count', '2', '--interval', '0'])
      assert.equal(pinged.code, 0, pinged.stderr)
      assert.match(pinged.stdout, /\(\/quic-v1, \/quic-v1\)/)
      listener.kill('SIGTERM')
      assert.equal(await exited(listener), 0, stderr)
    } finally {
      await ensureStopped(listener)
    }
  })

  it('reports a failed dial as one line with its error code and a non-zero exit', async () => {
    const res = await run(['ping', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp', '--count', '1'])
    assert.notEqual(res.code, 0)
    assert.match(res.stderr, /^lp2p: ERR_TRANSPORT_DIAL_FAILED: /)
    assert.equal(res.stderr.trim().split('\n').length, 1)
  })

  it('id --init on a fresh HOME creates the data directory with mode 0700', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'lp2p-home-'))
    try {
      const env = { HOME: home, LP2P_DATA_DIR: '', LP2P_KEY: '' }
      const made = await run(['id', '--init', '--json'], env)
      assert.equal(made.code, 0, made.stderr)
      assert.equal(statSync(path.join(home, '.lp2p')).mode & 0o777, 0o700)
      assert.equal(statSync(path.join(home, '.lp2p', 'identity.json')).mode & 0o777, 0o600)
      const shown = await run(['id', '--json'], env)
      assert.equal((JSON.parse(shown.stdout) as { peerId: string }).peerId, (JSON.parse(made.stdout) as { peerId: string }).peerId)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })

  it('usage errors are lp2p error lines with stable codes, never commander\'s', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['bogus'], /^lp2p: ERR_USAGE: unknown command 'bogus'/],
      [['ping'], /^lp2p: ERR_USAGE: missing required argument 'target'/],
      [['ping', '--nope', '/ip4/127.0.0.1/tcp/1'], /^lp2p: ERR_USAGE: unknown option '--nope'/],
      [['ping', '-c', 'x', '/ip4/127.0.0.1/tcp/1'], /^lp2p: ERR_INVALID_ARG_VALUE: option '-c, --count <n>' argument 'x' is invalid/],
      [['ping', 'not-a-peer'], /^lp2p: ERR_INVALID_PEER_ID: "not-a-peer" is not a peer address: give a multiaddr/]
    ]
    for (const [args, re] of cases) {
      const res = await run(args)
      assert.notEqual(res.code, 0, args.join(' '))
      assert.match(res.stderr, re)
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr)
      assert.doesNotMatch(res.stderr, /commander\./)
    }
  })

  it('rejects a bad multiaddr and a bad key file with codes', async () => {
    const bad = await run(['ping', '/ip4/not-an-ip/tcp/1'])
    assert.match(bad.stderr, /ERR_INVALID_MULTIADDR/)
    const missing = await run(['id', '--key', path.join(dir, 'nope.json')])
    assert.match(missing.stderr, /ERR_INVALID_KEY_FILE/)
  })
})
