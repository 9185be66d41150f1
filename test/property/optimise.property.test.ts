import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Event, Operation } from "../../src/domain/events.js"
import { optimise } from "../../src/domain/optimise.js"
import { ancestorsOf, isTreePath } from "../../src/domain/paths.js"
import { reduceAll } from "../../src/domain/reduce.js"
import { type Content, type Node, Tree, contentId } from "../../src/domain/tree.js"
import { anyContent, eventNames, eventSequence, nodeOf, show, smallMtime, treeAndEvents, treeOf, treeEvent } from "./arbitraries.js"
import { editors } from "./fixtures/editors.js"

/** Start trees over the events' alphabet, so events hit existing paths of every kind. */
const startTree: fc.Arbitrary<Tree> = fc.oneof(
  fc.constant(new Tree()),
  treeOf(
    fc.array(fc.constantFrom(...eventNames), { minLength: 1, maxLength: 3 }).map((ns) => ns.join("/")),
    nodeOf(anyContent, smallMtime),
    8
  )
)

/**
 * Logs the rules fire on: few paths, the same contents again, chmods, touches and unlinks of what
 * was just written. Half the events are retargeted at existing paths (see `treeAndEvents`).
 */
const dense: fc.Arbitrary<[Tree, Array<Event>]> = fc
  .tuple(
    startTree,
    fc.array(
      fc.tuple(
        fc.constantFrom<Operation["op"]>("write", "write", "write", "unlink", "unlink", "chmod", "utimens", "mkdir", "rmdir", "rename", "symlink"),
        fc.constantFrom("a", "b", "a/b", "b/a"),
        fc.constantFrom("a", "b", "a/b", "b/a"),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean()
      ),
      { maxLength: 24 }
    )
  )
  .map(([t, specs]) => [
    t,
    specs.map(([op, path, to, n, x], i): Event => {
      const stamp = { v: 1, seq: i + 1, host: "h", time: 1000 + i }
      const content: Content = { kind: "staged", id: `s${n}`, size: n }
      switch (op) {
        case "write":
          return { op, path, content, executable: x, base: null, ...stamp }
        case "rename":
          return { op, path, to, ...stamp }
        case "symlink":
          return { op, path, target: "t", ...stamp }
        case "chmod":
          // files' chmods, with the default modes or others, and directories' (n: 0, 1, 2, ...)
          return n % 3 === 2 ? { op, path, executable: x, mode: x ? 0o700 : 0o600, dir: true, ...stamp } : n % 3 === 1 ? { op, path, executable: x, mode: x ? 0o711 : 0o640, ...stamp } : { op, path, executable: x, ...stamp }
        case "utimens":
          return { op, path, mtime: n, ...stamp }
        default:
          return { op, path, ...stamp } as Event
      }
    })
  ])

const scenarios: fc.Arbitrary<[Tree, Array<Event>]> = fc.oneof(
  { weight: 3, arbitrary: treeAndEvents(startTree) },
  { weight: 1, arbitrary: fc.tuple(startTree, eventSequence()) },
  { weight: 3, arbitrary: dense }
)

const same = (t: Tree, a: ReadonlyArray<Event>, b: ReadonlyArray<Event>): void => {
  expect(show(reduceAll(t, b).tree)).toEqual(show(reduceAll(t, a).tree))
}

const file = (id: string): Node => ({ type: "file", content: { kind: "staged", id, size: 1 }, executable: false, mtime: 1 })

/** Events identified by who recorded them and when. */
const id = (e: Event) => `${e.host}#${e.seq}#${e.time}`

