import { mplex } from '../../../src/muxer/mplex/index.js'
import { muxerConformance } from '../conformance.js'

const KiB = 1024

// mplex has no flow control: behind a stalled reader a stream is either reset once its
// buffer is full (the default policy) or the whole connection waits ('block'). The
// suite's `stalledReader` option says which behaviour to expect.
muxerConformance('mplex (defaults)', () => mplex(), { receiveWindow: 4096 * KiB, stalledReader: 'reset-stream' })
muxerConformance('mplex (block)', () => mplex({ maxStreamBufferSize: 256 * KiB, streamBufferPolicy: 'block' }), { receiveWindow: 256 * KiB, stalledReader: 'block-connection' })
