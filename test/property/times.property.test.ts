/**
 * The atime a read leaves (src/domain/times.ts), against the rules of mount(8): noatime never
 * moves it, strictatime always does, relatime on the first read after a change and once a day.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type AtimePolicy, DAY_MS, type Times, atimeAfterRead } from "../../src/domain/times.js"

const time = fc.integer({ min: 0, max: 4_000_000_000_000 })
const times: fc.Arbitrary<Times> = fc.record({ atime: time, mtime: time, ctime: time })
const policy = fc.constantFrom<AtimePolicy>("relatime", "noatime", "strict")

describe("atimeAfterRead", () => {
  it("leaves the atime as it was, or makes it the read's time", () => {
    fc.assert(
      fc.property(policy, times, time, (pol, t, now) => {
        const a = atimeAfterRead(pol, t, now)
        expect([t.atime, now]).toContain(a)
      })
    )
  })

  it("noatime never moves it; strictatime always does", () => {
    fc.assert(
      fc.property(times, time, (t, now) => {
        expect(atimeAfterRead("noatime", t, now)).toBe(t.atime)
        expect(atimeAfterRead("strict", t, now)).toBe(now)
      })
    )
  })

  it("relatime: the first read after a change of content or status moves it", () => {
    fc.assert(
      fc.property(times, time, (t, now) => {
        fc.pre(t.atime <= Math.max(t.mtime, t.ctime))
        expect(atimeAfterRead("relatime", t, now)).toBe(now)
      })
    )
  })

  it("relatime: a second read within a day of the first leaves it, unless something changed between", () => {
    fc.assert(
      fc.property(times, time, fc.integer({ min: 0, max: DAY_MS - 1 }), (t, first, later) => {
        fc.pre(t.mtime < first && t.ctime < first)
        // A day counts from the atime the first read left: the read's own time when it moved it,
        // the older atime when it did not.
        const afterFirst = atimeAfterRead("relatime", t, first)
        const second = { ...t, atime: afterFirst }
        expect(atimeAfterRead("relatime", second, afterFirst + later)).toBe(afterFirst)
      })
    )
  })

  it("relatime: an atime a day old moves at the next read", () => {
    fc.assert(
      fc.property(times, fc.integer({ min: DAY_MS, max: 10 * DAY_MS }), (t, age) => {
        expect(atimeAfterRead("relatime", t, t.atime + age)).toBe(t.atime + age)
      })
    )
  })

  it("relatime: examples", () => {
    const t = { atime: 1_000, mtime: 500, ctime: 500 }
    expect(atimeAfterRead("relatime", t, 2_000)).toBe(1_000)
    expect(atimeAfterRead("relatime", { ...t, mtime: 1_500 }, 2_000)).toBe(2_000)
    expect(atimeAfterRead("relatime", { ...t, ctime: 1_000 }, 2_000)).toBe(2_000)
    expect(atimeAfterRead("relatime", t, 1_000 + DAY_MS)).toBe(1_000 + DAY_MS)
    // Regression: a read that left the atime (1) counts the day from it, not from its own time (13).
    const kept = { atime: 1, mtime: 0, ctime: 0 }
    expect(atimeAfterRead("relatime", kept, 13)).toBe(1)
    expect(atimeAfterRead("relatime", kept, 1 + DAY_MS - 1)).toBe(1)
    expect(atimeAfterRead("relatime", kept, 1 + DAY_MS)).toBe(1 + DAY_MS)
  })
})
