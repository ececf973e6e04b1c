/**
 * Logs under `debug` namespaces `lp2p:<layer>` (GUIDE, "Logs and metrics"): off unless
 * `DEBUG=lp2p:*` (or a narrower pattern) is set, or `enableLogs()` is called (the CLI's
 * `--trace`). Hot paths check `log.enabled` before building anything to log, so a
 * disabled logger costs one property read.
 */
import createDebug, { type Debugger } from 'debug'

export type Logger = Debugger

/** The logger of one layer, e.g. `logger('upgrader')` -> namespace `lp2p:upgrader`. */
export function logger (layer: string): Logger {
  return createDebug(`lp2p:${layer}`)
}

/** Turns on `namespaces` (default every lp2p namespace) in addition to what `DEBUG` enables. */
export function enableLogs (namespaces = 'lp2p:*'): void {
  const current = createDebug.disable()
  createDebug.enable(current === '' ? namespaces : `${current},${namespaces}`)
}
