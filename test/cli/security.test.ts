/**
 * The CLI's security flags as separate processes: the seed example (a listener with
 * SECIO and without TLS, a dialer proposing TLS then SECIO) with `--trace`, a ping and
 * a checksummed echo; private networks with `--psk`, the same key and another.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { encodePskFile } from '../../src/pnet/psk.js'
import { ensureStopped, firstLine, lp2p, run } from './lp2p-process.js'

describe('lp2p CLI: --security, --psk, --trace', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lp2p-cli-sec-'))
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('the seed example: TLS refused with na, SECIO agreed, the muxer over SECIO; ping and echo', async () => {
    const listener = lp2p(['listen', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--security', 'noise,secio'])
    try {
      const info = JSON.parse(await firstLine(listener)) as { multiaddrs: string[] }
      const addr = info.multiaddrs[0] as string
      const pinged = await run(['ping', addr, '--security', 'tls,secio', '--trace', '--count', '1'])
      assert.equal(pinged.code, 0, pinged.stderr)
      assert.match(pinged.stdout, /\(\/secio\/1\.0\.0, \/yamux\/1\.0\.0\)/)
      const trace = pinged.stderr
      for (const line of ['security: -> /tls/1.0.0', 'security: <- na', 'security: -> /secio/1.0.0', 'security: <- /secio/1.0.0',
        '/secio/1.0.0 handshake done', 'muxer: -> /yamux/1.0.0 (over /secio/1.0.0)', 'muxer: <- /yamux/1.0.0 (over /secio/1.0.0)']) {
        assert.ok(trace.includes(line), `trace lacks ${line}:\n${trace}`)
      }
      assert.equal(trace.split('\n').filter((l) => l.includes('LP2P_SECIO')).length, 1, 'one deprecation line')
      const echoed = await run(['echo', addr, '--security', 'tls,secio', '--bytes', '300000', '--json'])
      assert.equal(echoed.code, 0, echoed.stderr)
      const result = JSON.parse(echoed.stdout) as { ok: boolean, bytes: number, encryption: string }
      assert.deepEqual([result.ok, result.bytes, result.encryption], [true, 300000, '/secio/1.0.0'])
      const refused = await run(['ping', addr, '--security', 'tls', '--count', '1'])
      assert.notEqual(refused.code, 0)
      // Lazy with one protocol: the TLS ClientHello follows the proposal, so the
      // listener may close on it before its `na` leaves; either way, a clean failure.
      assert.match(refused.stderr, /^lp2p: ERR_(UNSUPPORTED_PROTOCOL|NEGOTIATION_FAILED)/m)
    } finally {
      await ensureStopped(listener)
    }
  })

  it('--psk: the same key pings; another key fails with ERR_PNET_MISMATCH; a bad file is ERR_INVALID_PSK', async () => {
    const key = path.join(dir, 'swarm.key')
    const other = path.join(dir, 'other.key')
    const bad = path.join(dir, 'bad.key')
    writeFileSync(key, encodePskFile(randomBytes(32)))
    writeFileSync(other, encodePskFile(randomBytes(32)))
    writeFileSync(bad, '/key/swarm/psk/1.0.0/\n/base16/\nabcd\n')
    const listener = lp2p(['listen', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--psk', key])
    try {
      const addr = (JSON.parse(await firstLine(listener)) as { multiaddrs: string[] }).multiaddrs[0] as string
      const ok = await run(['ping', addr, '--psk', key, '--count', '1'])
      assert.equal(ok.code, 0, ok.stderr)
      const wrong = await run(['ping', addr, '--psk', other, '--count', '1'])
      assert.notEqual(wrong.code, 0)
      assert.match(wrong.stderr, /^lp2p: ERR_PNET_MISMATCH/m)
      const invalid = await run(['ping', addr, '--psk', bad, '--count', '1'])
      assert.match(invalid.stderr, /^lp2p: ERR_INVALID_PSK/m)
    } finally {
      await ensureStopped(listener)
    }
  })
})
