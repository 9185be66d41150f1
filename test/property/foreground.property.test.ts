/**
 * The pace of work on the JavaScript thread (src/effects/foreground.ts): every item is worked on
 * once and in order whatever the pace; the event loop turns within about a slice; background work
 * waits for a lull in the foreground, but never longer than its bound, and not at all when urgent;
 * and the serial queue says when work waits behind the work running.
 */
import { performance } from "node:perf_hooks"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ForegroundActivity, type Pace, backgroundPace, eachPaced, foregroundPace } from "../../src/effects/foreground.js"
import { SerialWork } from "../../src/effects/serial.js"

/** Keeps the thread busy for `ms`, as a synchronous read or hash does. */
const busy = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until) {}
}

describe("eachPaced", () => {
  it("works on every item once, in order, and turns only when the pace says so", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer()), fc.array(fc.boolean(), { minLength: 1 }), async (items, dues) => {
        let asked = 0
        let turns = 0
        let turnsDue = 0
        const pace: Pace = {
          due: () => {
            const d = dues[asked++ % dues.length]!
            if (d) turnsDue++
            return d
          },
          next: async () => {
            turns++
          }
        }
        const seen: Array<number> = []
        await eachPaced(items, pace, (x) => seen.push(x))
        expect(seen).toEqual(items)
        expect(asked).toBe(items.length)
        expect(turns).toBe(turnsDue)
      })
    )
  })

  it("a throw stops the work at that item", async () => {
    const seen: Array<number> = []
    await expect(
      eachPaced([1, 2, 3, 4], foregroundPace(), (x) => {
        if (x === 3) throw new Error("three")
        seen.push(x)
      })
    ).rejects.toThrow("three")
    expect(seen).toEqual([1, 2])
  })
})

describe("foregroundPace", () => {
  it("lets the event loop turn within about a slice of time, not a count of items", async () => {
    // 40 items of 1 ms each: a request arriving at the start is answered after about 4 of them
    let answeredAfter = -1
    let done = 0
    setImmediate(() => (answeredAfter = done))
    await eachPaced(Array.from({ length: 40 }, (_, i) => i), foregroundPace(4), () => {
      busy(1)
      done++
    })
    expect(answeredAfter).toBeGreaterThanOrEqual(1)
    expect(answeredAfter).toBeLessThanOrEqual(6)
  })
})

describe("backgroundPace", () => {
  const items = Array.from({ length: 20 }, (_, i) => i)
  /** Runs 20 items of 1 ms in slices of 2 ms (10 slices, 9 waits), the foreground noted every ms while `busyForeground`. */
  const run = async (busyForeground: boolean, urgent: () => boolean) => {
    const fg = new ForegroundActivity()
    const timer = busyForeground ? setInterval(() => fg.note(), 1) : undefined
    fg.note()
    const t0 = performance.now()
    try {
      await eachPaced(items, backgroundPace(fg, urgent, { sliceMs: 2, lullMs: 5, maxWaitMs: 30 }), () => busy(1))
    } finally {
      clearInterval(timer)
    }
    return performance.now() - t0
  }

  it("waits for a lull while the foreground is busy, but at most its bound each time: it always finishes", async () => {
    const ms = await run(true, () => false)
    // 9 waits of 30 ms (the foreground never pauses for 5 ms); 20 ms of work
    expect(ms).toBeGreaterThanOrEqual(9 * 30)
    expect(ms).toBeLessThan(9 * 30 * 3 + 1000)
  })

  it("does not wait when the foreground is quiet", async () => {
    const fg = new ForegroundActivity()
    const t0 = performance.now()
    await eachPaced(items, backgroundPace(fg, () => false, { sliceMs: 2, lullMs: 5, maxWaitMs: 30 }), () => busy(1))
    expect(performance.now() - t0).toBeLessThan(9 * 30)
  })

  it("does not wait when urgent (the host closes, or work waits behind it)", async () => {
    const ms = await run(true, () => true)
    expect(ms).toBeLessThan(9 * 30)
  })
})

describe("SerialWork.waiting", () => {
  it("is true while work waits behind the work running, false once it runs", async () => {
    const serial = new SerialWork()
    const seen: Array<boolean> = []
    let release!: () => void
    const first = serial.exclusive(async () => {
      seen.push(serial.waiting)
      await new Promise<void>((r) => (release = r))
      seen.push(serial.waiting)
    })
    await new Promise((r) => setImmediate(r))
    const second = serial.exclusive(async () => void seen.push(serial.waiting))
    expect(serial.waiting).toBe(true)
    release()
    await Promise.all([first, second])
    expect(seen).toEqual([false, true, false])
    expect(serial.waiting).toBe(false)
  })
})
