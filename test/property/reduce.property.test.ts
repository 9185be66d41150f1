import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Event, Operation } from "../../src/domain/events.js"
import { isWithin, parentOf, viewPathProblem } from "../../src/domain/paths.js"

/** Tree paths: valid mount paths; `.git` components are allowed (stored escaped), `.sharebox` is refused only at the FUSE edge. */
const badTreePath = (p: string): boolean => {
  const problem = viewPathProblem(p)
  return problem !== undefined && problem !== "reserved"
}
import { Refused, applyInPlace, describeRefusal, reduce, reduceAll } from "../../src/domain/reduce.js"
import { type Node, Tree } from "../../src/domain/tree.js"
import { anyContent, eventNames, eventSequence, nodeOf, show, smallMtime, treeAndEvents, treeOf, treeProblem } from "./arbitraries.js"

/** Start trees over the same small alphabet as the events, so events hit existing paths. */
const startTree: fc.Arbitrary<Tree> = fc.oneof(
  fc.constant(new Tree()),
  treeOf(
    fc.array(fc.constantFrom(...eventNames), { minLength: 1, maxLength: 3 }).map((ns) => ns.join("/")),
    nodeOf(anyContent, smallMtime),
    8
  )
)

const eventPaths: fc.Arbitrary<string> = fc.array(fc.constantFrom(...eventNames), { minLength: 1, maxLength: 3 }).map((ns) => ns.join("/"))

/** Events retargeted at existing paths, or drawn blindly (more invalid and missing paths). */
const scenario: fc.Arbitrary<[Tree, Array<Event>]> = fc.oneof(
  { weight: 3, arbitrary: treeAndEvents(startTree) },
  { weight: 1, arbitrary: fc.tuple(startTree, eventSequence()) }
)

/**
 * A reference model of one operation over a plain map: whether it applies, and the map after it.
 * Stated from POSIX semantics, independently of `applyInPlace`.
 */
/** A file's mode fields as the reference keeps them: `mode` only when not 0644 / 0755. */
const modeFields = (mode: number) => {
  const executable = (mode & 0o100) !== 0
  return mode === (executable ? 0o755 : 0o644) ? { executable } : { executable, mode }
}

const model = (m: Map<string, Node>, e: Operation, time: number, host: string): boolean => {
  const isDir = (p: string) => p === "" || m.get(p)?.type === "dir"
  const exists = (p: string) => p === "" || m.has(p)
  const isEmptyDir = (p: string) => isDir(p) && ![...m.keys()].some((q) => parentOf(q) === p)
  if (badTreePath(e.path)) return false
  switch (e.op) {
    case "write":
      if (!isDir(parentOf(e.path)) || isDir(e.path)) return false
      m.set(e.path, { type: "file", content: e.content, ...modeFields(e.mode ?? (e.executable ? 0o755 : 0o644)), mtime: time, host })
      return true
    case "symlink":
    case "mkdir":
      if (!isDir(parentOf(e.path)) || exists(e.path)) return false
      m.set(e.path, e.op === "mkdir" ? (e.mode === undefined || e.mode === 0o755 ? { type: "dir" } : { type: "dir", mode: e.mode }) : { type: "symlink", target: e.target, mtime: time })
      return true
    case "rmdir":
      if (!isDir(e.path) || !isEmptyDir(e.path)) return false
      m.delete(e.path)
      return true
    case "unlink":
      if (!exists(e.path) || isDir(e.path)) return false
      m.delete(e.path)
      return true
    case "rename": {
      if (badTreePath(e.to) || !exists(e.path)) return false
      if (e.path === e.to) return true
      if (isWithin(e.to, e.path) || !isDir(parentOf(e.to))) return false
      if (exists(e.to) && (isDir(e.path) !== isDir(e.to) || (isDir(e.to) && !isEmptyDir(e.to)))) return false
      m.delete(e.to)
      const moved = [...m].filter(([q]) => isWithin(q, e.path))
      for (const [q] of moved) m.delete(q)
      for (const [q, n] of moved) m.set(e.to + q.slice(e.path.length), n)
      return true
    }
    case "chmod": {
      const n = m.get(e.path)
      if (!exists(e.path)) return false
      const mode = e.mode ?? (e.executable ? 0o755 : 0o644)
      if (e.dir !== true && n?.type === "file") {
        const { mode: _old, ...f } = n
        m.set(e.path, { ...f, ...modeFields(mode) })
      }
      if (e.dir === true && isDir(e.path)) m.set(e.path, mode === 0o755 ? { type: "dir" } : { type: "dir", mode })
      return true
    }
    case "utimens": {
      const n = m.get(e.path)
      if (!exists(e.path)) return false
      if (n && n.type !== "dir") m.set(e.path, { ...n, mtime: e.mtime })
      return true
    }
  }
}

