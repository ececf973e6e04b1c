/**
 * The mplex session machine (`specs/mplex.md`) reading a remote's messages in
 * arbitrary chunks, with a stream of its own open and writing, and a reader that
 * consumes (or not, per the first input byte, to drive the buffer policy).
 */
import { MplexSession, type SessionHandler } from '../../src/muxer/mplex/session.js'
import { resolveOptions } from '../../src/muxer/mplex/config.js'
import type { StreamSink, StreamState } from '../../src/muxer/mplex/stream-state.js'
import { WriteQueue } from '../../src/muxer/write-queue.js'
import { chunks, defineTarget } from '../lib/target.js'

const CONFIGS = [
  resolveOptions({ maxInboundStreams: 16, maxStreamBufferSize: 64 * 1024 }),
  resolveOptions({ maxInboundStreams: 16, maxStreamBufferSize: 64 * 1024, streamBufferPolicy: 'block' })
]

export default defineTarget({
  name: 'mplex-session',
  description: 'mplex session (mplex.md): arbitrary remote messages in arbitrary chunks, both stream buffer policies',
  run (data) {
    const mode = data[0] ?? 0
    let session: MplexSession | undefined
    const consume = (mode & 2) !== 0
    const sink: StreamSink = { onData () {}, onRemoteEnd () {}, onReset () {}, onWritable () {} }
    const theirs: StreamState[] = []
    const handler: SessionHandler = {
      onInboundStream (s) { s.sink = sink; if (theirs.length < 16) theirs.push(s) },
      onOutput () {},
      onStreamRemoved () {},
      onInputUnblocked () { session?.resumeInput() },
      onFailure () {}
    }
    session = new MplexSession(CONFIGS[mode & 1] as (typeof CONFIGS)[0], handler)
    const ours = session.openStream(sink)
    const queue = new WriteQueue()
    queue.push(new Uint8Array(100_000))
    for (const c of chunks(data)) {
      session.receive(c)
      if (ours.live) session.write(ours, queue)
      if (consume) {
        for (const s of [ours, ...theirs]) if (s.live && s.buffered > 0) session.consumed(s, s.buffered)
      }
      session.takeOutput()
      session.flushed(true)
      if (session.state.kind === 'closed') break
    }
  }
})
