/**
 * git-annex location logs: the `<hashdirlower>KEY.log` files of the `git-annex` branch that say
 * which repositories have a key. One line per repository: `TIMESTAMPs STATUS UUID`, e.g.
 * `1796146858.8583584s 1 8136620a-…`, where STATUS is `1` (present), `0` (missing) or `X` (dead)
 * and, for each UUID, the line with the latest timestamp is the one that counts.
 *
 * Pure: the time comes in as an argument. Lines this module does not understand are kept as they
 * are, so a log written by a newer git-annex passes through unharmed.
 */

/** A timestamp as git-annex writes it: whole seconds and a decimal fraction, kept as digits. */
export interface Timestamp {
  readonly seconds: string
  readonly fraction: string
}

export type LogStatus = "1" | "0" | "X"

export type LogLine =
  | { readonly _tag: "Entry"; readonly time: Timestamp; readonly status: LogStatus; readonly info: string }
  | { readonly _tag: "Other"; readonly text: string }

const LINE = /^(\d+)(?:\.(\d+))?s ([10X]) (\S.*)$/

export const parseTimestamp = (s: string): Timestamp | undefined => {
  const m = /^(\d+)(?:\.(\d+))?s$/.exec(s)
  return m ? { seconds: m[1]!, fraction: m[2] ?? "" } : undefined
}

export const buildTimestamp = (t: Timestamp): string => (t.fraction ? `${t.seconds}.${t.fraction}s` : `${t.seconds}s`)

/** A timestamp from milliseconds since the epoch. */
export const timestampOfMillis = (ms: number): Timestamp => {
  const whole = Math.max(0, Math.floor(ms))
  return { seconds: String(Math.floor(whole / 1000)), fraction: String(whole % 1000).padStart(3, "0") }
}

const trimZeros = (s: string): string => s.replace(/^0+(?=.)/, "")

/** Orders timestamps by value (exactly: digit strings, never floating point). */
export const compareTimestamps = (a: Timestamp, b: Timestamp): number => {
  const as = trimZeros(a.seconds)
  const bs = trimZeros(b.seconds)
  if (as.length !== bs.length) return as.length < bs.length ? -1 : 1
  if (as !== bs) return as < bs ? -1 : 1
  const n = Math.max(a.fraction.length, b.fraction.length)
  const af = a.fraction.padEnd(n, "0")
  const bf = b.fraction.padEnd(n, "0")
  return af === bf ? 0 : af < bf ? -1 : 1
}

/**
 * The timestamp one millisecond after `t` (rounded down to the millisecond first). In exact
 * integers: a peer may log any time, and past 2^53 ms a float printed as `1e+21` or lost the
 * millisecond, which git-annex cannot parse or which sorted before the line it had to follow.
 */
const afterMillis = (t: Timestamp): Timestamp => {
  const ms = BigInt(trimZeros(t.seconds)) * 1000n + BigInt(t.fraction.padEnd(3, "0").slice(0, 3)) + 1n
  return { seconds: String(ms / 1000n), fraction: String(ms % 1000n).padStart(3, "0") }
}

export const parseLocationLog = (text: string): Array<LogLine> => {
  const out: Array<LogLine> = []
  for (const line of text.split("\n")) {
    if (line === "") continue
    const m = LINE.exec(line)
    if (m) out.push({ _tag: "Entry", time: { seconds: m[1]!, fraction: m[2] ?? "" }, status: m[3] as LogStatus, info: m[4]! })
    else out.push({ _tag: "Other", text: line })
  }
  return out
}

export const buildLocationLog = (lines: ReadonlyArray<LogLine>): string =>
  lines.map((l) => (l._tag === "Entry" ? `${buildTimestamp(l.time)} ${l.status} ${l.info}` : l.text) + "\n").join("")

/** The status that counts for `uuid` (its latest line), if the log has one. */
export const loggedStatus = (lines: ReadonlyArray<LogLine>, uuid: string): LogStatus | undefined => {
  let best: Extract<LogLine, { _tag: "Entry" }> | undefined
  for (const l of lines) if (l._tag === "Entry" && l.info === uuid && (!best || compareTimestamps(l.time, best.time) >= 0)) best = l
  return best?.status
}

/**
 * The log with `uuid` recorded as having the key at `now` (milliseconds): that UUID's lines are
 * replaced by one present line, later than any of them even when the clock is behind; every other
 * line stays as it was. Already present: the log is returned unchanged.
 */
export const logPresent = (text: string | undefined, uuid: string, now: number): string => {
  const lines = parseLocationLog(text ?? "")
  const mine = lines.filter((l): l is Extract<LogLine, { _tag: "Entry" }> => l._tag === "Entry" && l.info === uuid)
  if (text !== undefined && mine.length === 1 && mine[0]!.status === "1") return text
  let time = timestampOfMillis(now)
  for (const l of mine) if (compareTimestamps(l.time, time) >= 0) time = afterMillis(l.time)
  const others = lines.filter((l) => !(l._tag === "Entry" && l.info === uuid))
  return buildLocationLog([...others, { _tag: "Entry", time, status: "1", info: uuid }])
}