const showMap = (m: Map<string, Node>): Array<string> => show(Tree.from([...m].sort(([a], [b]) => a.split("/").length - b.split("/").length)))

describe("reduce", () => {
  it("is total: it never throws, a rejected event changes nothing, and the tree stays well-formed", () => {
    fc.assert(
      fc.property(scenario, ([t0, es]) => {
        let t = t0
        for (const e of es) {
          const before = show(t)
          const r = reduce(t, e)
          expect(show(t)).toEqual(before) // the input is never mutated
          if (r.rejected) {
            expect(r.rejected.event).toBe(e)
            expect(typeof r.rejected.reason).toBe("string")
            expect(show(r.tree)).toEqual(before)
          }
          expect(treeProblem(r.tree)).toBeUndefined()
          t = r.tree
        }
      }),
      { numRuns: 400 }
    )
  })

  it("agrees with a reference model on which events apply and on the tree after each", () => {
    fc.assert(
      fc.property(scenario, ([t0, es]) => {
        const m = new Map(t0.entries())
        let t = t0
        for (const e of es) {
          const applies = model(m, e, e.time, e.host)
          const r = reduce(t, e)
          expect(r.rejected === undefined, `${JSON.stringify(e)} -> ${r.rejected?.reason}`).toBe(applies)
          t = r.tree
          expect(show(t)).toEqual(showMap(m))
        }
      }),
      { numRuns: 400 }
    )
  })

  it("is deterministic, and reduceAll is the fold of reduce", () => {
    fc.assert(
      fc.property(scenario, ([t0, es]) => {
        const a = reduceAll(t0, es)
        const b = reduceAll(t0.clone(), es)
        let t = t0
        const rejected: Array<Event> = []
        for (const e of es) {
          const r = reduce(t, e)
          if (r.rejected) rejected.push(e)
          t = r.tree
        }
        expect(show(a.tree)).toEqual(show(b.tree))
        expect(a.rejected).toEqual(b.rejected)
        expect(show(a.tree)).toEqual(show(t))
        expect(a.rejected.map((r) => r.event)).toEqual(rejected)
        expect(treeProblem(a.tree)).toBeUndefined()
      }),
      { numRuns: 300 }
    )
  })

  it("tells a tree's onAdd every path it gains, so a mirror of the names never misses one", () => {
    // the FUSE binding answers lookups of names outside such a mirror itself (src/fuse/mount.ts)
    fc.assert(
      fc.property(scenario, fc.array(fc.tuple(eventPaths, nodeOf(anyContent, smallMtime)), { maxLength: 6 }), ([t0, es], sets) => {
        const t = t0.clone()
        const told = new Set(t.paths())
        t.onAdd = (p) => told.add(p)
        for (const e of es) {
          applyInPlace(t, e, e.time, e.host)
          for (const p of t.paths()) expect(told.has(p), `${p} after ${e.op} ${e.path}`).toBe(true)
        }
        // set directly, as a loaded tree and open files are, making missing parents on the way
        for (const [p, n] of sets) {
          t.set(p, n)
          for (const q of t.paths()) expect(told.has(q), `${q} after set ${p}`).toBe(true)
        }
      }),
      { numRuns: 400 }
    )
  })
})

