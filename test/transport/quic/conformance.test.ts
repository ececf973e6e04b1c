/**
 * The muxer conformance suite (test/muxer/conformance.ts) over real QUIC connections
 * on loopback: open/close/half-close/reset, 1000 concurrent streams (four times the
 * remote's stream credit: opens wait for credit), a stalled reader bounded by the
 * stream window, 32 MiB both ways (SHA-256), close and abort.
 */
import { pairConformance } from '../../muxer/conformance.js'
import { quicPairs, quicUnavailable } from './quic-pair.js'

const skip = quicUnavailable()
// A 1 MiB stream window, so the stalled-reader case (4 MiB written) stops the writer.
const window = 1024 * 1024
const pairs = skip === false ? quicPairs({ maxStreamData: window, maxConnectionData: 2 * window }) : undefined

pairConformance('QUIC streams', async (onInbound) => await (pairs as NonNullable<typeof pairs>).make(onInbound), {
  receiveWindow: window,
  skip,
  teardown: async () => { await pairs?.close() }
})
