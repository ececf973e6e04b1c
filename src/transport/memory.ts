/**
 * The in-memory transport: `/memory/<name>` addresses within one process, raw
 * connections are {@link MemoryChannel} pairs. For tests of the whole stack without
 * sockets (and with optional re-chunking of every write).
 *
 * Names are chosen by the caller; listening on a name already in use fails with
 * ERR_LISTEN_FAILED.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel } from '../interfaces/channel.js'
import type { Transport, TransportDialOptions, TransportListener, TransportListenerInit } from '../interfaces/transport.js'
import { codes, Lp2pError } from '../errors.js'
import { signalError } from '../util/deadline.js'
import { MemoryChannel, type MemoryChannelOptions } from './memory-channel.js'

/** Listeners by name, shared by every memory transport in the process. */
const listeners = new Map<string, MemoryListener>()
let dialerCount = 0

export interface MemoryTransportOptions {
  /** Passed to every channel pair (high-water mark, re-chunking). */
  channel?: Pick<MemoryChannelOptions, 'highWaterMark' | 'chunking'>
}

export function memory (options: MemoryTransportOptions = {}): Transport<ByteChannel> {
  return new MemoryTransport(options)
}

function memoryName (addr: Multiaddr): string | undefined {
  const parts = addr.getComponents()
  let n = parts.length
  if (n > 0 && parts[n - 1]?.name === 'p2p') n--
  if (n !== 1 || parts[0]?.name !== 'memory') return undefined
  return parts[0].value
}

class MemoryTransport implements Transport<ByteChannel> {
  readonly name = 'memory'
  readonly #options: MemoryTransportOptions

  constructor (options: MemoryTransportOptions) {
    this.#options = options
  }

  canDial (addr: Multiaddr): boolean {
    return memoryName(addr) !== undefined
  }

  canListen (addr: Multiaddr): boolean {
    return memoryName(addr) !== undefined
  }

  async dial (addr: Multiaddr, options: TransportDialOptions = {}): Promise<ByteChannel> {
    if (options.signal?.aborted === true) throw signalError(options.signal)
    const name = memoryName(addr)
    const listener = name === undefined ? undefined : listeners.get(name)
    if (listener === undefined) {
      throw new Lp2pError(codes.ERR_TRANSPORT_DIAL_FAILED, `nothing listens on ${addr.toString()}`)
    }
    const [mine, theirs] = MemoryChannel.pair({
      ...this.#options.channel,
      addrA: multiaddr(`/memory/dialer-${++dialerCount}`),
      addrB: multiaddr(`/memory/${name as string}`)
    })
    // Accept on a later tick, as a real listener would.
    queueMicrotask(() => { listener.accept(theirs) })
    return mine
  }

  createListener (init: TransportListenerInit<ByteChannel>): TransportListener {
    return new MemoryListener(init)
  }
}

class MemoryListener implements TransportListener {
  readonly #init: TransportListenerInit<ByteChannel>
  #name: string | undefined

  constructor (init: TransportListenerInit<ByteChannel>) {
    this.#init = init
  }

  accept (channel: ByteChannel): void {
    this.#init.onConnection(channel)
  }

  async listen (addr: Multiaddr): Promise<void> {
    const name = memoryName(addr)
    if (name === undefined) throw new Lp2pError(codes.ERR_INVALID_MULTIADDR, `not a memory address: ${addr.toString()}`)
    if (listeners.has(name)) throw new Lp2pError(codes.ERR_LISTEN_FAILED, `${addr.toString()} is already in use`)
    if (this.#name !== undefined) throw new Lp2pError(codes.ERR_LISTEN_FAILED, 'this listener is already listening')
    listeners.set(name, this)
    this.#name = name
  }

  getAddrs (): Multiaddr[] {
    return this.#name === undefined ? [] : [multiaddr(`/memory/${this.#name}`)]
  }

  async close (): Promise<void> {
    if (this.#name === undefined) return
    listeners.delete(this.#name)
    this.#name = undefined
    this.#init.onClose?.()
  }
}
