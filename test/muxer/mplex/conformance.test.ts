import { mplex } from '../../../src/muxer/mplex/index.js'
import { muxerConformance } from '../conformance.js'

const KiB = 1024

// mplex has no flow control: a stalled reader either gets its stream reset
// ('reset-stream', the default) or stops the whole connection ('block'). See the
// stalled-reader tests in muxer.test.ts for what each policy guarantees.
muxerConformance('mplex (reset-stream, 256 KiB buffer)', () => mplex({ maxStreamBufferSize: 256 * KiB }), { receiveWindow: 256 * KiB })
