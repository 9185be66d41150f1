/**
 * The revert's plan (src/domain/revert.ts): applied to the current tree, it gives the past subtree
 * under the path (kinds, contents, targets, modes) and leaves everything else as it was.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ancestorsOf, isWithin } from "../../src/domain/paths.js"
import { applyInPlace } from "../../src/domain/reduce.js"
import { revertLines, revertPlan } from "../../src/domain/revert.js"
import { type Node, Tree, contentId, dirMode, fileMode, sameStored } from "../../src/domain/tree.js"
import { blobContent, keyContent, anyContent, nodeOf, smallMtime, treeOf, treePath, treeProblem } from "./arbitraries.js"

/** What a revert brings back of a node: not its times, nor its writer. */
const shape = (n: Node | undefined): string =>
  n === undefined ? "none" : n.type === "dir" ? `dir ${dirMode(n).toString(8)}` : n.type === "symlink" ? `-> ${n.target}` : `${contentId(n.content)} ${fileMode(n).toString(8)}`

// the past is committed: its content is annexed or a git blob, never staged
const pastTree = treeOf(treePath, nodeOf(fc.oneof(keyContent, blobContent), smallMtime))
const currentTree = treeOf(treePath, nodeOf(anyContent, smallMtime))
const target = fc.oneof({ weight: 1, arbitrary: fc.constant("") }, { weight: 4, arbitrary: treePath })

const applied = (t: Tree, plan: ReturnType<typeof revertPlan>): Tree => {
  if (!plan.ok) throw new Error(plan.reason)
  const out = t.clone()
  for (const op of plan.ops) {
    const refusal = applyInPlace(out, op, 1_800_000_000_000)
    if (refusal) throw new Error(`${op.op} ${op.path}: refused (${refusal._tag})`)
  }
  return out
}

describe("revertPlan", () => {
  it("applied to the current tree, gives the past subtree under the path and leaves everything else alone", () => {
    fc.assert(
      fc.property(pastTree, currentTree, target, (past, current, path) => {
        const plan = revertPlan(past, current, path)
        if (!plan.ok) {
          // refused only when a folder above the path is something else now
          expect(ancestorsOf(path).some((a) => current.has(a) && !current.isDir(a)) && past.has(path)).toBe(true)
          return
        }
        const after = applied(current, plan)
        expect(treeProblem(after)).toBeUndefined()
        const all = new Set([...past.paths(), ...current.paths(), ...after.paths()])
        for (const p of all) {
          if (path === "" || isWithin(p, path)) expect(shape(after.get(p)), p).toBe(shape(past.get(p)))
          else if (isWithin(path, p) && past.has(path)) {
            // a folder above the path: kept when it is there, made when it is not
            expect(after.isDir(p), p).toBe(true)
            if (current.has(p)) expect(sameStored(after.get(p), current.get(p)), p).toBe(true)
          } else expect(sameStored(after.get(p), current.get(p)), p).toBe(true)
        }
      }),
      { numRuns: 2000 }
    )
  })

  it("changes nothing the second time, nor when nothing changed since", () => {
    fc.assert(
      fc.property(pastTree, currentTree, target, (past, current, path) => {
        expect(revertPlan(past, past, path)).toEqual({ ok: true, ops: [] })
        const plan = revertPlan(past, current, path)
        if (!plan.ok) return
        expect(revertPlan(past, applied(current, plan), path)).toEqual({ ok: true, ops: [] })
      }),
      { numRuns: 1000 }
    )
  })

  it("lists one line per operation, each naming its path", () => {
    fc.assert(
      fc.property(pastTree, currentTree, target, (past, current, path) => {
        const plan = revertPlan(past, current, path)
        if (!plan.ok) return
        const lines = revertLines(plan.ops)
        expect(lines.length).toBe(plan.ops.length)
        lines.forEach((l, i) => expect(l.endsWith(` ${plan.ops[i]!.path}`)).toBe(true))
      })
    )
  })

  it("a file created since is removed, a deleted one comes back, a changed one gets its old content and mode", () => {
    const k = (i: number) => ({ kind: "key" as const, key: `SHA256E-s${i}--${String(i).repeat(64)}.txt` })
    const f = (i: number, mode?: number): Node => ({ type: "file", content: k(i), executable: mode !== undefined && (mode & 0o100) !== 0, ...(mode ? { mode } : {}), mtime: 0 })



    const past = Tree.from([["d", { type: "dir" }], ["d/kept", f(1)], ["d/changed", f(2, 0o600)], ["d/deleted", f(3)], ["elsewhere", f(4)]])
    const current = Tree.from([["d", { type: "dir" }], ["d/kept", f(1)], ["d/changed", f(5)], ["d/new", f(6)], ["elsewhere", f(7)]])
    const plan = revertPlan(past, current, "d")
    expect(plan.ok && revertLines(plan.ops)).toEqual(["unlink  d/new", "write   d/changed", "create  d/deleted"])
  })
})
