/**
 * Moments: the times a person types to name a past state of the tree (`.sharebox/at/TIME/`,
 * `revert --at`, `restore --at`), and the states of the tree they resolve to.
 *
 * A state is a commit of the host's branch, following first parents: the states the host's own
 * tree went through (its own commits and the merges it made), not the commits of peers that a
 * merge brought in, whose trees this host never had. Each is named by its commit time in UTC to
 * the second, `2026-12-01T14:30:05Z`: `ls` sorts the names oldest first, and each name is a time
 * this parser reads back to that state. Several commits in one second are listed once, as the last
 * of them (the state that second ended with).
 *
 * Pure: the clock (`now`) and the local time zone (`offsetAt`) come in as arguments.
 */
import { MAX_TIME_MS, isSaneTime } from "./time.js"

/**
 * A time read: the instant, and whether it was given to the millisecond (`exact`); any other time
 * counts to the second, as git keeps commit times and as states are named: what was saved within
 * that second is at or before it.
 */
export type TimeParse = { readonly ok: true; readonly time: number; readonly exact: boolean } | { readonly ok: false; readonly reason: string }

/** The local time zone: its offset from UTC in minutes at an instant (east positive: +60 for CET). */
export type OffsetAt = (ms: number) => number

export const UTC: OffsetAt = () => 0

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const UNITS: ReadonlyArray<readonly [ReadonlyArray<string>, number]> = [
  [["s", "sec", "secs", "second", "seconds"], SECOND],
  [["m", "min", "mins", "minute", "minutes"], MINUTE],
  [["h", "hr", "hrs", "hour", "hours"], HOUR],
  [["d", "day", "days"], DAY],
  [["w", "wk", "wks", "week", "weeks"], 7 * DAY]
]
const UNIT = new Map(UNITS.flatMap(([names, ms]) => names.map((n) => [n, ms] as const)))

const FORMS = "a date (2026-12-01), a date and time (2026-12-01T14:30, 2026-12-01 14:30:05, ending in Z or +01:00 for a zone), now, yesterday, or a time ago (30min, 2h, 3d, 1w, 2 hours ago)"

const refuse = (text: string, why: string): TimeParse => ({ ok: false, reason: `not a time: ${JSON.stringify(text.length > 40 ? text.slice(0, 40) + "..." : text)} (${why})` })

const ABSOLUTE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i
const RELATIVE = /^(\d{1,9})\s*([a-z]+)(?:\s+ago)?$/i

const daysIn = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate()

/** The UTC instant of a local wall time: its offset is the zone's at that instant (found in two steps, for a change of offset nearby). */
const fromLocal = (wall: number, offsetAt: OffsetAt): number => {
  const first = wall - offsetAt(wall) * MINUTE
  return wall - offsetAt(first) * MINUTE
}

/**
 * The instant (milliseconds) a person's time means: total, never throws. A date or time without a
 * zone is local time (as `date` and git read it); a date alone is its midnight.
 */
export const parseTime = (input: string, now: number, offsetAt: OffsetAt = UTC): TimeParse => {
  const text = input.trim()
  if (text === "") return refuse(input, `empty; give ${FORMS}`)
  const lower = text.toLowerCase()
  if (lower === "now") return checked(input, now)
  if (lower === "yesterday") return checked(input, now - DAY)
  const rel = RELATIVE.exec(text)
  if (rel) {
    const unit = UNIT.get(rel[2]!.toLowerCase())
    if (unit === undefined) return refuse(input, `unknown unit ${JSON.stringify(rel[2])}: use s, min, h, d or w`)
    return checked(input, now - Number(rel[1]) * unit)
  }
  const abs = ABSOLUTE.exec(text)
  if (!abs) return refuse(input, `give ${FORMS}`)
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(abs[i] ?? 0)) as [number, number, number, number, number, number]
  const ms = abs[7] === undefined ? 0 : Number(abs[7].padEnd(3, "0"))
  if (mo < 1 || mo > 12) return refuse(input, `no month ${mo}`)
  if (d < 1 || d > daysIn(y, mo)) return refuse(input, `no day ${d} in ${abs[1]}-${abs[2]}`)
  if (h > 23 || mi > 59 || s > 59) return refuse(input, "no such time of day")
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms)
  // Date.UTC reads years 0-99 as 1900-1999
  const fixed = y < 100 ? new Date(wall).setUTCFullYear(y) : wall
  const exact = abs[7] !== undefined
  const zone = abs[8]
  if (zone === undefined) return checked(input, fromLocal(fixed, offsetAt), exact)
  if (zone.toUpperCase() === "Z") return checked(input, fixed, exact)
  const digits = zone.replace(":", "")
  const oh = Number(digits.slice(1, 3))
  const om = Number(digits.slice(3, 5))
  if (oh > 23 || om > 59) return refuse(input, `no zone ${zone}`)
  const offset = (oh * 60 + om) * (zone[0] === "-" ? -1 : 1)
  return checked(input, fixed - offset * MINUTE, exact)
}

const checked = (input: string, t: number, exact = false): TimeParse =>
  isSaneTime(t) ? { ok: true, time: exact ? t : Math.floor(t / SECOND) * SECOND, exact } : refuse(input, "out of range")

/** Whether something saved at `saved` (milliseconds) is at or before a time read by `parseTime`. */
export const atOrBefore = (saved: number, t: { readonly time: number; readonly exact: boolean }): boolean =>
  (t.exact ? saved : Math.floor(saved / SECOND) * SECOND) <= t.time

/** A time read by `parseTime`, written so that it reads back the same (to send it on). */
export const timeText = (t: { readonly time: number; readonly exact: boolean }): string => (t.exact ? new Date(t.time).toISOString() : momentName(t.time))

/** The name a state is listed under: its time in UTC, to the second (a valid input of `parseTime`). */
export const momentName = (time: number): string => new Date(Math.floor(Math.min(Math.max(time, 0), MAX_TIME_MS) / SECOND) * SECOND).toISOString().replace(/\.000Z$/, "Z")

/** One state of the tree: a commit, and its time (milliseconds). */
export interface Moment {
  readonly commit: string
  readonly time: number
}

/**
 * The states of a first-parent chain given oldest first, with times to the second (as git keeps
 * them, and as they are named) made non-decreasing (a clock set back must not make a later state
 * resolve before an earlier one): each takes the greatest time so far.
 */
export const orderedMoments = (chain: ReadonlyArray<Moment>): Array<Moment> => {
  const out: Array<Moment> = []
  let last = -Infinity
  for (const m of chain) {
    last = Math.max(last, Math.floor(m.time / SECOND) * SECOND)
    out.push({ commit: m.commit, time: last })
  }
  return out
}

/** The last state at or before `t` in `moments` (from `orderedMoments`), or undefined before the first. */
export const momentAt = (moments: ReadonlyArray<Moment>, t: number): Moment | undefined => {
  let lo = 0
  let hi = moments.length // the answer is moments[lo - 1] once lo === hi
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (moments[mid]!.time <= t) lo = mid + 1
    else hi = mid
  }
  return lo === 0 ? undefined : moments[lo - 1]
}

/** The names `.sharebox/at/` lists, oldest first: one per second with a state, for the last state of that second. */
export const listedMoments = (moments: ReadonlyArray<Moment>): Array<{ readonly name: string; readonly moment: Moment }> => {
  const out: Array<{ name: string; moment: Moment }> = []
  for (const m of moments) {
    const name = momentName(m.time)
    if (out.length > 0 && out[out.length - 1]!.name === name) out[out.length - 1] = { name, moment: m }
    else out.push({ name, moment: m })
  }
  return out
}
