/**
 * The pure retention and eviction decisions (src/domain/retention.ts): which old versions a host
 * may let go of under -o numversions=N, and which cached content goes first under -o cachesize.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type CachedContent, type Version, droppableOldVersions, evictionOrder, versionFileName } from "../../src/domain/retention.js"

// A small pool of keys, so the same content keeps showing up in several paths and versions.
const keyPool = Array.from({ length: 12 }, (_, i) => `SHA256E-s${i + 1}--${i.toString(16).padStart(64, "0")}.txt`)
const key = fc.constantFrom(...keyPool)

const version: fc.Arbitrary<Version> = fc
  .record({
    commit: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 40, maxLength: 40 }),
    time: fc.integer({ min: 0, max: 4_000_000_000_000 }),
    deleted: fc.boolean(),
    key: fc.option(key, { nil: undefined }),
    host: fc.option(fc.constantFrom("A", "B", "C"), { nil: undefined })
  })
  .map((v) => (v.deleted ? { ...v, key: undefined } : v))

const history: fc.Arbitrary<Map<string, Array<Version>>> = fc
  .dictionary(fc.constantFrom("a.txt", "b.txt", "d/c.txt", "d/e/f.bin", "g"), fc.array(version, { maxLength: 12 }))
  .map((d) => new Map(Object.entries(d)))

const current: fc.Arbitrary<Set<string>> = fc.subarray(keyPool).map((ks) => new Set(ks))

const keep = fc.integer({ min: 1, max: 6 })

/** Keys of the newest `n` versions with content of each path. */
const newest = (h: ReadonlyMap<string, ReadonlyArray<Version>>, n: number): Set<string> => {
  const out = new Set<string>()
  for (const vs of h.values()) for (const v of vs.filter((x) => !x.deleted && x.key !== undefined).slice(-n)) out.add(v.key!)
  return out
}

const allKeys = (h: ReadonlyMap<string, ReadonlyArray<Version>>): Set<string> => {
  const out = new Set<string>()
  for (const vs of h.values()) for (const v of vs) if (v.key !== undefined) out.add(v.key)
  return out
}

describe("droppableOldVersions", () => {
  it("never returns a current key", () => {
    fc.assert(
      fc.property(history, current, keep, (h, cur, n) => {
        for (const k of droppableOldVersions(h, cur, n)) expect(cur.has(k), k).toBe(false)
      }),
      { numRuns: 500 }
    )
  })

  it("never returns a key among the newest N versions of any path", () => {
    fc.assert(
      fc.property(history, current, keep, (h, cur, n) => {
        const kept = newest(h, n)
        for (const k of droppableOldVersions(h, cur, n)) expect(kept.has(k), k).toBe(false)
      }),
      { numRuns: 500 }
    )
  })

  it("returns exactly the keys of older versions that are neither current nor newest anywhere", () => {
    fc.assert(
      fc.property(history, current, keep, (h, cur, n) => {
        const kept = newest(h, n)
        const expected = [...allKeys(h)].filter((k) => !cur.has(k) && !kept.has(k)).sort()
        expect([...droppableOldVersions(h, cur, n)].sort()).toEqual(expected)
      }),
      { numRuns: 500 }
    )
  })

  it("keep = 0 (or less) drops nothing", () => {
    fc.assert(
      fc.property(history, current, fc.integer({ min: -3, max: 0 }), (h, cur, n) => {
        expect(droppableOldVersions(h, cur, n).size).toBe(0)
      })
    )
  })

  it("a path with N or fewer versions loses nothing", () => {
    fc.assert(
      fc.property(fc.array(version, { maxLength: 6 }), keep, (vs, n) => {
        fc.pre(vs.filter((v) => !v.deleted && v.key !== undefined).length <= n)
        expect(droppableOldVersions(new Map([["x", vs]]), new Set(), n).size).toBe(0)
      })
    )
  })

  it("5 saves with N = 3: the first two are droppable, the last three not", () => {
    const vs: Array<Version> = keyPool.slice(0, 5).map((k, i) => ({ commit: `${i}`.repeat(40), time: i * 1000, key: k, deleted: false, host: "A" }))
    expect([...droppableOldVersions(new Map([["f.txt", vs]]), new Set([keyPool[4]!]), 3)].sort()).toEqual([keyPool[0], keyPool[1]].sort())
  })
})

const cached: fc.Arbitrary<Array<CachedContent>> = fc
  .uniqueArray(
    fc.record({
      key: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 8, maxLength: 8 }).map((h) => `SHA256E-s1--${h}`),
      size: fc.integer({ min: 0, max: 10_000 }),
      lastRead: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000_000 })),
      pinned: fc.boolean(),
      copiesElsewhere: fc.integer({ min: 0, max: 3 })
    }),
    { selector: (c) => c.key, maxLength: 15 }
  )

