/**
 * Multiaddr bytes as lp2p accepts them from the network (`specs/multiaddr.md`,
 * binary form): identify's listen and observed addresses go through the shared
 * multiaddr cache, which parses with `@multiformats/multiaddr` and turns whatever it
 * throws into ERR_INVALID_MULTIADDR (identify then drops the address). An address
 * that parses must survive its own string form.
 */
import { MultiaddrCache } from '../../src/util/multiaddr-cache.js'
import { defineTarget, invariant } from '../lib/target.js'

const cache = new MultiaddrCache(16)

export default defineTarget({
  name: 'multiaddr',
  description: 'multiaddr binary form (multiaddr.md) through the multiaddr cache, as identify accepts addresses',
  run (data) {
    const ma = cache.fromBytes(data)
    invariant(cache.fromString(ma.toString()).toString() === ma.toString(), 'a multiaddr did not survive its own string form')
  }
})
