/** Dial ranking: address class first, then QUIC before TCP before WebSocket, stable. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { rankAddresses } from '../../src/dialer/rank.js'

const ranked = (addrs: string[]): string[] => rankAddresses(addrs.map((a) => multiaddr(a))).map(String)

describe('dial ranking', () => {
  it('puts QUIC before TCP before WebSocket within an address class', () => {
    assert.deepEqual(ranked([
      '/ip4/10.0.0.1/tcp/4001/ws',
      '/ip4/10.0.0.1/tcp/4001',
      '/ip4/10.0.0.1/udp/4001/quic-v1'
    ]), ['/ip4/10.0.0.1/udp/4001/quic-v1', '/ip4/10.0.0.1/tcp/4001', '/ip4/10.0.0.1/tcp/4001/ws'])
  })

  it('keeps the address class first: loopback TCP before a public QUIC address', () => {
    assert.deepEqual(ranked(['/ip4/1.2.3.4/udp/1/quic-v1', '/ip4/127.0.0.1/tcp/2', '/ip4/127.0.0.1/udp/3/quic-v1']),
      ['/ip4/127.0.0.1/udp/3/quic-v1', '/ip4/127.0.0.1/tcp/2', '/ip4/1.2.3.4/udp/1/quic-v1'])
  })

  it('is stable within a rank and drops duplicates', () => {
    assert.deepEqual(ranked(['/ip4/10.0.0.2/tcp/1', '/ip4/10.0.0.1/tcp/1', '/ip4/10.0.0.2/tcp/1']),
      ['/ip4/10.0.0.2/tcp/1', '/ip4/10.0.0.1/tcp/1'])
  })
})
