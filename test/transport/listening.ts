/**
 * Test helpers shared by the transport tests: a listener whose accepted channels are
 * awaited in order, and a throwaway self-signed certificate for TLS WebSockets.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from '../../src/interfaces/channel.js'
import type { Transport, TransportListener } from '../../src/interfaces/transport.js'

export interface Listening {
  listener: TransportListener
  /** Every channel accepted and not yet taken by `next()`. */
  accepted: ByteChannel[]
  /** The next accepted channel, once there is one. */
  next: () => Promise<ByteChannel>
}

/** Listens on `addr` with a listener of `transport`. */
export async function listenOn (transport: Transport, addr: string): Promise<Listening> {
  const accepted: ByteChannel[] = []
  let onAccept: (() => void) | undefined
  const listener = transport.createListener({
    onConnection: (ch) => { accepted.push(ch); onAccept?.() }
  })
  await listener.listen(multiaddr(addr))
  const next = async (): Promise<ByteChannel> => {
    if (accepted.length > 0) return accepted.shift() as ByteChannel
    await new Promise<void>((resolve) => { onAccept = resolve })
    return accepted.shift() as ByteChannel
  }
  return { listener, accepted, next }
}

/** The TCP port of an `/ip4|ip6/<host>/tcp/<port>/...` address. */
export function portOf (addr: Multiaddr): number {
  return Number(addr.getComponents()[1]?.value)
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
