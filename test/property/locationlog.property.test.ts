import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  type LogLine,
  buildLocationLog,
  compareTimestamps,
  loggedStatus,
  logPresent,
  parseLocationLog,
  timestampOfMillis
} from "../../src/domain/locationlog.js"

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max })
const uuid = fc.oneof(fc.uuid(), fc.constantFrom("00000000-0000-0000-0000-000000000001", "web", "bittorrent"))
const timestamp = fc.record({ seconds: fc.integer({ min: 0, max: 4_000_000_000 }).map(String), fraction: fc.oneof(fc.constant(""), digits(1, 9)) })
const entry: fc.Arbitrary<LogLine> = fc.record({ _tag: fc.constant("Entry" as const), time: timestamp, status: fc.constantFrom("1" as const, "0" as const, "X" as const), info: uuid })
/** Lines a future git-annex might write: kept, never understood. */
const other: fc.Arbitrary<LogLine> = fc
  .string({ minLength: 1, maxLength: 30 })
  .filter((s) => !s.includes("\n") && !/^(\d+)(?:\.(\d+))?s ([10X]) (\S.*)$/.test(s))
  .map((text) => ({ _tag: "Other" as const, text }))
const log = fc.array(fc.oneof({ weight: 5, arbitrary: entry }, { weight: 1, arbitrary: other }), { maxLength: 8 })
const now = fc.integer({ min: 0, max: 4_000_000_000_000 })

describe("location log", () => {
  it("reads the lines git-annex writes", () => {
    const text = "1796146858.8583584s 1 8136620a-faa7-4f64-9520-e79f28660dd2\n1796146000s 0 5d1f0c2e-0000-4000-8000-000000000000\n"
    expect(parseLocationLog(text)).toEqual([
      { _tag: "Entry", time: { seconds: "1796146858", fraction: "8583584" }, status: "1", info: "8136620a-faa7-4f64-9520-e79f28660dd2" },
      { _tag: "Entry", time: { seconds: "1796146000", fraction: "" }, status: "0", info: "5d1f0c2e-0000-4000-8000-000000000000" }
    ])
    expect(buildLocationLog(parseLocationLog(text))).toBe(text)
  })

  it("builds what it parses, line for line", () => {
    fc.assert(
      fc.property(log, (lines) => {
        expect(parseLocationLog(buildLocationLog(lines))).toEqual(lines)
      })
    )
  })

  it("parses any text without throwing, and keeps every non-empty line", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const lines = parseLocationLog(text)
        expect(buildLocationLog(lines)).toBe(text.split("\n").filter(Boolean).map((l) => l + "\n").join(""))
      })
    )
  })

  it("orders timestamps by value, as numbers would be ordered", () => {
    fc.assert(
      fc.property(timestamp, timestamp, (a, b) => {
        const c = compareTimestamps(a, b)
        expect(compareTimestamps(b, a)).toBe(c === 0 ? 0 : -c) // not -0: toBe tells -0 from 0
        const x = BigInt(a.seconds) * 10n ** 9n + BigInt(a.fraction.padEnd(9, "0") || "0")
        const y = BigInt(b.seconds) * 10n ** 9n + BigInt(b.fraction.padEnd(9, "0") || "0")
        expect(c).toBe(x < y ? -1 : x > y ? 1 : 0)
      })
    )
    expect(compareTimestamps({ seconds: "0010", fraction: "5" }, { seconds: "10", fraction: "50" })).toBe(0)
  })

  it("logPresent makes the UUID present, with one line later than any it had, and leaves the others alone", () => {
    fc.assert(
      fc.property(log, uuid, now, (lines, me, t) => {
        const before = buildLocationLog(lines)
        const after = parseLocationLog(logPresent(lines.length ? before : undefined, me, t))
        expect(loggedStatus(after, me)).toBe("1")
        const mine = after.filter((l) => l._tag === "Entry" && l.info === me)
        expect(mine).toHaveLength(1)
        const old = lines.filter((l) => l._tag === "Entry" && l.info === me)
        const wasPresentAlone = old.length === 1 && old[0]!._tag === "Entry" && old[0]!.status === "1"
        if (!wasPresentAlone) {
          for (const l of old) if (l._tag === "Entry") expect(compareTimestamps(mine[0]!._tag === "Entry" ? mine[0]!.time : l.time, l.time)).toBe(1)
          if (mine[0]!._tag === "Entry") expect(compareTimestamps(mine[0]!.time, timestampOfMillis(t))).toBeGreaterThanOrEqual(0)
        }
        expect(after.filter((l) => !(l._tag === "Entry" && l.info === me))).toEqual(lines.filter((l) => !(l._tag === "Entry" && l.info === me)))
      })
    )
  })

  it("logPresent twice is logPresent once", () => {
    fc.assert(
      fc.property(log, uuid, now, now, (lines, me, t1, t2) => {
        const once = logPresent(buildLocationLog(lines), me, t1)
        expect(logPresent(once, me, t2)).toBe(once)
      })
    )
  })

  it("a missing line recorded after a drop is overridden even when the clock is behind", () => {
    const me = "8136620a-faa7-4f64-9520-e79f28660dd2"
    const dropped = `2000000000.5s 0 ${me}\n`
    const after = parseLocationLog(logPresent(dropped, me, 1_000_000_000_000))
    expect(loggedStatus(after, me)).toBe("1")
    expect(after).toEqual([{ _tag: "Entry", time: { seconds: "2000000000", fraction: "501" }, status: "1", info: me }])
  })
})

describe("location log times from peers", () => {
  it("a present line after any logged time, however large, is one git-annex can parse and sorts after it", () => {
    const huge = fc.record({ seconds: digits(1, 40), fraction: fc.oneof(fc.constant(""), digits(1, 12)) })
    fc.assert(
      fc.property(huge, uuid, now, (time, u, t) => {
        const text = buildLocationLog([{ _tag: "Entry", time, status: "0", info: u }])
        const out = parseLocationLog(logPresent(text, u, t))
        const mine = out.filter((l): l is Extract<LogLine, { _tag: "Entry" }> => l._tag === "Entry" && l.info === u)
        expect(mine).toHaveLength(1)
        expect(mine[0]!.status).toBe("1")
        expect(/^\d+$/.test(mine[0]!.time.seconds) && /^\d*$/.test(mine[0]!.time.fraction)).toBe(true)
        expect(compareTimestamps(mine[0]!.time, time)).toBe(1)
      })
    )
  })

  it("a time past 2^53 ms keeps its last millisecond", () => {
    const text = "99999999999999999999.999s 1 other\n99999999999999999999.999s 0 me\n"
    expect(logPresent(text, "me", 0)).toBe("99999999999999999999.999s 1 other\n100000000000000000000.000s 1 me\n")
  })
})
