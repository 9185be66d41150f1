import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { compareTrees, conflictName, merge, openConflicts, parseConflictName, sanitiseLabel, settle, textMergeKey } from "../../src/domain/merge.js"
import { baseName, isWithin, joinPath, nameProblem, parentOf, viewPathProblem } from "../../src/domain/paths.js"
import { type Content, type FileNode, type Node, Tree, contentId, dirWithMode, withFileMode } from "../../src/domain/tree.js"
import { anyContent, anyHost, anyMode, boundaryName, mountName, nodeOf, show, smallMtime, treeOf, treeProblem } from "./arbitraries.js"

/** A name just under the 255-byte limit (83 three-byte characters and an extension). */
const longName = "長".repeat(83) + ".pdf"

/** Few names, depth two: both sides keep touching the same few paths. */
const mergePath = fc
  .array(fc.constantFrom("a", "b", "c.txt", longName), { minLength: 1, maxLength: 3 })
  .map((ns) => ns.slice(0, ns.length === 3 ? 2 : ns.length).join("/"))
const mergeNode = nodeOf(anyContent, smallMtime, anyHost)
const baseTree = treeOf(mergePath, mergeNode, 8)

type Edit =
  | { readonly kind: "set"; readonly path: string; readonly node: Node }
  | { readonly kind: "delete"; readonly path: string }
  | { readonly kind: "move"; readonly from: string; readonly to: string }
  | { readonly kind: "chmod"; readonly path: string; readonly mode: number }

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("set" as const), path: mergePath, node: mergeNode }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), path: mergePath }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("move" as const), from: mergePath, to: mergePath }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("chmod" as const), path: mergePath, mode: anyMode }) }
)

/** One host's offline edits to the common base. */
const edited = (t: Tree, edits: ReadonlyArray<Edit>): Tree => {
  const n = t.clone()
  for (const e of edits) {
    if (e.kind === "set") n.set(e.path, e.node)
    else if (e.kind === "delete") n.delete(e.path)
    else if (e.kind === "chmod") {
      const f = n.get(e.path)
      if (f?.type === "file") n.set(e.path, withFileMode(f, e.mode))
      else if (f?.type === "dir") n.set(e.path, dirWithMode(e.mode))
    } else if (n.has(e.from) && !isWithin(e.to, e.from) && n.isDir(parentOf(e.to))) n.move(e.from, e.to)
  }
  return n
}

/** A base and two sides that diverged from it (or, sometimes, three unrelated trees). */
const threeTrees: fc.Arbitrary<[Tree, Tree, Tree]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(baseTree, fc.array(edit, { maxLength: 5 }), fc.array(edit, { maxLength: 5 }))
      .map(([b, eo, et]): [Tree, Tree, Tree] => [b, edited(b, eo), edited(b, et)])
  },
  { weight: 1, arbitrary: fc.tuple(baseTree, baseTree, baseTree) }
)

const contentIds = (t: Tree): Set<string> => {
  const out = new Set<string>()
  for (const [, n] of t.entries()) if (n.type === "file") out.add(contentId(n.content))
  return out
}

const fileAt = (t: Tree, p: string, id: string): boolean => {
  const n = t.get(p)
  return n?.type === "file" && contentId(n.content) === id
}

