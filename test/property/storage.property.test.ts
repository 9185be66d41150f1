import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { isWithin, parentOf } from "../../src/domain/paths.js"
import {
  type RawEntry,
  SMALL_BLOB,
  type StoredEntry,
  type TreeChange,
  storableHost,
  storedChanges,
  storedTree,
  treeFromStored
} from "../../src/domain/storage.js"
import { type FileNode, type Node, Tree, dirWithMode, fileMode, fileModeFields, sameStored } from "../../src/domain/tree.js"
import { anyHost, blobContent, keyContent, nodeOf, show, smallMtime, treeOf, treePath, treeProblem } from "./arbitraries.js"

/** Like git-annex's hashdirmixed: two levels of directories derived from the key. */
const objectPath = (key: string): string => {
  let h = 0
  for (const c of key) h = (h * 31 + c.codePointAt(0)!) >>> 0
  const d = (n: number) => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 52]!
  return `.git/annex/objects/${d(h)}${d(h >>> 6)}/${d(h >>> 12)}${d(h >>> 18)}/${key}/${key}`
}

/** What `ls-tree -r -l` plus `cat-file` would give for the stored entries (see effects/git.ts). */
const asRaw = (entries: Iterable<StoredEntry>, blobSize: (oid: string) => number): Array<RawEntry> =>
  [...entries].map((e): RawEntry => {
    if ("oid" in e) return { path: e.path, mode: e.mode, oid: e.oid, size: blobSize(e.oid) }
    const size = Buffer.byteLength(e.data)
    const oid = `inline-${e.path}`
    return e.mode === "120000" || size <= SMALL_BLOB ? { path: e.path, mode: e.mode, oid, size, data: e.data } : { path: e.path, mode: e.mode, oid, size }
  })

const blobSizes = (t: Tree) => {
  const sizes = new Map<string, number>()
  for (const [, n] of t.entries()) if (n.type === "file" && n.content.kind === "blob") sizes.set(n.content.oid, n.content.size)
  return (oid: string) => sizes.get(oid) ?? 0
}

const rounded = (t: Tree): Tree =>
  Tree.from(t.toSorted().map(([p, n]): [string, Node] => [p, n.type === "dir" ? n : { ...n, mtime: Math.round(n.mtime) }]))

/** Applies tree changes to stored entries: Delete removes a path and everything below it. */
const applyChanges = (stored: Map<string, StoredEntry>, changes: ReadonlyArray<TreeChange>): Map<string, StoredEntry> => {
  const out = new Map(stored)
  for (const c of changes) {
    if (c._tag === "Delete") {
      for (const p of [...out.keys()]) if (isWithin(p, c.path)) out.delete(p)
    } else out.set(c.entry.path, c.entry)
  }
  return out
}

const sorted = (m: Map<string, StoredEntry>) => [...m.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))

/** Paths whose stored form differs between two trees (writers included: they are in the markers). */
const differing = (a: Tree, b: Tree): Array<string> =>
  [...new Set([...a.paths(), ...b.paths()])].filter((p) => !sameStored(a.get(p), b.get(p)))

const mtime = fc.oneof(smallMtime, fc.double({ min: 0, max: 4e12, noNaN: true }))
/** Trees that storage can hold as they are: annexed files, plain blobs, symlinks, directories. */
const storableTree = treeOf(treePath, nodeOf(fc.oneof({ weight: 3, arbitrary: keyContent }, { weight: 1, arbitrary: blobContent }), mtime, anyHost), 14)

type Edit =
  | { readonly kind: "set"; readonly path: string; readonly node: Node }
  | { readonly kind: "delete"; readonly path: string }
  | { readonly kind: "move"; readonly from: string; readonly to: string }
  | { readonly kind: "rehost"; readonly path: string; readonly host: string | undefined }

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("rehost" as const), path: treePath, host: anyHost }),
  fc.record({ kind: fc.constant("set" as const), path: treePath, node: nodeOf(fc.oneof(keyContent, blobContent), mtime, anyHost) }),
  fc.record({ kind: fc.constant("delete" as const), path: treePath }),
  fc.record({ kind: fc.constant("move" as const), from: treePath, to: treePath })
)

const edited = (t: Tree, edits: ReadonlyArray<Edit>): Tree => {
  const n = t.clone()
  for (const e of edits) {
    if (e.kind === "set") n.set(e.path, e.node)
    else if (e.kind === "delete") n.delete(e.path)
    else if (e.kind === "rehost") {
      const f = n.get(e.path)
      if (f?.type === "file") n.set(e.path, e.host === undefined ? { type: "file", content: f.content, executable: f.executable, mtime: f.mtime } : { ...f, host: e.host })
    } else if (n.has(e.from) && !isWithin(e.to, e.from) && n.isDir(parentOf(e.to))) n.move(e.from, e.to)
  }
  return n
}

