/**
 * A platform without the QUIC engine, simulated by hiding its package in a child
 * process (test/helpers/hide-quic-engine.cjs): the node starts with its default
 * transports, TCP works, and QUIC fails with ERR_TRANSPORT_UNAVAILABLE naming the
 * package to install; `lp2p listen` listens on TCP alone and says why.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { withTimeout } from '../../helpers/hostile.js'

const HIDE = path.resolve('test/helpers/hide-quic-engine.cjs')

async function runHidden (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--require', HIDE, '--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  try {
    const [code] = await withTimeout(once(child, 'close'), 60_000, 'the child to exit') as [number | null]
    return { code, stdout, stderr }
  } finally {
    child.kill('SIGKILL')
  }
}

describe('without the QUIC engine', { timeout: 120_000 }, () => {
  it('a node starts and works over TCP; QUIC fails with the missing package named', async () => {
    const res = await runHidden([path.resolve('test/transport/quic/no-engine-child.ts')])
    assert.equal(res.code, 0, res.stderr)
    const out = JSON.parse(res.stdout) as { listenQuic?: { code: string, message: string }, dialQuic?: { code: string, message: string }, echoed: string, viaPeerId: string }
    assert.equal(out.echoed, 'tcp still works')
    assert.match(out.viaPeerId, /\/tcp\//, 'a peer with QUIC and TCP addresses is reached over TCP')
    assert.equal(out.listenQuic?.code, 'ERR_TRANSPORT_UNAVAILABLE')
    assert.match(out.listenQuic?.message ?? '', /@chainsafe\/libp2p-quic-[a-z0-9-]+(@[\d.]+)? is not installed|no QUIC engine is known to work on/)
    assert.equal(out.dialQuic?.code, 'ERR_TRANSPORT_UNAVAILABLE')
  })

  it('`lp2p listen` listens on TCP only and says QUIC is unavailable', async () => {
    const child = spawn(process.execPath, ['--require', HIDE, '--import', 'tsx', path.resolve('src/cli/main.ts'), 'listen', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    try {
      await withTimeout(new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); if (stdout.includes('\n')) resolve() })
      }), 60_000, 'lp2p listen to print its addresses')
      const info = JSON.parse(stdout) as { multiaddrs: string[] }
      assert.ok(info.multiaddrs.length > 0 && info.multiaddrs.every((a) => a.includes('/tcp/')), stdout)
      assert.match(stderr, /not listening on \/ip4\/0\.0\.0\.0\/udp\/0\/quic-v1: QUIC is unavailable: .*libp2p-quic/)
      child.kill('SIGTERM')
      const [code] = await withTimeout(once(child, 'exit'), 10_000, 'lp2p listen to exit') as [number | null]
      assert.equal(code, 0, stderr)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
