/**
 * The yamux frames a session has produced and not yet handed to the channel: 12-byte
 * headers in the shared arena, payloads as views (see ../output-queue.ts).
 */
import { OutputQueueBase } from '../output-queue.js'
import { HEADER_LENGTH, writeHeader } from './frame.js'

export class OutputQueue extends OutputQueueBase {
  /** Appends a header. A Data frame's payload must follow with {@link pushPayload}. */
  pushHeader (type: number, flags: number, streamId: number, length: number): void {
    this.reserveFrame(HEADER_LENGTH)
    writeHeader(this.arena, this.pos, type, flags, streamId, length)
    this.pos += HEADER_LENGTH
  }
}
