/**
 * Progress values of long work (transfers), sent as output lines with a prefix; the command line
 * renders them on a terminal (src/cli/progress.ts) and drops them elsewhere.
 */

export interface ProgressValue {
  readonly what: string
  readonly files: number
  readonly totalFiles: number
  readonly bytes: number
  readonly totalBytes: number
}

const PREFIX = "progress "

export const progressLine = (p: ProgressValue): string => PREFIX + JSON.stringify(p)

export const parseProgress = (line: string): ProgressValue | undefined => {
  if (!line.startsWith(PREFIX)) return undefined
  try {
    return JSON.parse(line.slice(PREFIX.length)) as ProgressValue
  } catch {
    return undefined
  }
}

/** Passes on output lines other than progress values (for logs). */
export const withoutProgress =
  (f: (line: string) => void) =>
  (line: string): void => {
    if (parseProgress(line) === undefined) f(line)
  }
