/**
 * Files a plain git-annex peer unlocked (a pointer file with mode 100644): stored and read back as
 * they are, kept unlocked when written or saved over here, and an unlock on one side survives a
 * merge with whatever the other side did elsewhere.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { merge } from "../../src/domain/merge.js"
import { applyInPlace } from "../../src/domain/reduce.js"
import { storedEntry, treeFromStored } from "../../src/domain/storage.js"
import type { FileNode, Node } from "../../src/domain/tree.js"
import { anyContent, anyHost, keyContent, keyPool, nodeOf, smallMtime, treeOf } from "./arbitraries.js"

const objectPath = (key: string) => `.git/annex/objects/xx/yy/${key}/${key}`

/** An unlocked annexed file, not executable. */
const unlockedFile: fc.Arbitrary<FileNode> = fc.record({
  type: fc.constant("file" as const),
  content: keyContent,
  executable: fc.constant(false),
  mtime: smallMtime,
  unlocked: fc.constant(true as const)
})

/** Trees whose other paths are anything, with `u` an unlocked file. */
const others = treeOf(fc.constantFrom("a", "b", "d/x", "d/y"), nodeOf(anyContent, smallMtime, anyHost), 6)
const withUnlocked = fc.tuple(others, unlockedFile).map(([t, u]) => {
  const c = t.clone()
  c.set("u", u)
  return c
})

const unlocked = (n: Node | undefined): boolean => n?.type === "file" && n.unlocked === true

describe("unlocked files", () => {
  it("are stored as a 100644 pointer and read back unlocked", () => {
    fc.assert(
      fc.property(unlockedFile, (u) => {
        const e = storedEntry("d/u", u, objectPath)!
        expect(e.mode).toBe("100644")
        const back = treeFromStored([{ path: "d/u", mode: e.mode, oid: "0".repeat(40), size: 100, data: (e as { data: string }).data }], u.mtime)
        expect(back.tree.get("d/u")).toEqual(u)
      })
    )
  })

  it("stay unlocked when written over or saved by a rename over them; a file made anew after an unlink is locked", () => {
    fc.assert(
      fc.property(withUnlocked, keyContent, fc.constantFrom("write", "rename", "unlink-write"), (t, content, how) => {
        const write = (path: string) => applyInPlace(t, { op: "write", path, content, executable: false, base: null }, 5000, "h")
        if (how === "write") expect(write("u")).toBeUndefined()
        if (how === "rename") {
          t.set("new", { type: "file", content, executable: false, mtime: 1 })
          expect(applyInPlace(t, { op: "rename", path: "new", to: "u" }, 5000)).toBeUndefined()
        }
        if (how === "unlink-write") {
          expect(applyInPlace(t, { op: "unlink", path: "u" }, 5000)).toBeUndefined()
          expect(write("u")).toBeUndefined()
        }
        expect(unlocked(t.get("u"))).toBe(how !== "unlink-write")
        expect(storedEntry("u", t.get("u")!, objectPath)!.mode).toBe(how === "unlink-write" ? "120000" : "100644")
      })
    )
  })

  it("an unlock on one side survives a merge with any other change on the other side, whichever side is ours", () => {
    const key = fc.constantFrom(...keyPool)
    fc.assert(
      fc.property(others, others, key, smallMtime, (base0, side0, k, mtime) => {
        const locked: FileNode = { type: "file", content: { kind: "key", key: k }, executable: false, mtime: 1 }
        const base = base0.clone()
        base.set("u", locked)
        const unlockedSide = base.clone()
        unlockedSide.set("u", { ...locked, unlocked: true })
        // the other side changes anything else, and maybe u's mtime
        const other = side0.clone()
        other.set("u", { ...locked, mtime })
        for (const [ours, theirs] of [
          [unlockedSide, other],
          [other, unlockedSide]
        ] as const) {
          const r = merge(base, ours, theirs)
          expect(unlocked(r.tree.get("u")), JSON.stringify(r.tree.get("u"))).toBe(true)
          expect(r.conflicts.filter((c) => c.path === "u")).toEqual([])
        }
      })
    )
  })

  it("sameNode tells an unlocked file from a locked one, so a tree that only unlocked a file differs", () => {
    fc.assert(
      fc.property(withUnlocked, (t) => {
        const locked = t.clone()
        const { unlocked: _u, ...rest } = t.get("u") as FileNode
        locked.set("u", rest)
        expect(t.equals(locked)).toBe(false)
        expect(t.equals(t.clone())).toBe(true)
      })
    )
  })
})
