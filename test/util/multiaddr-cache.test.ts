import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { MultiaddrCache } from '../../src/util/multiaddr-cache.js'
import { decodeIdentify, encodeIdentify } from '../../src/protocols/identify-message.js'

describe('MultiaddrCache', () => {
  it('returns one shared object per address, by text and by bytes', () => {
    const cache = new MultiaddrCache(8)
    const a = cache.fromString('/ip4/127.0.0.1/tcp/4001')
    assert.equal(cache.fromString('/ip4/127.0.0.1/tcp/4001'), a)
    const bytes = multiaddr('/ip4/10.0.0.1/tcp/5').bytes
    const b = cache.fromBytes(bytes)
    assert.equal(cache.fromBytes(Uint8Array.from(bytes)), b)
    assert.equal(b.toString(), '/ip4/10.0.0.1/tcp/5')
    assert.notEqual(a, b)
  })

  it('parses a copy: the caller may reuse its buffer, and a big buffer is not kept', () => {
    const cache = new MultiaddrCache(8)
    const message = new Uint8Array(64 * 1024)
    const bytes = multiaddr('/ip4/1.2.3.4/tcp/80').bytes
    message.set(bytes, 100)
    const addr = cache.fromBytes(message.subarray(100, 100 + bytes.byteLength))
    message.fill(0xff)
    assert.equal(addr.toString(), '/ip4/1.2.3.4/tcp/80')
    for (const c of addr.getComponents()) assert.ok(c.bytes === undefined || c.bytes.buffer.byteLength < 1024)
  })

  it('stays within its capacity, dropping the least recently used', () => {
    const cache = new MultiaddrCache(6)
    const first = cache.fromString('/ip4/127.0.0.1/tcp/1')
    for (let port = 10; port < 1000; port++) {
      cache.fromString(`/ip4/127.0.0.1/tcp/${port}`)
      assert.ok(cache.size <= 6)
      // Used all the time: stays.
      assert.equal(cache.fromString('/ip4/127.0.0.1/tcp/1'), first)
    }
    for (let port = 2000; port < 2010; port++) cache.fromString(`/ip4/127.0.0.1/tcp/${port}`)
    assert.notEqual(cache.fromString('/ip4/127.0.0.1/tcp/1'), first, 'evicted once unused')
  })

  it('keeps text and byte keys apart, and throws on what multiaddr rejects', () => {
    const cache = new MultiaddrCache(8)
    assert.throws(() => cache.fromString('/not-a-protocol/1'))
    assert.throws(() => cache.fromBytes(Uint8Array.of(0xff, 0xff, 0xff, 0x0f, 1)))
    assert.equal(cache.size, 0, 'failures are not cached')
  })

  it('with capacity 0, parses every time and keeps nothing', () => {
    const cache = new MultiaddrCache(0)
    const a = cache.fromString('/ip4/127.0.0.1/tcp/1')
    assert.notEqual(cache.fromString('/ip4/127.0.0.1/tcp/1'), a)
    assert.equal(cache.size, 0)
  })
})

describe('identify message decoding keeps no view of the message', () => {
  it('copies the public key, the signed record and the addresses', () => {
    const encoded = encodeIdentify({
      publicKey: Uint8Array.of(8, 1, 18, 32, ...new Uint8Array(32).fill(7)),
      listenAddrs: [multiaddr('/ip4/192.0.2.1/tcp/4001')],
      observedAddr: multiaddr('/ip4/198.51.100.2/tcp/5555'),
      protocols: ['/ipfs/ping/1.0.0'],
      signedPeerRecord: Uint8Array.of(1, 2, 3)
    })
    const message = new Uint8Array(32 * 1024)
    message.set(encoded, 10)
    const msg = decodeIdentify(message.subarray(10, 10 + encoded.byteLength))
    const small = (b: Uint8Array | undefined): boolean => b === undefined || b.buffer.byteLength < 1024
    assert.ok(small(msg.publicKey))
    assert.ok(small(msg.signedPeerRecord))
    for (const a of [...msg.listenAddrs, msg.observedAddr]) {
      for (const c of a?.getComponents() ?? []) assert.ok(small(c.bytes))
    }
    message.fill(0)
    assert.equal(msg.listenAddrs[0]?.toString(), '/ip4/192.0.2.1/tcp/4001')
    assert.equal(msg.observedAddr?.toString(), '/ip4/198.51.100.2/tcp/5555')
    assert.deepEqual([...(msg.signedPeerRecord ?? [])], [1, 2, 3])
  })
})

describe('MultiaddrCache across forms', () => {
  it('an address seen as text and then as bytes (or the reverse) is one object', () => {
    const cache = new MultiaddrCache(16)
    const fromText = cache.fromString('/ip4/127.0.0.1/tcp/4001')
    assert.equal(cache.fromBytes(multiaddr('/ip4/127.0.0.1/tcp/4001').bytes), fromText)
    const fromBytes = cache.fromBytes(multiaddr('/ip6/::1/tcp/9').bytes)
    assert.equal(cache.fromString('/ip6/::1/tcp/9'), fromBytes)
    assert.ok(cache.size <= 16)
  })
})
