/**
 * mplex (`/mplex/6.7.0`, `specs/mplex.md`): the older libp2p stream multiplexer,
 * deprecated by the spec but still spoken by go-, rust-, js- and py-libp2p. It has no
 * flow control: see {@link MplexOptions.streamBufferPolicy} for what a slow reader
 * costs.
 *
 * ```ts
 * const factory = mplex({ streamBufferPolicy: 'reset-stream' })
 * const muxer = factory.createStreamMuxer(secureChannel, { direction: 'outbound', onIncomingStream })
 * const stream = muxer.newStream()
 * ```
 */
import type { StreamMuxerFactory } from '../../interfaces/muxer.js'
import { invalidArgType, invalidArgValue } from '../../errors.js'
import { resolveOptions, type MplexOptions } from './config.js'
import { MPLEX_PROTOCOL, MplexMuxer } from './muxer.js'

export type { MplexOptions, StreamBufferPolicy } from './config.js'
export { DEFAULTS as MPLEX_DEFAULTS } from './config.js'
export { MPLEX_PROTOCOL, MplexMuxer } from './muxer.js'
export { MplexStream } from './stream.js'

/** An mplex muxer factory; options are validated here (TypeError / RangeError). */
export function mplex (options?: MplexOptions): StreamMuxerFactory {
  const config = resolveOptions(options)
  return {
    protocol: MPLEX_PROTOCOL,
    createStreamMuxer (channel, init) {
      if (init === null || typeof init !== 'object') throw invalidArgType('init', 'an object', init)
      if (init.direction !== 'inbound' && init.direction !== 'outbound') {
        throw invalidArgValue('init.direction', 'must be "inbound" or "outbound"')
      }
      if (typeof init.onIncomingStream !== 'function') throw invalidArgType('init.onIncomingStream', 'a function', init.onIncomingStream)
      return new MplexMuxer(channel, init, config)
    }
  }
}
