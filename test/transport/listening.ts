/**
 * Test helpers shared by the transport tests: a listener whose accepted channels are
 * awaited in order, and a throwaway self-signed certificate for TLS WebSockets.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from '../../src/interfaces/channel.js'
import type { Transport, TransportListener } from '../../src/interfaces/transport.js'
import { withTimeout } from '../helpers/hostile.js'

export interface Listening {
  listener: TransportListener
  /** Every channel accepted and not yet taken by `next()`. */
  accepted: ByteChannel[]
  /**
   * The next accepted channel, once there is one (callers waiting together get the
   * channels in the order they called); rejects after `ms`.
   */
  next: (ms?: number) => Promise<ByteChannel>
}

/** Listens on `addr` with a listener of `transport`. */
export async function listenOn (transport: Transport<ByteChannel>, addr: string): Promise<Listening> {
  const accepted: ByteChannel[] = []
  const waiters: Array<(ch: ByteChannel) => void> = []
  const listener = transport.createListener({
    onConnection: (ch) => {
      const waiter = waiters.shift()
      if (waiter !== undefined) waiter(ch)
      else accepted.push(ch)
    }
  })
  await listener.listen(multiaddr(addr))
  const next = async (ms = 5000): Promise<ByteChannel> => {
    const ch = accepted.shift()
    if (ch !== undefined) return ch
    let waiter!: (ch: ByteChannel) => void
    const arrived = new Promise<ByteChannel>((resolve) => { waiter = resolve })
    waiters.push(waiter)
    try {
      return await withTimeout(arrived, ms, 'an accepted connection')
    } finally {
      // Timed out: a later connection must not go to a caller that gave up.
      const at = waiters.indexOf(waiter)
      if (at !== -1) waiters.splice(at, 1)
    }
  }
  return { listener, accepted, next }
}

/** A P-256 certificate for CN=localhost with `subjectAltName` `san`, valid one day. */
export function selfSignedCert (san: string): { cert: string, key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lp2p-cert-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost',
      '-addext', `subjectAltName=${san}`], { stdio: 'ignore' })
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
