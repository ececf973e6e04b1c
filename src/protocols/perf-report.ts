/**
 * Progress reports of a perf client, in the shape the libp2p perf runner reads
 * (libp2p/test-plans `perf/`, the implementations' `Result`): one JSON object per line,
 * `{"type", "timeSeconds", "uploadBytes", "downloadBytes"}`.
 *
 * - `intermediary`: about once a second, the bytes moved since the previous report and
 *   the length of that interval (go-libp2p's perf client reports per interval, not
 *   cumulatively, and the runner sums them);
 * - `final`: once, the totals and the time since the start (which includes connection
 *   establishment when the caller starts the clock before dialing, as the runner's
 *   implementations do).
 *
 * Pure: time comes in as milliseconds from any monotonic clock.
 */

export interface PerfReport {
  type: 'intermediary' | 'final'
  timeSeconds: number
  uploadBytes: number
  downloadBytes: number
}

/**
 * Default interval between intermediary reports, ms: the runner's "about once a
 * second".
 */
export const DEFAULT_REPORT_INTERVAL = 1000

export class PerfProgress {
  readonly #start: number
  readonly #interval: number
  #last: number
  #upload = 0
  #download = 0
  #lastUpload = 0
  #lastDownload = 0

  /**
   * @param startMs the clock at the start of the measured run
   * @param intervalMs least time between two intermediary reports
   */
  constructor (startMs: number, intervalMs = DEFAULT_REPORT_INTERVAL) {
    if (!Number.isFinite(startMs)) throw new RangeError('"startMs" must be a finite number')
    if (!(intervalMs > 0)) throw new RangeError('"intervalMs" must be positive')
    this.#start = startMs
    this.#last = startMs
    this.#interval = intervalMs
  }

  get uploadBytes (): number {
    return this.#upload
  }

  get downloadBytes (): number {
    return this.#download
  }

  upload (n: number): void {
    this.#upload += n
  }

  download (n: number): void {
    this.#download += n
  }

  /** Milliseconds until the next intermediary report is due (0 when due now). */
  dueIn (nowMs: number): number {
    return Math.max(0, this.#last + this.#interval - nowMs)
  }

  /** The intermediary report for the interval ending now, if one is due. */
  poll (nowMs: number): PerfReport | undefined {
    if (nowMs - this.#last < this.#interval) return undefined
    const report: PerfReport = {
      type: 'intermediary',
      timeSeconds: seconds(nowMs - this.#last),
      uploadBytes: this.#upload - this.#lastUpload,
      downloadBytes: this.#download - this.#lastDownload
    }
    this.#last = nowMs
    this.#lastUpload = this.#upload
    this.#lastDownload = this.#download
    return report
  }

  /** The final report: totals since the start. */
  final (nowMs: number): PerfReport {
    return {
      type: 'final',
      timeSeconds: seconds(nowMs - this.#start),
      uploadBytes: this.#upload,
      downloadBytes: this.#download
    }
  }
}

/** Milliseconds to seconds, rounded to the microsecond (the clock's useful precision). */
function seconds (ms: number): number {
  return Math.round(Math.max(0, ms) * 1000) / 1e6
}

/** Bits per second of `bytes` in `seconds`, 0 for an empty interval. */
export function bitsPerSecond (bytes: number, seconds: number): number {
  return seconds > 0 ? (bytes * 8) / seconds : 0
}

/** "5.42 Gbit/s"-style text for a rate in bit/s. */
export function formatRate (bps: number): string {
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s']
  let v = bps
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i] as string}`
}

/** "1.00 GiB"-style text for a byte count. */
export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${n} B` : `${v.toFixed(2)} ${units[i] as string}`
}
