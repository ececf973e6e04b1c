import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, registry, type Multiaddr } from '@multiformats/multiaddr'
import { MultiaddrCache } from '../../src/util/multiaddr-cache.js'

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

  it('keeps text and byte keys apart: bytes whose latin1 is the text of another address', () => {
    // Two made-up protocols without a value, code 47 ('/') and code 97 ('a'), make the
    // bytes 2f 61 a valid multiaddr, /lp2p-test-slash/a, whose latin1 text is '/a': the
    // text of another valid multiaddr (bytes 61). Keyed by the raw text and the raw
    // latin1, the two would share one entry.
    registry.addProtocol({ code: 47, name: 'lp2p-test-slash', size: 0 })
    registry.addProtocol({ code: 97, name: 'a', size: 0 })
    try {
      const bytes = Uint8Array.of(0x2f, 0x61)
      assert.equal(Buffer.from(bytes).toString('latin1'), '/a')
      for (const textFirst of [true, false]) {
        const cache = new MultiaddrCache(8)
        const byText = (): Multiaddr => cache.fromString('/a')
        const byBytes = (): Multiaddr => cache.fromBytes(bytes)
        const [first, second] = textFirst ? [byText(), byBytes()] : [byBytes(), byText()]
        const [text, binary] = textFirst ? [first, second] : [second, first]
        assert.notEqual(text, binary)
        assert.equal(text.toString(), '/a')
        assert.deepEqual([...text.bytes], [0x61])
        assert.equal(binary.toString(), '/lp2p-test-slash/a')
        assert.deepEqual([...binary.bytes], [0x2f, 0x61])
        // Each form finds its own entry again.
        assert.equal(byText(), text)
        assert.equal(byBytes(), binary)
      }
    } finally {
      registry.removeProtocol(47)
      registry.removeProtocol(97)
    }
  })

  it('throws on what multiaddr rejects, and caches no failure', () => {
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

  it('an address seen as text and then as bytes (or the reverse) is one object', () => {
    const cache = new MultiaddrCache(16)
    const fromText = cache.fromString('/ip4/127.0.0.1/tcp/4001')
    assert.equal(cache.fromBytes(multiaddr('/ip4/127.0.0.1/tcp/4001').bytes), fromText)
    const fromBytes = cache.fromBytes(multiaddr('/ip6/::1/tcp/9').bytes)
    assert.equal(cache.fromString('/ip6/::1/tcp/9'), fromBytes)
    assert.ok(cache.size <= 16)
  })

  it('bytes the multiaddr library rejects: ERR_INVALID_MULTIADDR with its error as the cause, nothing cached', () => {
    const cache = new MultiaddrCache(16)
    // 0xba 0xba: a protocol code whose varint never ends (found by npm run fuzz).
    for (const bytes of [Uint8Array.of(0xba, 0xba), Uint8Array.of(0x04, 1, 2), Uint8Array.of(0xff, 0xff, 0xff, 0x7f)]) {
      assert.throws(() => cache.fromBytes(bytes), (err: unknown) => {
        const e = err as { code?: string, cause?: unknown }
        return e.code === 'ERR_INVALID_MULTIADDR' && e.cause instanceof Error
      })
    }
    assert.equal(cache.size, 0)
  })
})