describe("storage", () => {
  it("a tree read back from its stored entries is the same tree, mtimes rounded to the millisecond", () => {
    fc.assert(
      fc.property(storableTree, (t) => {
        const stored = storedTree(t, objectPath)
        for (const p of stored.keys()) {
          for (const c of p.split("/")) expect(c.toLowerCase()).not.toBe(".git")
        }
        const back = treeFromStored(asRaw(stored.values(), blobSizes(t)), 42)
        expect(back.skipped).toEqual([])
        expect(back.tree.toSorted()).toEqual(rounded(t).toSorted())
        expect(treeProblem(back.tree)).toBeUndefined()
      }),
      { numRuns: 1000 }
    )
  })

  it("the entries may arrive in any order (markers before or after their files, git or not): the same tree", () => {
    // loadTree hands entries on as git lists them and cat-file answers; ls-tree's order puts a
    // directory's marker after names that sort before ".shareboxdir"
    fc.assert(
      fc.property(storableTree, fc.infiniteStream(fc.nat()), (t, rand) => {
        const raw = asRaw(storedTree(t, objectPath).values(), blobSizes(t))
        const shuffled = [...raw]
        const r = rand[Symbol.iterator]()
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = r.next().value! % (i + 1)
          ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
        }
        const back = treeFromStored(shuffled, 42)
        expect(back.skipped).toEqual([])
        expect(back.tree.toSorted()).toEqual(treeFromStored(raw, 42).tree.toSorted())
        expect(back.tree.toSorted()).toEqual(rounded(t).toSorted())
      }),
      { numRuns: 500 }
    )
  })

  it("storedChanges over the differing paths turns the stored previous tree into the stored next tree", () => {
    fc.assert(
      fc.property(storableTree, fc.array(edit, { maxLength: 8 }), fc.array(treePath, { maxLength: 4 }), (prev, edits, extra) => {
        const next = edited(prev, edits)
        // touching paths that did not change is harmless
        const touched = [...differing(prev, next), ...extra]
        const changes = storedChanges(prev, next, touched, objectPath)
        const deletesFirst = changes.findIndex((c) => c._tag === "Set")
        if (deletesFirst >= 0) expect(changes.slice(deletesFirst).every((c) => c._tag === "Set")).toBe(true)
        expect(sorted(applyChanges(storedTree(prev, objectPath), changes))).toEqual(sorted(storedTree(next, objectPath)))
      }),
      { numRuns: 1000 }
    )
  })

  it("regression: a name with a newline or backslash keeps its mtime through the marker", () => {
    // found by the round-trip property: the marker line of "new\nline" split in two, and the
    // file came back with the default mtime
    const blob = { kind: "blob" as const, oid: "23ddcef7bc85455c6783d89e957be8250f142b6a", size: 2000 }
    const t = Tree.from([
      ["new\nline", { type: "file", content: blob, executable: false, mtime: 1_700_000_000_000 }],
      ["back\\n", { type: "symlink", target: "x", mtime: 5 }],
      ["tab\tname", { type: "symlink", target: "y", mtime: 6 }]
    ])
    const back = treeFromStored(asRaw(storedTree(t, objectPath).values(), blobSizes(t)), 42)
    expect(back.tree.toSorted()).toEqual(t.toSorted())
  })

  it("a file's writer is the marker's third column; two-column lines of older markers still read, names with tabs too", () => {
    const key = "SHA256E-s3--abcdef.txt"
    const link = `.git/annex/objects/Ab/Cd/${key}/${key}`
    const uuid = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    const t = Tree.from([
      ["f", { type: "file", content: { kind: "key", key }, executable: false, mtime: 5, host: uuid }],
      ["g\t7", { type: "file", content: { kind: "key", key }, executable: false, mtime: 6, host: uuid }],
      ["h\t8", { type: "file", content: { kind: "key", key }, executable: false, mtime: 7 }],
      ["s", { type: "symlink", target: "x", mtime: 8 }]
    ])
    const stored = storedTree(t, objectPath)
    expect((stored.get(".shareboxdir") as { data: string }).data).toBe(`f\t5\t${uuid}\ng\t7\t6\t${uuid}\nh\t8\t7\ns\t8\n`)
    expect(treeFromStored(asRaw(stored.values(), blobSizes(t)), 42).tree.toSorted()).toEqual(t.toSorted())
    // an older marker: no third column, no writer
    const old = treeFromStored(
      [
        { path: "f", mode: "120000", oid: "1", size: 10, data: link },
        { path: ".shareboxdir", mode: "100644", oid: "2", size: 10, data: "f\t5\n" }
      ],
      42
    )
    expect(old.tree.get("f")).toEqual({ type: "file", content: { kind: "key", key }, executable: false, mtime: 5 })
  })

  it("host ids a marker cannot hold unambiguously (numbers, whitespace, control characters) are not stored", () => {
    for (const host of ["", "42", "1e3", " x", "a b", "a\tb", "a\nb", "back\\slash", "\u0001"]) {
      expect(storableHost(host), JSON.stringify(host)).toBe(false)
      const t = Tree.from([["f", { type: "file", content: { kind: "blob", oid: "o", size: 1 }, executable: false, mtime: 5, host }]])
      const back = treeFromStored(asRaw(storedTree(t, objectPath).values(), () => 1), 42).tree
      expect(back.get("f")).toEqual({ type: "file", content: { kind: "blob", oid: "o", size: 1 }, executable: false, mtime: 5 })
    }
    for (const host of ["1b4e28ba-2fa1-11d2-883f-0016d3cca427", "web", "Infinity", "日本"]) expect(storableHost(host)).toBe(true)
  })

  it("entries no marker mentions get the default mtime; names no mount name encodes to are skipped", () => {
    const key = "SHA256E-s3--abcdef.txt"
    const { tree, skipped } = treeFromStored(
      [
        { path: "f", mode: "120000", oid: "1", size: 10, data: `.git/annex/objects/Ab/Cd/${key}/${key}` },
        { path: "d/.git", mode: "100644", oid: "2", size: 10 },
        { path: "d/.shareboxdir", mode: "100644", oid: "3", size: 0, data: "" },
        { path: ".git/x", mode: "100644", oid: "4", size: 10 }
      ],
      42
    )
    expect(show(tree)).toEqual(['"d" dir 755', `"f" ${key} 644 @42`])
    expect(skipped.sort()).toEqual([".git/x", "d/.git"])
  })

  it("modes: kept in the marker only where they are not the default; a peer's marker gives no set-user-ID bit, and git's executable bit wins", () => {
    const key = "SHA256E-s3--abcdef.txt"
    const t = Tree.from([
      ["secret.key", { type: "file", content: { kind: "key", key }, ...fileModeFields(0o600), mtime: 5 }],
      ["run.sh", { type: "file", content: { kind: "key", key }, ...fileModeFields(0o700), mtime: 6 }],
      ["plain.txt", { type: "file", content: { kind: "key", key }, ...fileModeFields(0o644), mtime: 7 }],
      ["private", dirWithMode(0o700)],
      ["private/tmp", dirWithMode(0o1777)],
      ["open", dirWithMode(0o755)]
    ])
    const stored = storedTree(t, objectPath)
    expect((stored.get(".shareboxdir") as { data: string }).data).toBe("plain.txt\t7\nrun.sh\t6\nsecret.key\t5\n/mode\t0700\tprivate\n/mode\t0700\trun.sh\n/mode\t0600\tsecret.key\n")
    expect((stored.get("private/.shareboxdir") as { data: string }).data).toBe("/mode\t1777\ttmp\n")
    expect((stored.get("open/.shareboxdir") as { data: string }).data).toBe("")
    const back = treeFromStored(asRaw(stored.values(), () => 0), 0).tree
    expect(show(back)).toEqual(show(t))
    // a peer's marker: set-user-ID asked for, a mode line with garbage, and modes git disagrees with
    const { tree } = treeFromStored(
      [
        { path: "a", mode: "100755", oid: "1", size: 10 },
        { path: "b", mode: "100644", oid: "2", size: 10 },
        { path: "c", mode: "100755", oid: "3", size: 10 },
        { path: ".shareboxdir", mode: "100644", oid: "4", size: 0, data: "/mode\t4755\ta\n/mode\t0640\tb x\n/mode\t9\tb\n/mode\t0740\tb\n/mode\t0600\tc\n/mode\t0700\n" }
      ],
      42
    )
    expect([fileMode(tree.get("a") as FileNode), fileMode(tree.get("b") as FileNode), fileMode(tree.get("c") as FileNode)]).toEqual([0o755, 0o640, 0o700])
  })
})
