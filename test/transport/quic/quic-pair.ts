/**
 * Two QUIC connections' muxers over loopback, for the muxer conformance suite and the
 * QUIC tests: a listener and a dialer transport with their own keys, one real
 * connection between them, each side's muxer started as a node would start it.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { MuxedStream, StreamMuxer } from '../../../src/interfaces/muxer.js'
import type { TransportListener, UpgradedConnection } from '../../../src/interfaces/transport.js'
import { generateKeyPair } from '../../../src/identity/index.js'
import { loadQuicEngine, quic, type QuicOptions } from '../../../src/transport/quic/index.js'
import type { ConformancePair } from '../../muxer/conformance.js'

/** Why QUIC tests are skipped here, or false when the engine loads. */
export function quicUnavailable (): string | false {
  try {
    loadQuicEngine()
    return false
  } catch (err) {
    return (err as Error).message
  }
}

export interface QuicPairs {
  /** A new connection between the two transports, with both muxers started. */
  make: (onInbound?: (s: MuxedStream, side: 'listener' | 'dialer') => void) => Promise<ConformancePair & { upgrades: [UpgradedConnection, UpgradedConnection] }>
  close: () => Promise<void>
}

/** A listening transport and a dialing one; `make()` connects them once per call. */
export function quicPairs (options: QuicOptions = {}): QuicPairs {
  const server = quic({ ...options, privateKey: generateKeyPair('Ed25519') })
  const client = quic({ ...options, privateKey: generateKeyPair('Ed25519') })
  const inbound: Array<(c: UpgradedConnection) => void> = []
  let listener: TransportListener | undefined
  const listening = (async () => {
    listener = server.createListener({ onConnection: (c) => { inbound.shift()?.(c) } })
    await listener.listen(multiaddr('/ip4/127.0.0.1/udp/0/quic-v1'))
    return listener.getAddrs()[0]
  })()
  return {
    make: async (onInbound) => {
      const addr = await listening
      if (addr === undefined) throw new Error('the QUIC listener reports no address')
      const accepted = new Promise<UpgradedConnection>((resolve) => inbound.push(resolve))
      const [out, inb] = await Promise.all([client.dial(addr), accepted])
      const queues = { listener: [] as MuxedStream[], dialer: [] as MuxedStream[] }
      const waiters = { listener: [] as Array<(s: MuxedStream) => void>, dialer: [] as Array<(s: MuxedStream) => void> }
      const closed = { dialer: undefined as unknown as (e: Error | undefined) => void, listener: undefined as unknown as (e: Error | undefined) => void }
      const dialerClosed = new Promise<Error | undefined>((resolve) => { closed.dialer = resolve })
      const listenerClosed = new Promise<Error | undefined>((resolve) => { closed.listener = resolve })
      const start = (u: UpgradedConnection, side: 'listener' | 'dialer'): StreamMuxer => u.createMuxer({
        direction: u.direction,
        onIncomingStream: (s) => {
          if (onInbound !== undefined) onInbound(s, side)
          else {
            const w = waiters[side].shift()
            if (w !== undefined) w(s)
            else queues[side].push(s)
          }
        },
        onClose: (err) => { closed[side](err) }
      })
      return {
        dialer: start(out, 'dialer'),
        listener: start(inb, 'listener'),
        upgrades: [out, inb],
        nextInbound: async (side = 'listener') => {
          const s = queues[side].shift()
          if (s !== undefined) return s
          return await new Promise<MuxedStream>((resolve) => waiters[side].push(resolve))
        },
        dialerClosed,
        listenerClosed,
        kill: () => { inb.destroy(new Error('the connection died')) }
      }
    },
    close: async () => {
      await listening.catch(() => {})
      await listener?.close()
    }
  }
}
