import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isLp2pError } from '../../src/errors.js'
import { MemoryPeerStore } from '../../src/peer-store/memory-peer-store.js'
import { resolvePeerStoreOptions } from '../../src/peer-store/options.js'
import { decodePeerEntry, encodePeerEntry } from '../../src/peer-store/peer-codec.js'
import { PeerEntry } from '../../src/peer-store/peer-entry.js'
import { ProtobufWriter } from '../../src/wire/protobuf.js'
import { addr, Clock, newPeer } from './helpers.js'

const limits = resolvePeerStoreOptions()
const peer = newPeer()

/** An entry as the store holds it, captured through a persistent-style sink. */
function entryAfter (ops: (s: MemoryPeerStore) => void, clock: Clock): PeerEntry {
  let last: PeerEntry | undefined
  const store = new MemoryPeerStore({ now: clock.now }, { sink: { changed: (e) => { last = e }, removed: () => {} } })
  ops(store)
  assert.ok(last !== undefined)
  return last
}

describe('stored peer codec', () => {
  it('property: what the store holds encodes and decodes to the same snapshot', () => {
    const clock = new Clock()
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(300), fc.constantFrom('temporary', 'default', 'permanent', 'recently-connected' as const)), { maxLength: 10 }),
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.uint8Array({ maxLength: 20 }), { maxKeys: 4 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.double({ noNaN: true, noDefaultInfinity: true }), { maxKeys: 4 }),
      fc.option(fc.string({ maxLength: 30 })),
      (addrs, protocols, metadata, tags, agent) => {
        const entry = entryAfter((s) => {
          for (const [n, cls] of addrs) s.addAddresses(peer.id, [addr(n)], { class: cls })
          s.connected(peer.id, addr(999))
          s.patch(peer.id, { protocols, ...(agent !== null ? { agentVersion: agent } : {}) })
          for (const [k, v] of Object.entries(metadata)) s.setMetadata(peer.id, k, v)
          for (const [k, v] of Object.entries(tags)) s.tag(peer.id, k, v)
        }, clock)
        const before = entry.snapshot(clock.t)
        const after = decodePeerEntry(encodePeerEntry(entry), peer.id.bytes, clock.t, limits).snapshot(clock.t)
        const strip = (p: typeof before): unknown => ({
          ...p,
          // the open connection comes back as recently connected: compare the rest
          addresses: p.addresses.map((a) => a.multiaddr.toString() === addr(999).toString() ? { ...a, class: 'x', expires: 0 } : a),
          publicKey: p.publicKey?.bytes
        })
        assert.deepEqual(strip(after), strip(before))
      }), { numRuns: 200 })
  })

  it('a value of another peer than its key is rejected', () => {
    const clock = new Clock()
    const entry = entryAfter((s) => { s.addAddresses(peer.id, [addr(1)]) }, clock)
    assert.throws(() => decodePeerEntry(encodePeerEntry(entry), newPeer().id.bytes, clock.t, limits), (e) => isLp2pError(e, 'ERR_INVALID_MESSAGE'))
  })

  it('unknown fields, a missing id, an envelope without its seq are rejected', () => {
    const w = (f: (p: ProtobufWriter) => ProtobufWriter): Uint8Array => f(new ProtobufWriter()).finish()
    for (const bytes of [
      w((p) => p.bytes(1, peer.id.bytes).uint(99, 1)),
      w((p) => p.string(3, '/a')),
      w((p) => p.bytes(1, peer.id.bytes).bytes(9, Uint8Array.of(1))),
      w((p) => p.bytes(1, peer.id.bytes).message(2, new ProtobufWriter().uint(2, 9)))
    ]) assert.throws(() => decodePeerEntry(bytes, peer.id.bytes, 0, limits), (e) => isLp2pError(e))
  })

  it('property: any bytes decode to a peer or a typed error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      try {
        decodePeerEntry(b, peer.id.bytes, 0, limits)
      } catch (err) {
        assert.ok(isLp2pError(err), `not a typed error: ${String(err)}`)
      }
    }), { numRuns: 3000 })
    const valid = encodePeerEntry(entryAfter((s) => { s.addAddresses(peer.id, [addr(1), addr(2)]); s.tag(peer.id, 't', 1) }, new Clock()))
    for (let cut = 0; cut < valid.length; cut++) {
      try {
        decodePeerEntry(valid.subarray(0, cut), peer.id.bytes, 0, limits)
      } catch (err) {
        assert.ok(isLp2pError(err), `not a typed error at ${cut}: ${String(err)}`)
      }
    }
  })
})