describe("merge laws", () => {
  it("identity: merge(b, b, y) = y, merge(b, x, b) = x, merge(b, x, x) = x, with no conflicts", () => {
    fc.assert(
      fc.property(threeTrees, ([b, x, y]) => {
        for (const [r, want] of [
          [merge(b, b, y), y],
          [merge(b, x, b), x],
          [merge(b, x, x), x]
        ] as const) {
          expect(show(r.tree)).toEqual(show(want))
          expect(r.conflicts).toEqual([])
        }
      }),
      { numRuns: 1000 }
    )
  })

  it("symmetry: the merged tree (writers included) and its conflict copies do not depend on which side is ours", () => {
    fc.assert(
      fc.property(threeTrees, ([b, x, y]) => {
        const [xy, yx] = [merge(b, x, y), merge(b, y, x)]
        expect(show(xy.tree)).toEqual(show(yx.tree))
        expect(xy.conflicts).toEqual(yx.conflicts)
      }),
      { numRuns: 2000 }
    )
  })

  it("no lost write: content either side introduced is in the result, at its path, where the other side renamed that path, or in a conflict copy of either", () => {
    fc.assert(
      fc.property(threeTrees, ([b, x, y]) => {
        const r = merge(b, x, y)
        const inResult = contentIds(r.tree)
        const inBase = contentIds(b)
        for (const [side, other] of [
          [x, y],
          [y, x]
        ]) {
          for (const [p, n] of side.entries()) {
            if (n.type !== "file" || inBase.has(contentId(n.content))) continue
            const id = contentId(n.content)
            expect(inResult.has(id), `${id} from ${JSON.stringify(p)}`).toBe(true)
            // a change in place follows the other side's rename of the file it changed
            const was = b.get(p)
            const renamedTo = [...other.entries()]
              .filter(([q, m]) => q !== p && was?.type === "file" && m.type === "file" && contentId(m.content) === contentId(was.content))
              .map(([q]) => q)
            const kept = [p, ...renamedTo].some((q) => fileAt(r.tree, q, id) || r.conflicts.some((c) => c.path === q && fileAt(r.tree, c.copy, id)))
            expect(kept, `${id} at ${JSON.stringify(p)}`).toBe(true)
          }
        }
      }),
      { numRuns: 2000 }
    )
  })

  it("the result is well-formed, every conflict copy sits beside its path, and openConflicts lists it", () => {
    fc.assert(
      fc.property(threeTrees, ([b, x, y]) => {
        const r = merge(b, x, y)
        expect(treeProblem(r.tree)).toBeUndefined()
        for (const p of r.tree.paths()) expect(viewPathProblem(p), JSON.stringify(p)).toBeUndefined()
        const open = openConflicts(r.tree)
        for (const c of r.conflicts) {
          expect(parentOf(c.copy)).toBe(parentOf(c.path))
          expect(r.tree.get(c.copy)?.type).not.toBe("dir")
          const listed = open.find((o) => o.copy === c.copy)
          expect(listed, c.copy).toBeDefined()
          // a name shortened to fit 255 bytes gives back its shortened original
          if (Buffer.byteLength(baseName(c.copy)) < 240) expect(listed!.path).toBe(c.path)
        }
      }),
      { numRuns: 1000 }
    )
  })
})

/**
 * Text merges for every edit / edit conflict of files the three trees hold at one path (as
 * effects/textmerging.ts offers them when all three are texts that merge): a content made from the
 * triple, the same whichever side is ours.
 */
const allTextMerged = (b: Tree, x: Tree, y: Tree): Map<string, Content> => {
  const out = new Map<string, Content>()
  for (const c of merge(b, x, y).conflicts) {
    const [n, o, t] = [b.get(c.path), x.get(c.path), y.get(c.path)]
    if (n?.type !== "file" || o?.type !== "file" || t?.type !== "file") continue
    const k = textMergeKey(n.content, o.content, t.content)
    out.set(k, { kind: "key", key: `SHA256E-s1--merged-${[...k].reduce((h, ch) => (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0, 7).toString(16)}` })
  }
  return out
}

const textFile: fc.Arbitrary<Node> = fc
  .tuple(anyContent, smallMtime, anyHost, fc.boolean())
  .map(([content, mtime, host, executable]) => (host === undefined ? { type: "file", content, executable, mtime } : { type: "file", content, executable, mtime, host }))

/** Three trees where both sides also changed one text, t.txt, of the base: text merges happen. */
const withEditEdit: fc.Arbitrary<[Tree, Tree, Tree]> = fc
  .tuple(threeTrees, textFile, textFile, textFile)
  .map(([[b, x, y], f0, f1, f2]): [Tree, Tree, Tree] => {
    const [b2, x2, y2] = [b.clone(), x.clone(), y.clone()]
    b2.set("t.txt", f0)
    x2.set("t.txt", f1)
    y2.set("t.txt", f2)
    return [b2, x2, y2]
  })
