/**
 * The times a person types for a past state (src/domain/moments.ts): listed names read back to the
 * state they list, later times never resolve to earlier states, and bad input is refused with a reason.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type Moment, atOrBefore, listedMoments, momentAt, momentName, orderedMoments, parseTime, timeText } from "../../src/domain/moments.js"

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0)
const HOUR = 3600_000
const time = fc.integer({ min: 0, max: Date.UTC(9999, 0, 1) })

const chain: fc.Arbitrary<Array<Moment>> = fc
  .array(fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 }), { minLength: 1, maxLength: 30 })
  .map((ts) => ts.map((t, i) => ({ commit: `c${i}`, time: t })))

const ok = (text: string, now = NOW, offset = () => 0): number => {
  const r = parseTime(text, now, offset)
  if (!r.ok) throw new Error(r.reason)
  return r.time
}

describe("parseTime", () => {
  it("reads every listed name back as its own second", () => {
    fc.assert(
      fc.property(time, (t) => {
        expect(ok(momentName(t))).toBe(Math.floor(t / 1000) * 1000)
      })
    )
  })

  it("a time sent on (timeText) reads back as the same time, to the millisecond or to the second", () => {
    const typed = fc.oneof(time.map(momentName), time.map((t) => new Date(t).toISOString()), fc.integer({ min: 0, max: 100_000 }).map((n) => `${n}s`))
    fc.assert(
      fc.property(typed, (text) => {
        const t = parseTime(text, NOW + 123)
        if (!t.ok) throw new Error(t.reason)
        expect(parseTime(timeText(t), 0)).toEqual(t)
        // what was saved within a second typed to the second is at or before it; not so to the millisecond
        if (!t.exact) expect(atOrBefore(t.time + 999, t)).toBe(true)
        else expect(atOrBefore(t.time + 1, t)).toBe(false)
      })
    )
  })

  it("names sort as their times do", () => {
    fc.assert(
      fc.property(time, time, (a, b) => {
        const byName = momentName(a) < momentName(b) ? -1 : momentName(a) > momentName(b) ? 1 : 0
        expect(byName).toBe(Math.sign(Math.floor(a / 1000) - Math.floor(b / 1000)))
      })
    )
  })

  it("a longer time ago is earlier, whatever the unit", () => {
    const unit = fc.constantFrom("s", "sec", "m", "min", "minutes", "h", "hours", "d", "days", "w", "weeks")
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 }), unit, (a, b, u) => {
        fc.pre(a !== b)
        expect(Math.sign(ok(`${a}${u}`) - ok(`${b} ${u} ago`))).toBe(Math.sign(b - a))
      })
    )
  })

  it("reads what people type", () => {
    expect(ok("now")).toBe(NOW)
    expect(ok("yesterday")).toBe(NOW - 24 * HOUR)
    expect(ok("2h")).toBe(NOW - 2 * HOUR)
    expect(ok("30min")).toBe(NOW - HOUR / 2)
    expect(ok("3d")).toBe(NOW - 72 * HOUR)
    expect(ok("1w")).toBe(NOW - 168 * HOUR)
    expect(ok("2 hours ago")).toBe(NOW - 2 * HOUR)
    expect(ok("2026-12-01")).toBe(Date.UTC(2026, 11, 1))
    expect(ok("2026-12-01T14:30")).toBe(Date.UTC(2026, 11, 1, 14, 30))
    expect(ok("2026-12-01 14:30:05")).toBe(Date.UTC(2026, 11, 1, 14, 30, 5))
    expect(ok("2026-12-01T14:30:05.250Z")).toBe(Date.UTC(2026, 11, 1, 14, 30, 5, 250))
    expect(ok("2026-12-01T14:30+01:00")).toBe(Date.UTC(2026, 11, 1, 13, 30))
    // without a zone, local time: an hour east of UTC, 14:30 there is 13:30 UTC
    expect(ok("2026-12-01T14:30", NOW, () => 60)).toBe(Date.UTC(2026, 11, 1, 13, 30))
    expect(ok("2026-12-01T14:30Z", NOW, () => 60)).toBe(Date.UTC(2026, 11, 1, 14, 30))
  })

  it("refuses anything else with a reason, and never throws", () => {
    for (const bad of ["", "  ", "tomorrowish", "2026-13-01", "2026-02-30", "2026-12-01T24:00", "2026-12-01T14:61", "5 fortnights", "2h later", "12", "-2h", "2026-12-01T14:30+25:00"]) {
      const r = parseTime(bad, NOW)
      expect(r.ok, bad).toBe(false)
      if (!r.ok) expect(r.reason).toMatch(/^not a time: /)
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseTime(s, NOW)
        if (r.ok) expect(Number.isFinite(r.time)).toBe(true)
        else expect(r.reason).not.toMatch(/\n/)
      })
    )
  })
})

describe("moments", () => {
  it("each listed name resolves to the state it lists", () => {
    fc.assert(
      fc.property(chain, (c) => {
        const ms = orderedMoments(c)
        for (const { name, moment } of listedMoments(ms)) expect(momentAt(ms, ok(name))).toEqual(moment)
      })
    )
  })

  it("a later time never resolves to an earlier state; before the first there is none", () => {
    fc.assert(
      fc.property(chain, fc.integer({ min: 1_699_999_990_000, max: 1_700_000_110_000 }), fc.integer({ min: 0, max: 20_000 }), (c, t, d) => {
        const ms = orderedMoments(c)
        const index = (m: Moment | undefined) => (m === undefined ? -1 : ms.indexOf(m))
        expect(index(momentAt(ms, t + d))).toBeGreaterThanOrEqual(index(momentAt(ms, t)))
        const found = momentAt(ms, t)
        if (found === undefined) expect(t).toBeLessThan(ms[0]!.time)
        else expect(found.time).toBeLessThanOrEqual(t)
      })
    )
  })

  it("lists names oldest first, one per second, the state each second ended with", () => {
    fc.assert(
      fc.property(chain, (c) => {
        const listed = listedMoments(orderedMoments(c))
        const names = listed.map((l) => l.name)
        expect([...names].sort()).toEqual(names)
        expect(new Set(names).size).toBe(names.length)
        expect(listed[listed.length - 1]!.moment.commit).toBe(c[c.length - 1]!.commit)
      })
    )
  })
})
