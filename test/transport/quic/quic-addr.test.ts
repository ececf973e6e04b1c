/**
 * The pure parts of the QUIC transport, which run without the engine: `/quic-v1`
 * address parsing (and what it refuses), the engine's remote address split, options
 * validation, and how engine failures map to error codes.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import { codes, isLp2pError } from '../../../src/errors.js'
import { splitRemoteAddr, toQuicTarget } from '../../../src/transport/quic/quic-addr.js'
import { engineSettings, QUIC_DEFAULTS, resolveQuicOptions } from '../../../src/transport/quic/config.js'
import { engineError, platformKey } from '../../../src/transport/quic/engine.js'
import { quic } from '../../../src/transport/quic/index.js'

describe('QUIC addresses and options', () => {
  it('takes /ip4 and /ip6 + /udp + /quic-v1, with or without /p2p', () => {
    assert.deepEqual(toQuicTarget(multiaddr('/ip4/127.0.0.1/udp/4001/quic-v1')), { family: 4, host: '127.0.0.1', port: 4001 })
    assert.deepEqual(toQuicTarget(multiaddr('/ip6/::1/udp/0/quic-v1/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp')), { family: 6, host: '::1', port: 0 })
  })

  it('refuses draft-29 /quic, DNS names, TCP, and anything around the QUIC part', () => {
    for (const a of ['/ip4/1.2.3.4/udp/1/quic', '/dns4/example.org/udp/1/quic-v1', '/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.4/udp/1',
      '/ip4/1.2.3.4/udp/1/quic-v1/webtransport', '/ip4/1.2.3.4/udp/1/quic-v1/p2p-circuit']) {
      assert.equal(toQuicTarget(multiaddr(a)), undefined, a)
    }
    const t = quic()
    assert.equal(t.canDial(multiaddr('/ip4/1.2.3.4/udp/1/quic')), false)
    assert.equal(t.canListen(multiaddr('/ip4/0.0.0.0/udp/0/quic-v1')), true)
    assert.equal(t.secure, true, 'a transport that brings its own security (pnet must refuse it)')
  })

  it('splits the engine\'s remote address; one without a peer id is a failed handshake', () => {
    const { addr, peer } = splitRemoteAddr('/ip4/10.0.0.1/udp/9/quic-v1/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp')
    assert.equal(addr.toString(), '/ip4/10.0.0.1/udp/9/quic-v1')
    assert.equal(peer, '12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp')
    for (const bad of ['/ip4/10.0.0.1/udp/9/quic-v1', '', '/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp']) {
      assert.throws(() => splitRemoteAddr(bad), (e: unknown) => isLp2pError(e, codes.ERR_HANDSHAKE_FAILED), bad)
    }
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (text) => {
      try {
        splitRemoteAddr(text)
      } catch (e) {
        assert.ok(isLp2pError(e), `only typed errors, got ${String(e)}`)
      }
    }))
  })

  it('validates options at the API edge and keeps keep-alive under the idle timeout', () => {
    assert.deepEqual(resolveQuicOptions({}), QUIC_DEFAULTS)
    assert.throws(() => resolveQuicOptions({ maxStreamData: -1 }), RangeError)
    assert.throws(() => resolveQuicOptions({ maxStreamData: 1.5 }), RangeError)
    assert.throws(() => resolveQuicOptions({ maxIdleTimeout: 0 }), RangeError)
    assert.throws(() => resolveQuicOptions({ maxIdleTimeout: 2 ** 32 }), RangeError)
    assert.throws(() => resolveQuicOptions({ keepAliveInterval: 10_000, maxIdleTimeout: 10_000 }), RangeError)
    assert.throws(() => resolveQuicOptions({ maxConnectionData: 1024, maxStreamData: 2048 }), RangeError)
    assert.throws(() => resolveQuicOptions({ handshakeTimeout: '5' as unknown as number }), TypeError)
    assert.throws(() => quic(null as unknown as object), TypeError)
    // No keep-alive: an interval the idle timeout always beats.
    assert.ok(engineSettings(resolveQuicOptions({ keepAliveInterval: 0 })).keepAliveInterval > QUIC_DEFAULTS.maxIdleTimeout)
  })

  it('maps engine failures to codes: resets, handshakes, everything else a closed connection', () => {
    assert.equal(engineError(new Error('stream reset by peer: error 0'), 'x').code, codes.ERR_STREAM_RESET)
    assert.equal(engineError(new Error('sending stopped by peer: error 0'), 'x').code, codes.ERR_STREAM_RESET)
    assert.equal(engineError(new Error('the cryptographic handshake failed: error 42'), 'x').code, codes.ERR_HANDSHAKE_FAILED)
    assert.equal(engineError(new Error('timed out'), 'x').code, codes.ERR_CONNECTION_CLOSED)
    assert.equal(engineError('closed', 'x').code, codes.ERR_CONNECTION_CLOSED)
    assert.match(platformKey(), /^[a-z0-9]+-[a-z0-9]+(-(gnu|musl|msvc))?$/)
  })
})
