/**
 * When a muxer driver flushes its queued frames (shared by yamux and mplex): once the
 * microtask queue is empty, by a microtask that schedules a `process.nextTick`, so
 * every frame of one turn, including those written by promise continuations right
 * after an `await`, leaves in one `channel.writev()` (measurements in
 * yamux/muxer.ts). Driver code.
 *
 * One shared microtask function and one FIFO instead of a closure per muxer (memory
 * per idle connection): the i-th run of the microtask takes the i-th entry, so every
 * muxer keeps its own place among other microtasks and ticks exactly as with a
 * closure per muxer.
 */

/** What a deferred flush calls. */
export interface FlushTarget {
  onFlush (): void
}

const fifo: Array<FlushTarget | undefined> = []
let head = 0

/** Calls `target.onFlush()` once, after the current turn's microtasks (the caller dedupes). */
export function deferFlush (target: FlushTarget): void {
  fifo.push(target)
  queueMicrotask(nextOfFifo)
}

function nextOfFifo (): void {
  const target = fifo[head] as FlushTarget
  fifo[head++] = undefined
  if (head === fifo.length) {
    fifo.length = 0
    head = 0
  }
  process.nextTick(flushOf, target)
}

function flushOf (target: FlushTarget): void {
  target.onFlush()
}