const textTrees = fc.oneof(threeTrees, withEditEdit)

describe("merge laws with text merges", () => {
  it("identity: merge(b, b, y) = y, merge(b, x, b) = x, merge(b, x, x) = x, whatever text merges are offered", () => {
    fc.assert(
      fc.property(textTrees, ([b, x, y]) => {
        const textMerged = allTextMerged(b, x, y)
        expect(show(merge(b, b, y, { textMerged }).tree)).toEqual(show(y))
        expect(show(merge(b, x, b, { textMerged }).tree)).toEqual(show(x))
        expect(show(merge(b, x, x, { textMerged }).tree)).toEqual(show(x))
      }),
      { numRuns: 1000 }
    )
  })

  it("symmetry: the same tree and conflicts whichever side is ours", () => {
    fc.assert(
      fc.property(textTrees, ([b, x, y]) => {
        const textMerged = allTextMerged(b, x, y)
        const [xy, yx] = [merge(b, x, y, { textMerged }), merge(b, y, x, { textMerged })]
        expect(show(xy.tree)).toEqual(show(yx.tree))
        expect(xy.conflicts).toEqual(yx.conflicts)
        expect(treeProblem(xy.tree)).toBeUndefined()
      }),
      { numRuns: 2000 }
    )
  })

  it("no lost write: content either side introduced is in the result, or a text merge of it is; text merges never add conflicts", () => {
    let used = 0
    fc.assert(
      fc.property(textTrees, ([b, x, y]) => {
        const textMerged = allTextMerged(b, x, y)
        const [plain, r] = [merge(b, x, y), merge(b, x, y, { textMerged })]
        const inResult = contentIds(r.tree)
        const inBase = contentIds(b)
        const mergedIds = new Set([...textMerged.values()].map(contentId))
        const usedMerges = [...inResult].filter((id) => mergedIds.has(id))
        for (const side of [x, y]) {
          for (const [, n] of side.entries()) {
            if (n.type !== "file" || inBase.has(contentId(n.content)) || inResult.has(contentId(n.content))) continue
            // gone only into a text merge that is in the result
            const into = [...textMerged].filter(([k]) => k.split("\0").slice(1).includes(contentId(n.content))).map(([, c]) => contentId(c))
            expect(into.some((id) => inResult.has(id)), contentId(n.content)).toBe(true)
          }
        }
        expect(r.conflicts.length).toBeLessThanOrEqual(plain.conflicts.length)
        used += usedMerges.length
      }),
      { numRuns: 2000 }
    )
    expect(used, "text merges taken in 2000 runs").toBeGreaterThan(50)
  })
})

describe("settle", () => {
  it("orders trees totally: antisymmetric, transitive, zero only for identical trees; settle picks the same tree from either side", () => {
    const t3 = fc.tuple(baseTree, baseTree, baseTree)
    fc.assert(
      fc.property(fc.oneof(t3, threeTrees), ([a, b, c]) => {
        const sign = (n: number) => Math.sign(n)
        expect(sign(compareTrees(a, b)) + sign(compareTrees(b, a))).toBe(0)
        expect(compareTrees(a, a)).toBe(0)
        expect(compareTrees(a, b) === 0).toBe(JSON.stringify(show(a)) === JSON.stringify(show(b)))
        if (compareTrees(a, b) <= 0 && compareTrees(b, c) <= 0) expect(compareTrees(a, c)).toBeLessThanOrEqual(0)
        expect(show(settle(a, b))).toEqual(show(settle(b, a)))
      }),
      { numRuns: 2000 }
    )
  })
})

