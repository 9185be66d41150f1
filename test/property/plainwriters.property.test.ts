/**
 * Versions a plain git-annex peer wrote (src/domain/plainwriters.ts): their writer is a harmless
 * host id made of the author's name, their time a sane one, and only the files a plain commit wrote
 * last, with content new here, are credited.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { conflictName, sanitiseLabel } from "../../src/domain/conflictnames.js"
import { encodePath, nameProblem } from "../../src/domain/paths.js"
import { type PathChange, creditPlainEdits, lastPlainEdits, plainTime, plainWriter } from "../../src/domain/plainwriters.js"
import { markerText, storableHost, treeFromStored } from "../../src/domain/storage.js"
import { MAX_TIME_MS, isSaneTime } from "../../src/domain/time.js"
import { type FileNode, Tree, contentId, sameNode } from "../../src/domain/tree.js"
import { anyContent, anyHost, anyTree, nodeOf, smallMtime, treeOf, treePath } from "./arbitraries.js"

const hostileName = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.constantFrom("", " ", "12", "1e3", "a/b", "../..", "ev\u0007il", "a\tb\nc", "\u202etxt.exe", "x".repeat(300), "Zoë Ünïcode 日本")
)

describe("plainWriter", () => {
  it("is undefined or a storable host id with no white space, control character, `\\` or `/`, at most 64 characters", () => {
    fc.assert(
      fc.property(hostileName, (name) => {
        const w = plainWriter(name)
        if (w === undefined) return
        expect(storableHost(w)).toBe(true)
        // eslint-disable-next-line no-control-regex
        expect(w).not.toMatch(/[\s\\/\u0000-\u001f\u007f-\u009f\u202a-\u202e]/u)
        expect([...w].length).toBeLessThanOrEqual(64)
      })
    )
  })

  it("is stable: a writer id is its own writer id", () => {
    fc.assert(fc.property(hostileName, (name) => {
      const w = plainWriter(name)
      if (w !== undefined) expect(plainWriter(w)).toBe(w)
    }))
  })

  it("keeps a plain name as it is", () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,40}$/), (name) => {
      expect(plainWriter(name)).toBe(name)
    }))
  })

  it("survives a marker's round trip, and names a valid conflict copy", () => {
    fc.assert(
      fc.property(hostileName, (name) => {
        const w = plainWriter(name)
        if (w === undefined) return
        const tree = Tree.from([["f.txt", { type: "file", content: { kind: "key", key: "SHA256E-s1--aa" }, executable: false, mtime: 5000, host: w }]])
        const back = treeFromStored([{ path: ".shareboxdir", mode: "100644", oid: "m", size: 0, data: markerText(tree, "") }, { path: "f.txt", mode: "100644", oid: "p", size: 30, data: "/annex/objects/SHA256E-s1--aa\n" }], 0)
        expect((back.tree.get("f.txt") as FileNode).host).toBe(w)
        const copy = conflictName("dir/f.txt", `${sanitiseLabel(w)}-abcdef`)
        expect(nameProblem(copy.slice("dir/".length))).toBeUndefined()
      })
    )
  })
})

describe("plainTime", () => {
  it("is always a sane time: the author's when sane, else the committer's, else the epoch", () => {
    const seconds = fc.oneof(fc.integer({ min: -1e6, max: 4e9 }), fc.double(), fc.constantFrom(NaN, Infinity, 99999999999999, MAX_TIME_MS / 1000, MAX_TIME_MS / 1000 + 1))
    fc.assert(
      fc.property(seconds, seconds, (a, c) => {
        const t = plainTime(a, c)
        expect(isSaneTime(t)).toBe(true)
        expect(t).toBe(isSaneTime(a * 1000) ? a * 1000 : isSaneTime(c * 1000) ? c * 1000 : 0)
      })
    )
  })
})

const change: fc.Arbitrary<PathChange> = fc.record({
  path: treePath.map(encodePath),
  time: fc.integer({ min: 0, max: 2e12 }),
  host: anyHost,
  plain: fc.boolean()
})

describe("lastPlainEdits", () => {
  it("credits a path exactly when its last change is a plain commit's, with that change's writer and time", () => {
    fc.assert(
      fc.property(fc.array(change, { maxLength: 20 }), (changes) => {
        const edits = lastPlainEdits(changes)
        const last = new Map(changes.map((c) => [c.path, c]))
        for (const [stored, c] of last) {
          const mount = [...edits.keys()].find((p) => encodePath(p) === stored)
          if (c.plain) expect(edits.get(mount!)).toEqual({ writer: c.host, time: c.time })
          else expect(mount).toBeUndefined()
        }
        expect(edits.size).toBe([...last.values()].filter((c) => c.plain).length)
      })
    )
  })
})

describe("creditPlainEdits", () => {
  const edit = fc.record({ writer: fc.option(fc.constantFrom("peer", "alice"), { nil: undefined }), time: fc.integer({ min: 0, max: 2e12 }) })
  const edits = fc.array(fc.tuple(treePath, edit), { maxLength: 8 }).map((es) => new Map(es))

  it("changes only the writer and mtime of files a plain commit wrote with content new here; the same tree when none", () => {
    fc.assert(
      fc.property(anyTree, treeOf(treePath, nodeOf(anyContent, smallMtime, anyHost)), edits, (tree, before, es) => {
        const out = creditPlainEdits(tree, before, es)
        let changed = false
        for (const [p, n] of tree.entries()) {
          const o = out.get(p)!
          const e = es.get(p)
          const b = before.get(p)
          const credited =
            e !== undefined &&
            n.type === "file" &&
            !(b?.type === "file" && contentId(b.content) === contentId(n.content)) &&
            !(n.host === e.writer && n.mtime === e.time)
          if (!credited) {
            expect(o).toBe(n)
            continue
          }
          changed = true
          const f = o as FileNode
          expect(f.host).toBe(e.writer)
          expect(f.mtime).toBe(e.time)
          expect(sameNode({ ...f, mtime: 0 }, { ...n, mtime: 0 })).toBe(true)
        }
        expect([...out.paths()].sort()).toEqual([...tree.paths()].sort())
        if (!changed) expect(out).toBe(tree)
        else expect(out).not.toBe(tree)
        // idempotent: a credited tree is credited already
        expect(creditPlainEdits(out, before, es)).toBe(out)
      })
    )
  })
})
