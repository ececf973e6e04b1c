import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import { requireWsTarget, toWsTarget, toWsUrl, wsAddr } from '../../src/transport/websocket-addr.js'
import { isLp2pError } from '../../src/errors.js'

const PEER = '12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDCy8Bzc5c4gsAuakXp'

function target (s: string) {
  return toWsTarget(multiaddr(s))
}

describe('WebSocket addresses', () => {
  it('parses every example of specs/websockets.md "Addressing"', () => {
    assert.deepEqual(target('/ip4/192.0.2.0/tcp/1234/ws'),
      { host: '192.0.2.0', port: 1234, family: 4, isDns: false, secure: false, flavour: 'ws', sni: undefined, path: '/' })
    assert.deepEqual(target('/ip4/192.0.2.0/tcp/1234/tls/ws'),
      { host: '192.0.2.0', port: 1234, family: 4, isDns: false, secure: true, flavour: 'tls/ws', sni: undefined, path: '/' })
    assert.deepEqual(target('/ip4/192.0.2.0/tcp/1234/tls/sni/foo.example.com/ws'),
      { host: '192.0.2.0', port: 1234, family: 4, isDns: false, secure: true, flavour: 'tls/ws', sni: 'foo.example.com', path: '/' })
    // default ports: 80 for ws, 443 for a secure WebSocket
    assert.equal(target('/ip4/192.0.2.0/ws')?.port, 80)
    assert.equal(target('/ip4/192.0.2.0/tls/ws')?.port, 443)
    assert.deepEqual(target('/ip4/192.0.2.0/wss'),
      { host: '192.0.2.0', port: 443, family: 4, isDns: false, secure: true, flavour: 'wss', sni: undefined, path: '/' })
    assert.deepEqual(target('/dns/example.com/wss'),
      { host: 'example.com', port: 443, family: 0, isDns: true, secure: true, flavour: 'wss', sni: undefined, path: '/' })
    assert.equal(target('/dns/example.com/wss/http-path/path%2Fto%2Fendpoint')?.path, '/path/to/endpoint')
  })

  it('accepts /p2p and /http-path in either order, once each', () => {
    assert.equal(target(`/ip4/1.2.3.4/tcp/1/ws/p2p/${PEER}`)?.path, '/')
    assert.equal(target(`/ip4/1.2.3.4/tcp/1/ws/p2p/${PEER}/http-path/x`)?.path, '/x')
    assert.equal(target(`/ip4/1.2.3.4/tcp/1/ws/http-path/x/p2p/${PEER}`)?.path, '/x')
    assert.equal(target(`/ip4/1.2.3.4/tcp/1/ws/p2p/${PEER}/p2p/${PEER}`), undefined)
    assert.equal(target('/ip4/1.2.3.4/tcp/1/ws/http-path/x/http-path/y'), undefined)
  })

  it('keeps an HTTP-encoded path as it is and refuses one that is not a request target', () => {
    // multiaddr-http-path.md: the HTTP path "a%20space" is written /http-path/a%2520space
    assert.equal(target('/ip4/1.2.3.4/tcp/1/ws/http-path/a%2520space')?.path, '/a%20space')
    assert.equal(target('/ip4/1.2.3.4/tcp/1/ws/http-path/a%20space'), undefined)
    assert.equal(target('/ip4/1.2.3.4/tcp/1/ws/http-path/a%3Fb'), undefined)
    assert.equal(target('/ip4/1.2.3.4/tcp/1/ws/http-path/a%23b'), undefined)
    assert.equal(target('/ip4/1.2.3.4/tcp/1/ws/http-path/%C3%A9'), undefined)
  })

  it('refuses what is not a WebSocket address', () => {
    for (const a of ['/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.4/tcp/1/ws/tls', '/ip4/1.2.3.4/tcp/1/tls/wss', '/ip4/1.2.3.4/tcp/1/tls/sni/x/wss',
      '/ip4/1.2.3.4/udp/1/ws', '/ip4/1.2.3.4/tcp/1/sni/x/ws', '/ip4/1.2.3.4/tcp/1/ws/ws', `/p2p/${PEER}/ws`, '/memory/a',
      '/ip4/1.2.3.4/tcp/1/ws/p2p-circuit', '/unix/tmp%2Fsock/ws', '/ip4/1.2.3.4/tcp/1/tcp/2/ws']) {
      assert.equal(target(a), undefined, a)
    }
    assert.throws(() => requireWsTarget(multiaddr('/ip4/1.2.3.4/tcp/1')), (e: unknown) => isLp2pError(e, 'ERR_INVALID_MULTIADDR'))
  })

  it('builds the URL to request, naming the /sni host for the Host header', () => {
    assert.equal(toWsUrl(requireWsTarget(multiaddr('/ip4/1.2.3.4/tcp/5/ws'))), 'ws://1.2.3.4:5/')
    assert.equal(toWsUrl(requireWsTarget(multiaddr('/ip6/::1/tcp/5/wss/http-path/a%2Fb'))), 'wss://[::1]:5/a/b')
    assert.equal(toWsUrl(requireWsTarget(multiaddr('/ip4/1.2.3.4/tcp/5/tls/sni/foo.example.com/ws'))), 'wss://foo.example.com:5/')
    assert.equal(toWsUrl(requireWsTarget(multiaddr('/dns4/example.com/wss'))), 'wss://example.com:443/')
  })

  it('formats socket addresses with the listener\'s WebSocket part', () => {
    const t = { flavour: 'tls/ws' as const, path: '/a/b c' }
    assert.equal(wsAddr('::ffff:10.0.0.1', 7, 'IPv6', t).toString(), '/ip4/10.0.0.1/tcp/7/tls/ws/http-path/a%2Fb%20c')
    assert.equal(wsAddr('::1', 7, 6, { flavour: 'wss', path: '/' }).toString(), '/ip6/::1/tcp/7/wss')
  })

  it('round-trips: every address it formats parses back to the same target', () => {
    fc.assert(fc.property(
      fc.oneof(fc.ipV4(), fc.ipV6()),
      fc.integer({ min: 0, max: 65535 }),
      fc.constantFrom('ws' as const, 'tls/ws' as const, 'wss' as const),
      fc.array(fc.stringMatching(/^[\x21-\x22\x24-\x3e\x40-\x7e]{1,8}$/), { maxLength: 3 }),
      (ip, port, flavour, segments) => {
        const path = '/' + segments.join('/')
        const addr = wsAddr(ip, port, ip.includes(':') ? 6 : 4, { flavour, path })
        const t = toWsTarget(multiaddr(addr.toString()))
        assert.ok(t !== undefined, addr.toString())
        assert.equal(t.port, port)
        assert.equal(t.flavour, flavour)
        assert.equal(t.secure, flavour !== 'ws')
        assert.equal(t.path, path)
        assert.equal(multiaddr(addr.bytes).toString(), addr.toString())
      }
    ), { numRuns: 300 })
  })

  it('never throws on arbitrary multiaddrs made of known components', () => {
    const part = fc.constantFrom('/ip4/1.2.3.4', '/ip6/::1', '/dns/a.example', '/tcp/1', '/tcp/443', '/tls', '/sni/a.example',
      '/ws', '/wss', `/p2p/${PEER}`, '/http-path/x', '/udp/1', '/quic-v1', '/p2p-circuit')
    fc.assert(fc.property(fc.array(part, { minLength: 1, maxLength: 7 }), (parts) => {
      const t = toWsTarget(multiaddr(parts.join('')))
      if (t !== undefined) {
        assert.ok(t.port >= 0 && t.port <= 65535)
        assert.ok(t.path.startsWith('/'))
      }
    }), { numRuns: 500 })
  })
})
