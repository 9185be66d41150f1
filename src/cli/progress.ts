/**
 * Progress of long work on a terminal: one line rewritten in place (files and bytes, rate, ETA).
 * Work reports `progress` values through its output channel; off a terminal they are dropped.
 */

import { parseProgress } from "../effects/progress.js"

const human = (b: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]
  let i = 0
  while (b >= 1024 && i < units.length - 1) {
    b /= 1024
    i++
  }
  return `${b.toFixed(i ? 1 : 0)} ${units[i]}`
}

/** Renders progress values on stderr when it is a terminal; returns whether it took the line. */
export const makeProgressRenderer = (enabled = process.stderr.isTTY === true) => {
  const started = Date.now()
  let shown = false
  return {
    take(line: string): boolean {
      const p = parseProgress(line)
      if (!p) {
        if (shown) {
          process.stderr.write("\r\x1b[K")
          shown = false
        }
        return false
      }
      if (!enabled) return true
      const secs = (Date.now() - started) / 1000
      const rate = secs > 0 ? p.bytes / secs : 0
      const eta = rate > 0 && p.totalBytes > p.bytes ? `, ETA ${Math.ceil((p.totalBytes - p.bytes) / rate)}s` : ""
      process.stderr.write(`\r\x1b[K${p.what}: ${p.files}/${p.totalFiles} files, ${human(p.bytes)}/${human(p.totalBytes)}, ${human(rate)}/s${eta}`)
      shown = true
      return true
    },
    done(): void {
      if (shown) process.stderr.write("\r\x1b[K")
      shown = false
    }
  }
}