describe("optimise", () => {
  it("law: for every tree, replaying the optimised log gives the same tree (writers included) as the raw log", () => {
    fc.assert(
      fc.property(scenarios, ([t, es]) => same(t, es, optimise(es))),
      { numRuns: 4000 }
    )
  })

  it("law, also over trees the log was not recorded on (any node at any path it names)", () => {
    fc.assert(
      fc.property(dense, treeOf(fc.constantFrom("a", "b", "a/b", "b/a", "a/a", "b/b"), nodeOf(anyContent, smallMtime), 6), ([, es], t) =>
        same(t, es, optimise(es))
      ),
      { numRuns: 3000 }
    )
  })

  it("keeps surviving events as they were, in order; only a write may take a later chmod's mode; idempotent", () => {
    fc.assert(
      fc.property(scenarios, ([, es]) => {
        const o = optimise(es)
        const byId = new Map(es.map((e) => [id(e), e]))
        const positions = o.map((e) => es.findIndex((x) => id(x) === id(e)))
        expect(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!))).toBe(true)
        for (const e of o) {
          const was = byId.get(id(e))!
          const sameBut = (x: Event) => (x.op === "write" ? { ...x, executable: undefined, mode: undefined } : x)
          expect(sameBut(e)).toEqual(sameBut(was))
        }
        expect(optimise(o)).toEqual(o)
      }),
      { numRuns: 2000 }
    )
  })

  it("never drops a version: a dropped write is of a path unlinked later, written again with the same content, or invalid", () => {
    fc.assert(
      fc.property(scenarios, ([, es]) => {
        const kept = new Set(optimise(es).map(id))
        es.forEach((e, i) => {
          if (e.op !== "write" || kept.has(id(e))) return
          const later = es.slice(i + 1)
          const justified = !isTreePath(e.path) || later.some(
            (x) => (x.op === "unlink" && x.path === e.path) || (x.op === "write" && x.path === e.path && contentId(x.content) === contentId(e.content))
          )
          expect(justified, `dropped ${JSON.stringify(e)}`).toBe(true)
        })
      }),
      { numRuns: 2000 }
    )
  })
})

describe("optimise, rule by rule", () => {
  let seq = 0
  const ev = (op: Operation): Event => ({ ...op, v: 1, seq: ++seq, host: "h", time: 1000 + seq }) as Event
  const w = (path: string, id: string, executable = false) => ev({ op: "write", path, content: { kind: "staged", id, size: 1 }, executable, base: null })

  it("a file created and removed leaves only the unlink, which a second round drops when an earlier unlink proves the path empty", () => {
    const [a, b, c] = [w("f", "1"), w("f", "2"), ev({ op: "unlink", path: "f" })]
    expect(optimise([a, b, c])).toEqual([c])
    const d = ev({ op: "unlink", path: "f" })
    const [e, f] = [w("f", "3"), ev({ op: "unlink", path: "f" })]
    expect(optimise([d, e, f])).toEqual([d])
  })

  it("the unlink stays: on a tree that already had the file, the log removes it", () => {
    const es = [w("f", "1"), ev({ op: "unlink", path: "f" })]
    same(Tree.from([["f", file("0")]]), es, optimise(es))
    expect(optimise(es)).toHaveLength(1)
  })

  it("chmods and utimens overwritten later go; a chmod right after a write is folded into it", () => {
    const es = [
      w("f", "1"),
      ev({ op: "utimens", path: "f", mtime: 5 }),
      ev({ op: "chmod", path: "f", executable: true }),
      ev({ op: "chmod", path: "f", executable: false }),
      ev({ op: "chmod", path: "f", executable: true })
    ]
    const o = optimise(es)
    expect(o.map((e) => e.op)).toEqual(["write", "utimens"])
    expect(o[0]).toMatchObject({ seq: es[0]!.seq, executable: true })
    expect(optimise([ev({ op: "chmod", path: "g", executable: true }), w("g", "2")]).map((e) => e.op)).toEqual(["write"])
  })

  it("writes of the same content collapse to the last; writes of different contents are all kept", () => {
    const es = [w("f", "1"), w("x", "9"), w("f", "1"), w("f", "2"), w("f", "2"), w("f", "3")]
    expect(optimise(es).map((e) => e.seq)).toEqual([es[1]!.seq, es[2]!.seq, es[4]!.seq, es[5]!.seq])
  })

  it("a directory made and removed leaves only the rmdir", () => {
    const es = [ev({ op: "mkdir", path: "d" }), w("d/f", "1"), ev({ op: "unlink", path: "d/f" }), ev({ op: "rmdir", path: "d" })]
    same(new Tree(), es, optimise(es))
    expect(optimise(es).map((e) => e.op)).not.toContain("write")
  })

  it("rename chains are kept: a -> b -> c is not a -> c on a tree that has b", () => {
    const es = [ev({ op: "rename", path: "a", to: "b" }), ev({ op: "rename", path: "b", to: "c" })]
    expect(optimise(es)).toEqual(es)
    const t = Tree.from([["a", file("A")], ["b", file("B")]])
    expect(show(reduceAll(t, [ev({ op: "rename", path: "a", to: "c" })]).tree)).not.toEqual(show(reduceAll(t, es).tree))
  })

  it("events no tree accepts and renames to the same path go", () => {
    const es = [ev({ op: "unlink", path: "a//b" }), ev({ op: "rename", path: "a", to: "a" }), ev({ op: "rename", path: "a", to: "/x" }), w("", "1")]
    expect(optimise(es)).toEqual([])
  })
})

