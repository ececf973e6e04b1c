/**
 * yamux (`/yamux/1.0.0`, `specs/yamux.md`): the stream multiplexer every libp2p
 * implementation speaks.
 *
 * ```ts
 * const factory = yamux({ maxInboundStreams: 256 })
 * const muxer = factory.createStreamMuxer(secureChannel, { direction: 'outbound', onIncomingStream })
 * const stream = muxer.newStream()
 * ```
 */
import type { StreamMuxerFactory } from '../../interfaces/muxer.js'
import { invalidArgType, invalidArgValue } from '../../errors.js'
import { resolveOptions, type YamuxOptions } from './config.js'
import { YAMUX_PROTOCOL, YamuxMuxer } from './muxer.js'

export type { YamuxOptions } from './config.js'
export { DEFAULTS as YAMUX_DEFAULTS } from './config.js'
export { YAMUX_PROTOCOL, YamuxMuxer } from './muxer.js'
export type { Clock } from './muxer.js'
export { YamuxStream } from './stream.js'

/** A yamux muxer factory; options are validated here (TypeError / RangeError). */
export function yamux (options?: YamuxOptions): StreamMuxerFactory {
  const config = resolveOptions(options)
  return {
    protocol: YAMUX_PROTOCOL,
    createStreamMuxer (channel, init) {
      if (init === null || typeof init !== 'object') throw invalidArgType('init', 'an object', init)
      if (init.direction !== 'inbound' && init.direction !== 'outbound') {
        throw invalidArgValue('init.direction', 'must be "inbound" or "outbound"')
      }
      if (typeof init.onIncomingStream !== 'function') throw invalidArgType('init.onIncomingStream', 'a function', init.onIncomingStream)
      return new YamuxMuxer(channel, init, config)
    }
  }
}
