/**
 * The yamux session machine (`specs/yamux.md`) reading a remote's frames: as the
 * dialer or the listener (first input byte), with streams of its own open and
 * writing, its output taken and its timers run as the driver would. Every frame it
 * sends must decode.
 */
import { Flag, FrameDecoder } from '../../src/muxer/yamux/frame.js'
import { YamuxSession, type SessionHandler } from '../../src/muxer/yamux/session.js'
import { resolveOptions } from '../../src/muxer/yamux/config.js'
import type { StreamSink } from '../../src/muxer/yamux/stream-state.js'
import { WriteQueue } from '../../src/muxer/write-queue.js'
import { chunks, defineTarget, invariant } from '../lib/target.js'

const CONFIG = resolveOptions({ maxInboundStreams: 16, maxUnackedInboundStreams: 8, keepAliveInterval: 1000, keepAliveTimeout: 5000 })
const sink: StreamSink = { onData () {}, onRemoteEnd () {}, onReset () {}, onWritable () {} }

export default defineTarget({
  name: 'yamux-session',
  description: 'yamux session (yamux.md): arbitrary remote frames in arbitrary chunks, with our streams writing and timers running',
  run (data) {
    const handler: SessionHandler = {
      onInboundStream (s) { s.sink = sink },
      onOutput () {},
      onStreamRemoved () {},
      onRemoteGoAway () {},
      onFailure () {}
    }
    const session = new YamuxSession((data[0] ?? 0) & 1 ? 'outbound' : 'inbound', CONFIG, handler, 0)
    const ours = session.openStream(sink, 0)
    const queue = new WriteQueue()
    queue.push(new Uint8Array(20_000))
    const check = new FrameDecoder({ maxDataLength: 1 << 24 })
    let now = 0
    for (const c of chunks(data)) {
      now += c.byteLength
      session.receive(c, now)
      if (ours.live) session.write(ours, queue)
      session.handleTimeout(now)
      const out = session.takeOutput(now)
      session.flushed(true)
      for (const b of out ?? []) {
        check.push(b)
        for (let f = check.next(); f !== undefined; f = check.next()) {
          if (!(f instanceof Uint8Array)) invariant((f.flags & ~(Flag.SYN | Flag.ACK | Flag.FIN | Flag.RST)) === 0, 'we sent a frame with unknown flags')
        }
      }
      if (session.state.kind === 'closed') break
    }
  }
})
