/**
 * Deadlines for async operations: one AbortSignal that fires when the caller's signal
 * aborts or when `ms` elapse, whichever comes first, with a timer that is cleared
 * when the operation ends (`AbortSignal.timeout` would leave its timer behind until it
 * fires, and `node.stop()` must leave no timers).
 *
 * Driver code: it owns a timer.
 */
import { AbortError, Lp2pError, TimeoutError } from '../errors.js'

export interface Deadline {
  readonly signal: AbortSignal
  /** Clears the timer and the listener on the parent signal. Idempotent. */
  clear (): void
  /** Aborts the signal now with `reason` (a no-op once aborted), as the owner of many deadlines does at shutdown. */
  abort (reason: Error): void
}

/**
 * @param ms milliseconds until a {@link TimeoutError}; `undefined`, `0` or `Infinity`:
 *   no timeout.
 * @param parent the caller's signal; its abort becomes an {@link AbortError}.
 * @param what names the operation in the timeout message.
 */
export function deadline (ms: number | undefined, parent?: AbortSignal, what = 'operation'): Deadline {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const onAbort = (): void => {
    controller.abort(new AbortError(`${what} aborted`, { cause: parent?.reason }))
  }
  if (parent !== undefined) {
    if (parent.aborted) onAbort()
    else parent.addEventListener('abort', onAbort, { once: true })
  }
  if (ms !== undefined && ms > 0 && Number.isFinite(ms) && !controller.signal.aborted) {
    timer = setTimeout(() => {
      controller.abort(new TimeoutError(`${what} timed out after ${ms} ms`))
    }, ms)
    timer.unref()
  }
  return {
    signal: controller.signal,
    clear () {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      parent?.removeEventListener('abort', onAbort)
    },
    abort (reason) {
      controller.abort(reason)
    }
  }
}

/**
 * Waits for `p`, or rejects at once with an AbortError (`${what} aborted`) when
 * `signal` aborts first: a caller stops waiting for work it shares with others (a
 * queued ping, an identify run once per connection) without ending that work.
 */
export async function untilAborted<T> (p: Promise<T>, signal: AbortSignal | undefined, what = 'operation'): Promise<T> {
  if (signal === undefined) return await p
  const abortError = (): AbortError => new AbortError(`${what} aborted`, { cause: signal.reason })
  if (signal.aborted) throw abortError()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(abortError()) }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}

/**
 * The error to reject with for an aborted signal: its reason when that is already one
 * of ours (a TimeoutError or AbortError from {@link deadline}), else an AbortError
 * carrying the reason as its cause.
 */
export function signalError (signal: AbortSignal): Lp2pError {
  const reason: unknown = signal.reason
  return reason instanceof Lp2pError ? reason : new AbortError('the operation was aborted', { cause: reason })
}
