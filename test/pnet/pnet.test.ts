/**
 * Private networks (`specs/pnet.md`): key files, the XSalsa20 stream, the nonce
 * exchange under arbitrary chunking, and whole upgrades with the same key, another
 * key, and no key.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { isLp2pError, type UpgradeError } from '../../src/errors.js'
import { generateKeyPair } from '../../src/identity/index.js'
import { yamux } from '../../src/muxer/yamux/index.js'
import { createNode } from '../../src/node.js'
import {
  decodePskFile, encodePskFile, loadPskFile, PnetChannel, PnetCodec, XSalsa20Stream
} from '../../src/pnet/index.js'
import { noise } from '../../src/security/noise/index.js'
import { memory } from '../../src/transport/memory.js'
import { MemoryChannel } from '../../src/transport/memory-channel.js'
import { Upgrader } from '../../src/upgrader/upgrader.js'
import { collect } from '../helpers/channel.js'
import { split } from '../helpers/chunks.js'
import { memoryNode } from '../helpers/nodes.js'

const cuts = fc.array(fc.nat({ max: 3000 }), { maxLength: 10 })

describe('PSK key files', () => {
  it('decodes /base16/, /base64/ and /bin/ files, with LF or CRLF line ends, and round-trips', () => {
    const key = randomBytes(32)
    const hex = key.toString('hex')
    assert.deepEqual(decodePskFile(Buffer.from(encodePskFile(key))), new Uint8Array(key))
    assert.deepEqual(decodePskFile(Buffer.from(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${hex.toUpperCase()}\r\n`)), new Uint8Array(key))
    assert.deepEqual(decodePskFile(Buffer.from(`/key/swarm/psk/1.0.0/\n/base64/\n${key.toString('base64')}`)), new Uint8Array(key))
    assert.deepEqual(decodePskFile(Buffer.concat([Buffer.from('/key/swarm/psk/1.0.0/\n/bin/\n'), key])), new Uint8Array(key))
  })

  it('refuses anything else with ERR_INVALID_PSK', async () => {
    const hex = randomBytes(32).toString('hex')
    for (const text of [
      `/key/swarm/psk/2.0.0/\n/base16/\n${hex}`,
      `/key/swarm/psk/1.0.0/\n/base32/\n${hex}`,
      `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(2)}`,
      `/key/swarm/psk/1.0.0/\n/base16/\n${hex}00`,
      `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(1)}g`,
      `${hex}`,
      ''
    ]) {
      assert.throws(() => decodePskFile(Buffer.from(text)), (e) => isLp2pError(e, 'ERR_INVALID_PSK'), JSON.stringify(text))
    }
    assert.throws(() => decodePskFile(Buffer.alloc(5000)), (e) => isLp2pError(e, 'ERR_INVALID_PSK'))
    await assert.rejects(loadPskFile('/nonexistent/swarm.key'), (e) => isLp2pError(e, 'ERR_INVALID_PSK'))
    const dir = await mkdtemp(join(tmpdir(), 'lp2p-psk-'))
    await writeFile(join(dir, 'swarm.key'), encodePskFile(Buffer.alloc(32, 7)))
    assert.deepEqual(await loadPskFile(join(dir, 'swarm.key')), new Uint8Array(32).fill(7))
  })
})

describe('XSalsa20 stream', () => {
  it('equals one-shot XSalsa20 whatever the chunking, in place or not', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), cuts, fc.boolean(), (data, at, inPlace) => {
      const key = randomBytes(32); const nonce = randomBytes(24)
      const want = xsalsa20(key, nonce, data)
      const s = new XSalsa20Stream(key, nonce)
      const got = split(Buffer.from(data), at).map((piece) => {
        const out = inPlace ? piece : new Uint8Array(piece.length)
        s.xor(piece, out)
        return Buffer.from(out)
      })
      assert.deepEqual(Buffer.concat(got), Buffer.from(want))
    }), { numRuns: 200 })
  })
})

describe('private network codec: nonce exchange and stream', () => {
  it('delivers the same plaintext whatever the chunking of the nonce and the data', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 500 }), { maxLength: 5 }), cuts, (writes, at) => {
      const psk = randomBytes(32)
      const a = new PnetCodec({ psk })
      const b = new PnetCodec({ psk })
      const wire = Buffer.concat([a.nonce, ...writes.flatMap((w) => a.encode([w], w.length))])
      const out: Uint8Array[] = []
      for (const piece of split(wire, at)) b.decode(Uint8Array.from(piece), out)
      assert.deepEqual(Buffer.concat(out), Buffer.concat(writes))
      assert.equal(b.verified, wire.length >= 24)
    }), { numRuns: 200 })
  })

  it('checks the expected prefix at any chunking: passes with the same key, ERR_PNET_MISMATCH with another', () => {
    const header = Buffer.from('\x13/multistream/1.0.0\n')
    fc.assert(fc.property(cuts, fc.boolean(), (at, sameKey) => {
      const psk = randomBytes(32)
      const a = new PnetCodec({ psk })
      const b = new PnetCodec({ psk: sameKey ? psk : randomBytes(32), expectPrefix: header })
      const wire = Buffer.concat([a.nonce, ...a.encode([header, Buffer.from('/noise\n')], header.length + 7)])
      let error: unknown
      const out: Uint8Array[] = []
      try {
        for (const piece of split(wire, at)) b.decode(Uint8Array.from(piece), out)
      } catch (err) { error = err }
      if (sameKey) {
        assert.equal(error, undefined)
        assert.equal(Buffer.concat(out).toString(), `${header.toString()}/noise\n`)
        assert.equal(b.verified, true)
      } else {
        assert.ok(isLp2pError(error, 'ERR_PNET_MISMATCH'))
      }
    }), { numRuns: 100 })
  })
})

function upgraders (dialerPsk: Uint8Array | undefined, listenerPsk: Uint8Array | undefined): [Upgrader, Upgrader] {
  const make = (psk: Uint8Array | undefined): Upgrader => new Upgrader({
    privateKey: generateKeyPair(), security: [noise()], muxers: [yamux()], ...(psk !== undefined ? { psk } : {})
  })
  return [make(dialerPsk), make(listenerPsk)]
}

describe('private network upgrades', () => {
  it('two peers with the same PSK upgrade and talk; the wire carries no multistream text', async () => {
    const psk = randomBytes(32)
    const [d, l] = upgraders(psk, psk)
    const [a, b] = MemoryChannel.pair()
    const seen: Buffer[] = []
    const writev = a.writev.bind(a)
    a.writev = (chunks) => { seen.push(...chunks.map((c) => Buffer.from(c))); return writev(chunks) }
    const [out, inb] = await Promise.all([d.upgradeOutbound(a), l.upgradeInbound(b)])
    assert.equal(out.encryption, '/noise')
    assert.equal(inb.encryption, '/noise')
    assert.ok(!Buffer.concat(seen).includes('/multistream/1.0.0'), 'multistream-select runs inside the private network')
    out.destroy(new Error('done'))
  })

  it('another PSK: both sides fail with ERR_PNET_MISMATCH at step private-network', async () => {
    const [d, l] = upgraders(randomBytes(32), randomBytes(32))
    const [a, b] = MemoryChannel.pair()
    const [out, inb] = await Promise.allSettled([d.upgradeOutbound(a), l.upgradeInbound(b)])
    for (const r of [out, inb]) {
      assert.equal(r.status, 'rejected')
      const err = (r as PromiseRejectedResult).reason as UpgradeError
      assert.ok(isLp2pError(err, 'ERR_PNET_MISMATCH'), String(err))
      assert.equal(err.step, 'private-network')
    }
    assert.ok(a.closed && b.closed)
  })

  it('a PSK against no PSK fails, whichever side has it; the side with the key fails at private-network', async () => {
    for (let run = 0; run < 20; run++) {
      for (const [dk, lk] of [[randomBytes(32), undefined], [undefined, randomBytes(32)]] as const) {
        const [d, l] = upgraders(dk, lk)
        const [a, b] = MemoryChannel.pair()
        // A listener without the key may wait for more of what it takes for a multistream
        // message (the nonce's first byte read as a length): the dialer's own deadline ends it.
        const ac = new AbortController()
        const timer = setTimeout(() => { ac.abort() }, 200)
        const [out, inb] = await Promise.allSettled([d.upgradeOutbound(a, { signal: ac.signal }), l.upgradeInbound(b)])
        clearTimeout(timer)
        assert.equal(out.status, 'rejected')
        assert.equal(inb.status, 'rejected')
        const keyed = ((dk !== undefined ? out : inb) as PromiseRejectedResult).reason as UpgradeError
        assert.equal(keyed.step, 'private-network', String(keyed))
        if (lk !== undefined) assert.ok(isLp2pError(keyed, 'ERR_PNET_MISMATCH'), String(keyed))
        else assert.ok(isLp2pError(keyed, 'ERR_PNET_MISMATCH') || isLp2pError(keyed, 'ERR_ABORTED'), String(keyed))
      }
    }
  })

  it('the channel reports a remote that closes before proving the key', async () => {
    const [a, b] = MemoryChannel.pair()
    const ch = new PnetChannel(a, { psk: randomBytes(32), expectPrefix: Buffer.from('hello') })
    const c = collect(ch)
    b.write(randomBytes(24))
    b.destroy()
    assert.ok(isLp2pError(await c.closedP, 'ERR_PNET_MISMATCH'))
  })

  it('nodes: the same PSK connects and pings; a transport with its own security is refused', async () => {
    const psk = randomBytes(32)
    const listener = await memoryNode({ psk })
    const dialer = await memoryNode({ psk })
    try {
      const rtt = await dialer.ping(listener.getMultiaddrs()[0] as never)
      assert.ok(rtt >= 0)
    } finally {
      await Promise.all([dialer.stop(), listener.stop()])
    }
    const quicLike = { ...memory(), name: 'quic', secure: true }
    assert.throws(() => createNode({ psk, transports: [quicLike] }), (e) => isLp2pError(e, 'ERR_PNET_UNSUPPORTED_TRANSPORT'))
    assert.throws(() => createNode({ psk: randomBytes(31) }), (e) => isLp2pError(e, 'ERR_INVALID_PSK'))
  })
})
