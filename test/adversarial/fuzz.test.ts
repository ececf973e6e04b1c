/**
 * Property tests (fast-check) against a real node over TCP:
 *
 * - a correct dialer that cuts every write at arbitrary points (multistream messages,
 *   Noise messages, sealed transport messages and the yamux frames inside them all
 *   split across TCP segments) is served like any other: the upgrade completes and a
 *   ping on a stream works;
 * - a hostile peer that sends arbitrary yamux frame sequences, sealed into Noise
 *   messages cut at arbitrary points, never crashes the node or makes it send an
 *   invalid frame: afterwards the connection either still serves a ping, or it was
 *   closed with a typed Lp2pError (or gracefully, after a GoAway(0)).
 *
 * After every run: no unhandled rejection, the connection gone once the peer leaves.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isLp2pError } from '../../src/errors.js'
import { Flag, FrameType } from '../../src/muxer/yamux/frame.js'
import { installGuards, KiB, sleep, until, type RawPeer } from '../helpers/hostile.js'
import { Target } from '../helpers/hostile-target.js'
import { noiseInitiator } from '../helpers/hostile-noise.js'
import { rawFrame, YamuxPeer } from '../helpers/hostile-yamux.js'

const guards = installGuards()
/** Runs per property; raise it for a longer search (`LP2P_FUZZ_RUNS=500`). */
const RUNS = Number(process.env.LP2P_FUZZ_RUNS ?? 40)

/** Makes `peer` write in pieces of the given sizes (cycled), in order, a tick apart. */
function fragment (peer: RawPeer, sizes: readonly number[]): void {
  const write = peer.write.bind(peer)
  let next = 0
  let queue = Promise.resolve()
  peer.write = (bytes: Uint8Array): boolean => {
    const copy = Buffer.from(bytes)
    queue = queue.then(async () => {
      for (let off = 0; off < copy.byteLength;) {
        const n = sizes[next++ % sizes.length] as number
        write(copy.subarray(off, off + n))
        off += n
        await sleep(0)
      }
    })
    return true
  }
}

interface FuzzFrame { type: number, flags: number, id: number, length: number, payload: number, version: number }

const frameArb: fc.Arbitrary<FuzzFrame> = fc.record({
  type: fc.oneof({ weight: 30, arbitrary: fc.constantFrom(0, 1, 2) }, { weight: 2, arbitrary: fc.constant(3) }, { weight: 1, arbitrary: fc.integer({ min: 4, max: 255 }) }),
  flags: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(0, Flag.SYN, Flag.ACK, Flag.FIN, Flag.RST, Flag.SYN | Flag.FIN) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
  id: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(1, 3, 5, 7) }, { weight: 3, arbitrary: fc.constantFrom(0, 2, 4) }, { weight: 1, arbitrary: fc.constant(0xffffffff) }),
  length: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: 300 * KiB }) }, { weight: 1, arbitrary: fc.constant(0xffffffff) }),
  payload: fc.integer({ min: 0, max: 2 * KiB }),
  version: fc.oneof({ weight: 40, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 255 }) })
})

/** Bytes of one generated frame: Data carries `payload` bytes and says so in its header. */
function encode (f: FuzzFrame, seed: number): Buffer {
  if (f.type !== FrameType.Data) return rawFrame(f.type, f.flags, f.id, f.length, undefined, f.version)
  const payload = Buffer.alloc(f.payload, seed & 0xff)
  return rawFrame(f.type, f.flags, f.id, f.payload, payload, f.version)
}

describe('adversarial: property tests against a real node', () => {
  const t = Target.suite({ timeouts: { streamNegotiation: 1000 } })

  it('a correct dialer cutting every write at arbitrary points is served', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 12 }), async (sizes) => {
      const { peer } = await t.connect()
      fragment(peer, sizes)
      const secure = await noiseInitiator(peer)
      const y = new YamuxPeer(secure, { onRemoteStream: 'reset' })
      await t.connectionTo(secure.localPeer, 3000)
      await y.ping(1, 5000)
      assert.equal(y.decodeError, undefined)
      peer.destroy()
      await until(() => t.node.getConnections(secure.localPeer).length === 0, 3000, 'the connection to close')
      guards.check()
    }), { numRuns: Math.ceil(RUNS / 3) })
  })

  it('arbitrary yamux frame sequences in arbitrarily cut Noise messages: the node serves on or closes with a typed error', async () => {
    let survived = 0
    let closed = 0
    await fc.assert(fc.asyncProperty(
      fc.array(frameArb, { minLength: 1, maxLength: 25 }),
      fc.array(fc.integer({ min: 1, max: 4 * KiB }), { minLength: 1, maxLength: 8 }),
      async (frames, cuts) => {
        const { peer } = await t.connect()
        const secure = await noiseInitiator(peer)
        const y = new YamuxPeer(secure, { onRemoteStream: 'reset', log: false })
        const conn = await t.connectionTo(secure.localPeer, 3000)
        const closeError = new Promise<Error | undefined>((resolve) => {
          const on = (c: unknown, err: Error | undefined): void => {
            if (c === conn) {
              t.node.off('connection:close', on)
              resolve(err)
            }
          }
          t.node.on('connection:close', on)
        })
        const plaintext = Buffer.concat(frames.map((f, i) => encode(f, i)))
        for (let off = 0, i = 0; off < plaintext.byteLength; i++) {
          const n = cuts[i % cuts.length] as number
          y.send(plaintext.subarray(off, off + n))
          off += n
        }
        await sleep(50)
        assert.equal(y.decodeError, undefined, 'every frame the node sent decodes')
        assert.equal(secure.decryptError, undefined)
        if (conn.status === 'open' && y.goAway === undefined && peer.remoteClosedAt === undefined) {
          await y.ping(2001, 3000)
          survived++
        } else {
          const err = await closeError
          assert.ok(err === undefined || isLp2pError(err), `closed with ${String(err)}`)
          if (err === undefined) assert.equal(y.goAway, 0, 'a close without error follows a GoAway(0)')
          closed++
        }
        peer.destroy()
        await until(() => t.node.getConnections(secure.localPeer).length === 0, 3000, 'the connection to close')
        guards.check()
      }), { numRuns: RUNS })
    assert.ok(survived > 0 && closed > 0, `${survived} survived, ${closed} closed: both outcomes exercised`)
  })
})