describe("conflict copy names", () => {
  it("are valid names beside the original, with the extension kept last", () => {
    const tag = fc.tuple(fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 6, maxLength: 6 }), fc.option(fc.integer({ min: 2, max: 99 })))
    fc.assert(
      fc.property(fc.oneof(mountName, boundaryName, fc.constant(longName)), fc.constantFrom("", "d", "d/e"), tag, (name, dir, [hex, n]) => {
        if (nameProblem(name) !== undefined) return
        const t = n === null ? hex : `${hex}-${n}`
        const p = joinPath(dir, name)
        const copy = conflictName(p, t)
        expect(nameProblem(baseName(copy)), JSON.stringify(copy)).toBeUndefined()
        expect(parentOf(copy)).toBe(dir)
        expect(baseName(copy)).toContain(`.conflict-${t}`)
        const ext = /(\.[^.]{1,8})$/.exec(name)?.[1]
        if (ext && name.indexOf(".") < name.length - ext.length) expect(copy.endsWith(`.conflict-${t}${ext}`)).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })

  it("parse back to their original, label and tag; any label becomes letters, digits and _", () => {
    fc.assert(
      fc.property(
        fc.oneof(mountName, fc.constant(longName)),
        fc.constantFrom("", "d", "d/e"),
        fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("laptop", "my-laptop", "日本", "a.b", "../x", "", "---")),
        fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 6, maxLength: 6 }),
        fc.option(fc.integer({ min: 2, max: 99 }), { nil: undefined }),
        (name, dir, rawLabel, hex, n) => {
          if (nameProblem(name) !== undefined) return
          const label = sanitiseLabel(rawLabel)
          expect(label).toMatch(/^[\p{L}\p{N}_]{1,32}$/u)
          const p = joinPath(dir, name)
          const copy = conflictName(p, n === undefined ? `${label}-${hex}` : `${label}-${hex}-${n}`)
          const parsed = parseConflictName(copy)
          expect(parsed, copy).toBeDefined()
          expect(parsed!.label).toBe(label)
          expect(parsed!.tag).toBe(hex)
          if (Buffer.byteLength(baseName(copy)) < 240) expect(parsed!.original).toBe(p)
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("regression: a conflict copy of a name near 255 bytes is shortened, not made invalid", () => {
    // found by the well-formedness property (shrunk): a directory on one side and a symlink on the
    // other at a 253-byte name gave a 269-byte conflict copy
    const x = Tree.from([[`${longName}/a`, { type: "dir" }]])
    const y = Tree.from([[longName, { type: "symlink", target: "a", mtime: 1_700_000_000_000 }]])
    const r = merge(new Tree(), x, y)
    expect(r.conflicts).toHaveLength(1)
    const copy = r.conflicts[0]!.copy
    expect(viewPathProblem(copy)).toBeUndefined()
    expect(copy).toMatch(/^長+\.conflict-unknown-[0-9a-f]{6}\.pdf$/)
    expect(conflictName("report.pdf", "3fa9c2")).toBe("report.conflict-3fa9c2.pdf")
    expect(conflictName("d/" + "x".repeat(250), "3fa9c2")).toBe("d/" + "x".repeat(239) + ".conflict-3fa9c2")
    expect(conflictName("a." + "e".repeat(250), "3fa9c2")).toBe("a." + "e".repeat(237) + ".conflict-3fa9c2")
  })
})

describe("merge, case by case (docs/conflicts.md)", () => {
  const LAPTOP = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
  const DESKTOP = "6fa459ea-ee8a-3ca4-894e-db77e160355e"
  const key = (k: string): Content => ({ kind: "key", key: `SHA256E-s1--${k}.pdf` })
  const file = (k: string, mtime: number, executable = false, host?: string): Node =>
    host === undefined ? { type: "file", content: key(k), executable, mtime } : { type: "file", content: key(k), executable, mtime, host }
  const dir: Node = { type: "dir" }
  const tree = (...entries: Array<[string, Node]>) => Tree.from(entries)
  /** Both orders give the same result; returns it. */
  const merged = (b: Tree, x: Tree, y: Tree, options?: Parameters<typeof merge>[3]) => {
    const [xy, yx] = [merge(b, x, y, options), merge(b, y, x, options)]
    expect(show(xy.tree)).toEqual(show(yx.tree))
    expect(xy.conflicts).toEqual(yx.conflicts)
    expect(treeProblem(xy.tree)).toBeUndefined()
    return xy
  }

  it("edit/edit: the later edit keeps the path, the other becomes a copy named after its writer and content", () => {
    const b = tree(["d/report.pdf", file("000000aa", 1)])
    const r = merged(b, tree(["d/report.pdf", file("3fa9c2ff", 2, false, LAPTOP)]), tree(["d/report.pdf", file("bbbbbbbb", 3, false, DESKTOP)]))
    expect(show(r.tree)).toEqual(
      show(tree(["d/report.conflict-1b4e28ba-3fa9c2.pdf", file("3fa9c2ff", 2, false, LAPTOP)], ["d/report.pdf", file("bbbbbbbb", 3, false, DESKTOP)]))
    )
    expect(r.conflicts).toEqual([{ path: "d/report.pdf", copy: "d/report.conflict-1b4e28ba-3fa9c2.pdf" }])
    expect(openConflicts(r.tree)).toEqual([{ path: "d/report.pdf", copy: "d/report.conflict-1b4e28ba-3fa9c2.pdf" }])
  })

  it("edit/edit of a text whose edits merge: one file with the merged content, the later mtime, the later writer; no conflict", () => {
    const b = tree(["notes.txt", file("000000aa", 1, false, LAPTOP)])
    const [o, t] = [file("3fa9c2ff", 2, false, LAPTOP), file("bbbbbbbb", 3, true, DESKTOP)]
    const textMerged = new Map([[textMergeKey(key("000000aa"), key("3fa9c2ff"), key("bbbbbbbb")), key("cccccccc")]])
    const r = merged(b, tree(["notes.txt", o]), tree(["notes.txt", t]), { textMerged })
    expect(r.conflicts).toEqual([])
    expect(show(r.tree)).toEqual(show(tree(["notes.txt", file("cccccccc", 3, true, DESKTOP)])))
    // a text merge of other contents changes nothing
    const other = new Map([[textMergeKey(key("000000aa"), key("3fa9c2ff"), key("dddddddd")), key("cccccccc")]])
    expect(merged(b, tree(["notes.txt", o]), tree(["notes.txt", t]), { textMerged: other }).conflicts).toHaveLength(1)
  })

  it("edit/edit with equal mtimes: the greater version wins, whichever side is ours", () => {
    const b = tree(["f.pdf", file("000000aa", 1)])
    const r = merged(b, tree(["f.pdf", file("aaaaaa11", 2, false, LAPTOP)]), tree(["f.pdf", file("bbbbbb22", 2, false, DESKTOP)]))
    expect(show(r.tree)).toEqual(show(tree(["f.conflict-1b4e28ba-aaaaaa.pdf", file("aaaaaa11", 2, false, LAPTOP)], ["f.pdf", file("bbbbbb22", 2, false, DESKTOP)])))
  })

  it("the host label comes from shared data through options.hostLabel, sanitised", () => {
    const b = tree(["f.pdf", file("000000aa", 1)])
    const labels: Record<string, string> = { [LAPTOP]: "my laptop", [DESKTOP]: "desk/top" }
    const r = merged(b, tree(["f.pdf", file("aaaaaa11", 2, false, LAPTOP)]), tree(["f.pdf", file("bbbbbb22", 3, false, DESKTOP)]), { hostLabel: (u) => labels[u] ?? u })
    expect(r.conflicts).toEqual([{ path: "f.pdf", copy: "f.conflict-my_laptop-aaaaaa.pdf" }])
    // no writer known (old markers, plain git files): "unknown"
    const s = merged(b, tree(["f.pdf", file("aaaaaa11", 2)]), tree(["f.pdf", file("bbbbbb22", 3)]))
    expect(s.conflicts).toEqual([{ path: "f.pdf", copy: "f.conflict-unknown-aaaaaa.pdf" }])
  })

  it("edit/delete: the edit wins, even against the deletion of its whole directory", () => {
    const b = tree(["d/f", file("aaaaaa00", 1)])
    expect(show(merged(b, tree(), tree(["d/f", file("bbbbbb00", 2)])).tree)).toEqual(show(tree(["d/f", file("bbbbbb00", 2)])))
    // chmod counts as a change too
    expect(show(merged(b, tree(), tree(["d/f", file("aaaaaa00", 1, true)])).tree)).toEqual(show(tree(["d/f", file("aaaaaa00", 1, true)])))
  })

  it("rename/edit: the edit follows the rename, one file at the new name, no conflict", () => {
    const b = tree(["d/a.txt", file("aaaaaa00", 1, false, LAPTOP)], ["d/other", file("cccccc00", 1)])
    const renamed = tree(["e/b.txt", file("aaaaaa00", 1, false, LAPTOP)], ["d/other", file("cccccc00", 1)])
    const editedHere = tree(["d/a.txt", file("bbbbbb00", 5, false, DESKTOP)], ["d/other", file("cccccc00", 1)])
    const r = merged(b, renamed, editedHere)
    expect(show(r.tree)).toEqual(show(tree(["d", dir], ["d/other", file("cccccc00", 1)], ["e/b.txt", file("bbbbbb00", 5, false, DESKTOP)])))
    expect(r.conflicts).toEqual([])
    // a chmod or a touch follows too
    const chmodded = tree(["d/a.txt", file("aaaaaa00", 1, true, LAPTOP)], ["d/other", file("cccccc00", 1)])
    expect(show(merged(b, renamed, chmodded).tree)).toEqual(show(tree(["d", dir], ["d/other", file("cccccc00", 1)], ["e/b.txt", file("aaaaaa00", 1, true, LAPTOP)])))
  })

  it("rename/edit where the editing side has taken the new name: both kept, the edit at the old name", () => {
    const b = tree(["a", file("aaaaaa00", 1)])
    const r = merged(b, tree(["b", file("aaaaaa00", 1)]), tree(["a", file("bbbbbb00", 2)], ["b", file("cccccc00", 2)]))
    expect(show(r.tree)).toEqual(show(tree(["a", file("bbbbbb00", 2)], ["b", file("cccccc00", 2)], ["b.conflict-unknown-aaaaaa", file("aaaaaa00", 1)])))
  })

  it("rename/rename of one file to two names: both names are kept, the same content under each", () => {
    const b = tree(["a.txt", file("aaaaaa00", 1)])
    const r = merged(b, tree(["b.txt", file("aaaaaa00", 1)]), tree(["c.txt", file("aaaaaa00", 1)]))
    expect(show(r.tree)).toEqual(show(tree(["b.txt", file("aaaaaa00", 1)], ["c.txt", file("aaaaaa00", 1)])))
    expect(r.conflicts).toEqual([])
  })

  it("rename/delete: the file survives under its new name", () => {
    const b = tree(["a", file("aaaaaa00", 1)])
    expect(show(merged(b, tree(["b", file("aaaaaa00", 1)]), tree()).tree)).toEqual(show(tree(["b", file("aaaaaa00", 1)])))
  })

  it("two hosts create the same new path: different contents give a conflict copy, the same content does not", () => {
    const r = merged(tree(), tree(["n.txt", file("aaaaaa00", 4, false, LAPTOP)]), tree(["n.txt", file("bbbbbb00", 3, false, DESKTOP)]))
    expect(r.conflicts).toEqual([{ path: "n.txt", copy: "n.conflict-6fa459ea-bbbbbb.txt" }])
    const s = merged(tree(), tree(["n.txt", file("aaaaaa00", 4, false, LAPTOP)]), tree(["n.txt", file("aaaaaa00", 3, true, DESKTOP)]))
    // executable if either side made it so, the later mtime, and the smaller host id as the writer
    expect(show(s.tree)).toEqual(show(tree(["n.txt", file("aaaaaa00", 4, true, LAPTOP)])))
    expect(s.conflicts).toEqual([])
  })

  it("file vs directory at the same path: the directory keeps the path, the file becomes a copy", () => {
    const r = merged(tree(), tree(["x.txt", file("aaaaaa00", 9, false, LAPTOP)]), tree(["x.txt/inner", file("bbbbbb00", 1)]))
    expect(show(r.tree)).toEqual(show(tree(["x.conflict-1b4e28ba-aaaaaa.txt", file("aaaaaa00", 9, false, LAPTOP)], ["x.txt", dir], ["x.txt/inner", file("bbbbbb00", 1)])))
    // an empty directory too
    const s = merged(tree(), tree(["x", file("aaaaaa00", 9)]), tree(["x", dir]))
    expect(show(s.tree)).toEqual(show(tree(["x", dir], ["x.conflict-unknown-aaaaaa", file("aaaaaa00", 9)])))
  })

  it("delete of a directory vs a new file inside it: the new file survives with its parent directories", () => {
    const b = tree(["d/e/old", file("aaaaaa00", 1)])
    const r = merged(b, tree(), tree(["d/e/old", file("aaaaaa00", 1)], ["d/e/new", file("bbbbbb00", 2)]))
    expect(show(r.tree)).toEqual(show(tree(["d", dir], ["d/e", dir], ["d/e/new", file("bbbbbb00", 2)])))
    expect(r.conflicts).toEqual([])
  })

  it("chmod vs edit: both apply", () => {
    const b = tree(["s.sh", file("aaaaaa00", 1, false, LAPTOP)])
    const r = merged(b, tree(["s.sh", file("aaaaaa00", 1, true, LAPTOP)]), tree(["s.sh", file("bbbbbb00", 5, false, DESKTOP)]))
    expect(show(r.tree)).toEqual(show(tree(["s.sh", file("bbbbbb00", 5, true, DESKTOP)])))
    expect(r.conflicts).toEqual([])
  })

  it("identical edits on both sides: no conflict, whoever wrote them", () => {
    const b = tree(["f", file("aaaaaa00", 1)])
    const r = merged(b, tree(["f", file("bbbbbb00", 5, false, DESKTOP)]), tree(["f", file("bbbbbb00", 5, false, LAPTOP)]))
    expect(show(r.tree)).toEqual(show(tree(["f", file("bbbbbb00", 5, false, LAPTOP)])))
    expect(r.conflicts).toEqual([])
  })

  it("symlink / symlink with different targets: as edit / edit (a symlink has no writer: unknown)", () => {
    const link = (target: string, mtime: number): Node => ({ type: "symlink", target, mtime })
    const r = merged(tree(["l", link("x", 1)]), tree(["l", link("y", 2)]), tree(["l", link("z", 3)]))
    expect(r.tree.get("l")).toEqual(link("z", 3))
    expect(r.conflicts).toHaveLength(1)
    expect(r.conflicts[0]!.copy).toMatch(/^l\.conflict-unknown-[0-9a-f]{6}$/)
  })

  it("a directory renamed on one side, a new file in the old directory on the other: files follow by key, the new file stays", () => {
    const b = tree(["d/a", file("aaaaaa00", 1)], ["d/b", file("bbbbbb00", 1)])
    const r = merged(b, tree(["e/a", file("aaaaaa00", 1)], ["e/b", file("bbbbbb00", 1)]), tree(["d/a", file("aaaaaa00", 1)], ["d/b", file("cccccc00", 2)], ["d/n", file("dddddd00", 2)]))
    expect(show(r.tree)).toEqual(show(tree(["d/n", file("dddddd00", 2)], ["e/a", file("aaaaaa00", 1)], ["e/b", file("cccccc00", 2)])))
    expect(r.conflicts).toEqual([])
  })

  it("a version edited on one side while a merge on the other moved it into a conflict copy: the edit supersedes the copy", () => {
    // pinned from the convergence property: the old copy came and went with the merge base
    const b = tree(["a", file("aaaaaa00", 1, false, LAPTOP)])
    const merged_ = tree(["a", dir], ["a.conflict-1b4e28ba-aaaaaa", file("aaaaaa00", 1, false, LAPTOP)])
    const r = merged(b, merged_, tree(["a", file("bbbbbb00", 2, false, LAPTOP)]))
    expect(show(r.tree)).toEqual(show(tree(["a", dir], ["a.conflict-1b4e28ba-bbbbbb", file("bbbbbb00", 2, false, LAPTOP)])))
  })

  it("a content both sides still hold is kept, even when each deleted a different copy of it", () => {
    // pinned from the convergence property: two lineages kept the same version under two names
    const k = file("aaaaaa00", 1)
    const b = tree(["x", k], ["y", k])
    const r = merged(b, tree(["x", k]), tree(["y", k]))
    expect(show(r.tree)).toEqual(show(tree(["x", k])))
    // a content only one side still holds was deleted by the other: gone
    expect(show(merged(b, tree(["x", k], ["y", k]), tree()).tree)).toEqual(show(tree()))
  })

  it("regression: both sides add the same content with different executable bits, symmetrically", () => {
    // found by the symmetry property (shrunk): with no file in base, the result took theirs' bit
    const staged = (executable: boolean): Node => ({ type: "file", content: { kind: "staged", id: "st0", size: 0 }, executable, mtime: 1_700_000_000_000 })
    const [x, y] = [tree(["c.txt", staged(false)]), tree(["c.txt", staged(true)])]
    for (const b of [tree(), tree(["c.txt", { type: "dir" }]), tree(["c.txt", { type: "symlink", target: "t", mtime: 1 }])]) {
      expect(show(merge(b, x, y).tree)).toEqual(show(tree(["c.txt", staged(true)])))
      expect(show(merge(b, y, x).tree)).toEqual(show(tree(["c.txt", staged(true)])))
    }
  })

  it("same content on both sides: the side that changed the executable bit wins", () => {
    const b = tree(["f", file("aaaaaa00", 1, true)])
    const x = tree(["f", file("bbbbbb00", 2, false)])
    const y = tree(["f", file("bbbbbb00", 3, true)])
    expect(show(merge(b, x, y).tree)).toEqual(show(tree(["f", file("bbbbbb00", 3, false)])))
    expect(show(merge(b, y, x).tree)).toEqual(show(tree(["f", file("bbbbbb00", 3, false)])))
  })

  it("modes: a chmod on one side and an edit on the other both apply; two chmods keep what both allow to read and write, and either's execute bits", () => {
    const f = (k: string, mtime: number, mode: number, host?: string): Node => withFileMode(file(k, mtime, false, host) as FileNode, mode)
    const b = tree(["secret.key", f("aaaaaa00", 1, 0o644, LAPTOP)], ["d", dir])
    const r = merged(b, tree(["secret.key", f("aaaaaa00", 1, 0o600, LAPTOP)], ["d", dirWithMode(0o700)]), tree(["secret.key", f("bbbbbb00", 5, 0o644, DESKTOP)], ["d", dir]))
    expect(show(r.tree)).toEqual(show(tree(["secret.key", f("bbbbbb00", 5, 0o600, DESKTOP)], ["d", dirWithMode(0o700)])))
    expect(r.conflicts).toEqual([])
    const both = merged(b, tree(["secret.key", f("aaaaaa00", 1, 0o640, LAPTOP)], ["d", dirWithMode(0o750)]), tree(["secret.key", f("aaaaaa00", 1, 0o705, LAPTOP)], ["d", dirWithMode(0o1777)]))
    expect(show(both.tree)).toEqual(show(tree(["secret.key", f("aaaaaa00", 1, 0o705 & 0o640 | 0o101, LAPTOP)], ["d", dirWithMode(0o751)])))
  })
})

describe("git-annex's .variant- files", () => {
  it("are open conflicts of the name without the mark, listed with sharebox's own copies", () => {
    const t = new Tree()
    const file = (s: string): Node => ({ type: "file", content: { kind: "blob", oid: s.padEnd(40, "0"), size: 1 }, executable: false, mtime: 0 })
    t.set("d", { type: "dir" })
    t.set("d/f.variant-47da.txt", file("a"))
    t.set("d/f.variant-ca28.txt", file("b"))
    t.set("README.variant-0a1b", file("c"))
    t.set("plain.variant-xyz.txt", file("d")) // not hex: a name like any other
    expect(openConflicts(t)).toEqual([
      { path: "README", copy: "README.variant-0a1b" },
      { path: "d/f.txt", copy: "d/f.variant-47da.txt" },
      { path: "d/f.txt", copy: "d/f.variant-ca28.txt" }
    ])
  })
})
