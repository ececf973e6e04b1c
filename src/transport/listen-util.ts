/**
 * What the TCP and WebSocket listeners share (driver code): binding a `net.Server`
 * with typed errors and the listener callbacks wired, and the interface addresses a
 * wildcard listen address (`0.0.0.0`, `::`) stands for.
 */
import type net from 'node:net'
import os from 'node:os'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { TransportListenerInit } from '../interfaces/transport.js'
import { codes, Lp2pError } from '../errors.js'

/**
 * Binds `server` to host/port; rejects with ERR_LISTEN_FAILED (address in use,
 * permission). Afterwards the server's errors and close reach `init`.
 */
export async function bindServer (server: net.Server, addr: Multiaddr, target: { host: string, port: number, family: number }, init: TransportListenerInit): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new Lp2pError(codes.ERR_LISTEN_FAILED, `cannot listen on ${addr.toString()}: ${err.message}`, { cause: err }))
    }
    server.once('error', onError)
    server.listen({ host: target.host, port: target.port, ipv6Only: target.family === 6 }, () => {
      server.off('error', onError)
      server.on('error', (err) => { init.onError?.(err) })
      server.on('close', () => { init.onClose?.() })
      resolve()
    })
  })
}

/**
 * Every interface address of the family (IPv6 link-local addresses left out: they
 * need a zone), for expanding a wildcard listen address.
 */
export function interfaceHosts (family: 4 | 6): string[] {
  const out: string[] = []
  for (const infos of Object.values(os.networkInterfaces())) {
    for (const info of infos ?? []) {
      if (family === 4 && info.family === 'IPv4') out.push(info.address)
      else if (family === 6 && info.family === 'IPv6' && info.scopeid === 0) out.push(info.address)
    }
  }
  return out
}