describe("optimise, editors saving a file (test/property/fixtures/editors.ts)", () => {
  /** Every path a log names, and their parent directories. */
  const pathsOf = (es: ReadonlyArray<Event>) => {
    const ps = new Set<string>()
    for (const e of es) for (const p of e.op === "rename" ? [e.path, e.to] : [e.path]) for (const q of [...ancestorsOf(p), p]) ps.add(q)
    return [...ps].sort()
  }

  it("the law holds for every editor's log over any tree on its paths (temporary names taken, directories where files were)", () => {
    for (const { events } of editors) {
      const paths = pathsOf(events)
      fc.assert(
        fc.property(treeOf(fc.constantFrom(...paths), nodeOf(anyContent, smallMtime), 8), (t) => same(t, events, optimise(events))),
        { numRuns: 300 }
      )
    }
  })

  it("reports how much of each editor's save dance the optimiser drops", () => {
    const lines: Array<string> = []
    let [before, after] = [0, 0]
    for (const { name, events } of editors) {
      const o = optimise(events)
      const writes = (es: ReadonlyArray<Event>) => es.filter((e) => e.op === "write").length
      // the file being edited exists before the log starts
      const start = Tree.from(
        pathsOf(events)
          .filter((p) => /(^|\/)(notes\.txt|report\.odt|config\.ini)$/.test(p))
          .map((p): [string, Node] => [p, file("orig")])
      )
      same(start, events, o)
      expect(reduceAll(start, events).rejected).toEqual([])
      lines.push(
        `${name.padEnd(12)} ${String(events.length).padStart(3)} -> ${String(o.length).padStart(3)} events ` +
          `(${Math.round((100 * (events.length - o.length)) / events.length)}% dropped), ` +
          `${writes(events)} -> ${writes(o)} writes, ${reduceAll(start, o).rejected.length} left that are no-ops here`
      )
      before += events.length
      after += o.length
    }
    lines.push(`${"all".padEnd(12)} ${String(before).padStart(3)} -> ${String(after).padStart(3)} events (${Math.round((100 * (before - after)) / before)}% dropped)`)
    console.log(`optimise on editor save dances:\n  ${lines.join("\n  ")}`)
  })
})

describe("treeEvent sanity", () => {
  it("the generators produce events the optimiser changes", () => {
    // guards against a generator change that would make the law vacuous
    let changed = 0
    fc.assert(
      fc.property(fc.oneof(dense, treeAndEvents(startTree)), ([, es]) => {
        if (optimise(es).length < es.length) changed++
      }),
      { numRuns: 500 }
    )
    expect(changed).toBeGreaterThan(100)
    void treeEvent
  })
})
