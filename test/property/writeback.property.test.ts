/**
 * When the write-back replays (src/effects/writeback.ts), on a fake clock: never within a quiet
 * period of a recorded change; never within one of a request to the mount, unless the changes have
 * waited the longest it waits for a mount in use; and always, once the mount has been idle for two
 * quiet periods, if something was recorded since the last replay.
 */
import fc from "fast-check"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { defaultHostOptions } from "../../src/effects/hostconfig.js"
import type { Replayer } from "../../src/effects/replay.js"
import type { SerialWork } from "../../src/effects/serial.js"
import type { StagingArea } from "../../src/effects/staging.js"
import { IN_USE_MAX_QUIET_PERIODS, WritebackTimer } from "../../src/effects/writeback.js"

const QUIET = 1000
const MAX = IN_USE_MAX_QUIET_PERIODS * QUIET

type Step = { readonly after: number; readonly what: "record" | "request" }
const step: fc.Arbitrary<Step> = fc.record({ after: fc.integer({ min: 0, max: 2500 }), what: fc.constantFrom("record" as const, "request" as const) })

/** Runs `steps` on a fake clock, then lets MAX and a few quiet periods pass; the times of every record, request and replay. */
const run = (steps: ReadonlyArray<Step>) => {
  let served = 0
  const records: Array<number> = []
  const requests: Array<number> = []
  const replays: Array<number> = []
  /** how many records there were when each replay started (a record in the same millisecond may come after it) */
  const recordsAtReplay: Array<number> = []
  const replayer = { replay: async () => void (replays.push(Date.now()), recordsAtReplay.push(records.length)) } as unknown as Replayer
  const staging = { anyDirty: () => false } as unknown as StagingArea
  const serial = { closed: false } as unknown as SerialWork
  const w = new WritebackTimer({ ...defaultHostOptions, quietMs: QUIET, served: () => served }, staging, replayer, serial)
  for (const s of steps) {
    vi.advanceTimersByTime(s.after)
    if (s.what === "record") {
      records.push(Date.now())
      w.schedule()
    } else {
      requests.push(Date.now())
      served++
    }
  }
  const end = Date.now()
  vi.advanceTimersByTime(MAX + 5 * QUIET)
  w.stop()
  return { records, requests, replays, recordsAtReplay, end }
}

describe("the write-back's timer", () => {
  beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }))
  afterEach(() => void vi.useRealTimers())

  it("replays only after a quiet period without records, and without requests unless the changes waited their longest", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const { records, requests, replays, recordsAtReplay } = run(steps)
        let previous = -Infinity
        for (const [i, t] of replays.entries()) {
          const before = records.slice(0, recordsAtReplay[i])
          const since = before.filter((r) => r > previous)
          expect(since.length, "a replay with nothing recorded since the last").toBeGreaterThan(0)
          expect(before.some((r) => r > t - QUIET), "a record within a quiet period").toBe(false)
          if (requests.some((r) => r > t - QUIET && r <= t)) expect(t - since[0]!, "a replay during use before the longest wait").toBeGreaterThanOrEqual(MAX + QUIET)
          previous = t
        }
      })
    )
  })

  it("replays what was recorded within two quiet periods of the mount going idle", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const { records, replays, end } = run(steps)
        if (records.length === 0) {
          expect(replays).toEqual([])
          return
        }
        const last = replays[replays.length - 1]
        expect(last, "no replay after the last record").toBeGreaterThanOrEqual(records[records.length - 1]!)
        expect(last!).toBeLessThanOrEqual(end + 2 * QUIET)
      })
    )
  })

  it("while the mount stays in use, replays once the changes have waited the longest it waits", () => {
    const steps: Array<Step> = [{ after: 0, what: "record" }, ...Array.from({ length: 400 }, () => ({ after: 100, what: "request" as const }))]
    const { records, replays } = run(steps)
    expect(replays.length).toBe(1)
    expect(replays[0]! - records[0]!).toBeGreaterThanOrEqual(MAX + QUIET)
    expect(replays[0]! - records[0]!).toBeLessThanOrEqual(MAX + 3 * QUIET)
  })
})