const budget = fc.integer({ min: 0, max: 80_000 })
const minCopies = fc.integer({ min: 0, max: 3 })

const total = (cs: ReadonlyArray<CachedContent>) => cs.reduce((s, c) => s + c.size, 0)

describe("evictionOrder", () => {
  it("never returns pinned keys, nor keys without enough copies elsewhere", () => {
    fc.assert(
      fc.property(cached, budget, minCopies, (cs, b, m) => {
        const byKey = new Map(cs.map((c) => [c.key, c]))
        for (const k of evictionOrder(cs, b, m)) {
          const c = byKey.get(k)
          expect(c, k).toBeDefined()
          expect(c!.pinned, k).toBe(false)
          expect(c!.copiesElsewhere, k).toBeGreaterThanOrEqual(Math.max(1, m))
        }
      }),
      { numRuns: 500 }
    )
  })

  it("returns each key at most once, least recently read first", () => {
    fc.assert(
      fc.property(cached, budget, minCopies, (cs, b, m) => {
        const out = evictionOrder(cs, b, m)
        expect(new Set(out).size).toBe(out.length)
        const byKey = new Map(cs.map((c) => [c.key, c]))
        const reads = out.map((k) => byKey.get(k)!.lastRead)
        expect(reads).toEqual([...reads].sort((x, y) => x - y))
        // nothing eligible that was read earlier than an evicted key is left behind
        const evicted = new Set(out)
        const latestEvicted = Math.max(-1, ...reads)
        for (const c of cs) {
          if (evicted.has(c.key) || c.pinned || c.copiesElsewhere < Math.max(1, m)) continue
          expect(c.lastRead, c.key).toBeGreaterThanOrEqual(latestEvicted)
        }
      }),
      { numRuns: 500 }
    )
  })

  it("stops once under budget, and gets under it when the evictable content allows", () => {
    fc.assert(
      fc.property(cached, budget, minCopies, (cs, b, m) => {
        const out = evictionOrder(cs, b, m)
        const byKey = new Map(cs.map((c) => [c.key, c]))
        const freed = out.reduce((s, k) => s + byKey.get(k)!.size, 0)
        const eligible = cs.filter((c) => !c.pinned && c.copiesElsewhere >= Math.max(1, m))
        if (total(cs) <= b) expect(out).toEqual([])
        // before the last eviction the cache was still over budget: no eviction more than needed
        if (out.length > 0) expect(total(cs) - freed + byKey.get(out[out.length - 1]!)!.size).toBeGreaterThan(b)
        // either under budget now, or everything evictable went
        if (total(cs) - freed > b) expect(out.length).toBe(eligible.length)
      }),
      { numRuns: 500 }
    )
  })

  it("pinned content and last copies stay even far over budget", () => {
    const cs: Array<CachedContent> = [
      { key: "pinned", size: 5000, lastRead: 1, pinned: true, copiesElsewhere: 2 },
      { key: "only-here", size: 5000, lastRead: 0, pinned: false, copiesElsewhere: 0 },
      { key: "old", size: 100, lastRead: 2, pinned: false, copiesElsewhere: 1 },
      { key: "new", size: 100, lastRead: 3, pinned: false, copiesElsewhere: 1 }
    ]
    expect(evictionOrder(cs, 0)).toEqual(["old", "new"])
    expect(evictionOrder(cs, 10_100)).toEqual(["old"])
    expect(evictionOrder(cs, 10_200)).toEqual([])
  })
})

describe("versionFileName", () => {
  it("sorts like the versions' times (ls shows the oldest first) and keeps the extension last", () => {
    fc.assert(
      fc.property(
        // versions close together too: several saves in one second each get their own, ordered name
        fc
          .tuple(fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.uniqueArray(fc.integer({ min: 0, max: 3000 }), { minLength: 2, maxLength: 8 }))
          .map(([t0, ds]) => ds.map((d) => t0 + d)),
        fc.constantFrom("report.pdf", "x.tar.gz", "noext", ".hidden"),
        (times, base) => {
          const sorted = [...times].sort((a, b) => a - b)
          const names = sorted.map((t, i) => versionFileName({ commit: String(9 - i).padEnd(40, "0"), time: t, key: undefined, deleted: false, host: undefined }, base))
          expect([...names].sort()).toEqual(names)
          const dot = base.lastIndexOf(".")
          for (const n of names) if (dot > 0) expect(n.endsWith(base.slice(dot))).toBe(true)
        }
      )
    )
  })
})