describe("reduce, case by case", () => {
  const at = (op: Operation, time = 5): Event => ({ ...op, v: 1, seq: 1, host: "h", time }) as Event
  const file = (mtime = 1): Node => ({ type: "file", content: { kind: "key", key: "SHA256E-s1--ab" }, executable: false, mtime })
  const tree = (...entries: Array<[string, Node]>) => Tree.from(entries)

  it("renaming a directory moves its whole subtree", () => {
    const t = tree(["d", { type: "dir" }], ["d/e", { type: "dir" }], ["d/e/f", file()], ["d/g", file(2)], ["x", file(3)])
    const r = reduce(t, at({ op: "rename", path: "d", to: "n" }))
    expect(r.rejected).toBeUndefined()
    expect(show(r.tree)).toEqual(show(tree(["n", { type: "dir" }], ["n/e", { type: "dir" }], ["n/e/f", file()], ["n/g", file(2)], ["x", file(3)])))
    expect(treeProblem(r.tree)).toBeUndefined()
  })

  it("renaming a directory over an empty directory replaces it", () => {
    const t = tree(["d/f", file()], ["e", { type: "dir" }])
    const r = reduce(t, at({ op: "rename", path: "d", to: "e" }))
    expect(r.rejected).toBeUndefined()
    expect(show(r.tree)).toEqual(show(tree(["e/f", file()])))
  })

  it("a write records its event's host as the file's writer; chmod, utimens and rename keep it", () => {
    const w: Operation = { op: "write", path: "f", content: { kind: "staged", id: "s", size: 1 }, executable: false, base: null }
    const at2 = (op: Operation, host: string): Event => ({ ...op, v: 1, seq: 1, host, time: 7 }) as Event
    const r = reduceAll(tree(), [
      at2(w, "uuid-a"),
      at2({ op: "chmod", path: "f", executable: true }, "uuid-b"),
      at2({ op: "utimens", path: "f", mtime: 9 }, "uuid-b"),
      at2({ op: "rename", path: "f", to: "g" }, "uuid-b")
    ])
    expect(r.tree.get("g")).toEqual({ type: "file", content: { kind: "staged", id: "s", size: 1 }, executable: true, mtime: 9, host: "uuid-a" })
    // an operation without an event around it writes a file with no writer
    const t = tree()
    applyInPlace(t, w, 3)
    expect(t.get("f")).toEqual({ type: "file", content: { kind: "staged", id: "s", size: 1 }, executable: false, mtime: 3 })
  })

  it("removing a non-empty directory is rejected", () => {
    const t = tree(["d/f", file()])
    const r = reduce(t, at({ op: "rmdir", path: "d" }))
    expect(r.rejected?.reason).toBe("directory not empty")
    expect(r.tree).toBe(t)
  })

  it("renaming a directory into its own subtree is rejected", () => {
    const t = tree(["d/e", { type: "dir" }])
    for (const to of ["d/e/d", "d/x"]) {
      const r = reduce(t, at({ op: "rename", path: "d", to }))
      expect(r.rejected?.reason).toBe("cannot move a directory into itself")
      expect(show(r.tree)).toEqual(show(t))
    }
  })

  it("renaming onto a non-empty directory, or a file over a directory, is rejected", () => {
    const t = tree(["d/f", file()], ["e/g", file()], ["h", file()])
    expect(reduce(t, at({ op: "rename", path: "d", to: "e" })).rejected?.reason).toBe("directory not empty")
    expect(reduce(t, at({ op: "rename", path: "h", to: "e" })).rejected?.reason).toBe("is a directory")
    expect(reduce(t, at({ op: "rename", path: "d", to: "h" })).rejected?.reason).toBe("not a directory")
  })

  it("writing below a file or over a directory is rejected", () => {
    const t = tree(["f", file()], ["d", { type: "dir" }])
    const w = (path: string): Operation => ({ op: "write", path, content: { kind: "staged", id: "s", size: 1 }, executable: false, base: null })
    expect(reduce(t, at(w("f/x"))).rejected?.reason).toBe("parent is not a directory")
    expect(reduce(t, at(w("d"))).rejected?.reason).toBe("is a directory")
    expect(reduce(t, at(w("d/x"))).tree.get("d/x")).toEqual({ type: "file", content: { kind: "staged", id: "s", size: 1 }, executable: false, mtime: 5, host: "h" })
  })
})

describe("refusals", () => {
  it("each rejection carries its refusal's tag, and its reason is that refusal in words", () => {
    fc.assert(
      fc.property(fc.tuple(startTree, eventSequence()), ([t, es]) => {
        for (const r of reduceAll(t, es).rejected) {
          expect(Object.values(Refused)).toContain(r.refusal)
          expect(r.reason).toBe(describeRefusal(r.refusal))
        }
      })
    )
  })
})
