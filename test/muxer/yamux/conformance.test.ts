import { yamux } from '../../../src/muxer/yamux/index.js'
import { muxerConformance } from '../conformance.js'

muxerConformance('yamux (defaults)', () => yamux())
// Small frames and a large initial window: many frames per write, and the initial
// window granted with the SYN/ACK.
muxerConformance('yamux (1 KiB frames, 1 MiB initial window)', () => yamux({ maxMessageSize: 1024, initialStreamWindow: 1024 * 1024 }), { receiveWindow: 1024 * 1024 })
