/**
 * The tree snapshot of a commit reads back as the tree that was saved, and is never taken for the
 * tree of another commit, nor when it is damaged.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import { Tree } from "../../src/domain/tree.js"
import { loadSnapshot, saveSnapshot } from "../../src/effects/treecache.js"
import { anyHost, anyTree, keyContent, nodeOf, smallMtime, treeOf, treePath } from "./arbitraries.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sharebox-snapshot-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const commit = fc.stringMatching(/^[0-9a-f]{40}$/)

describe("tree snapshots", () => {
  it("a saved snapshot loads back as an equal tree, for its commit only", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyTree, treeOf(treePath, nodeOf(keyContent, smallMtime, anyHost))), commit, commit, async (tree, c, other) => {
        const file = path.join(dir, "tree.json")
        await saveSnapshot(file, c, tree)
        const back = await loadSnapshot(file, c)
        expect(back && back.equals(tree)).toBe(true)
        expect(back!.toSorted()).toEqual(tree.toSorted())
        if (other !== c) expect(await loadSnapshot(file, other)).toBeUndefined()
      }),
      { numRuns: 200 }
    )
  })

  it("a tree whose snapshot takes several writes loads back whole", async () => {
    const key = (i: number) => `SHA256E-s${i}--${i.toString(16).padStart(64, "0")}.txt`
    const tree = Tree.from(Array.from({ length: 30_000 }, (_, i) => [`d${i % 97}/f${i}.txt`, { type: "file", content: { kind: "key", key: key(i) }, executable: false, mtime: i }] as const))
    const file = path.join(dir, "big.json")
    await saveSnapshot(file, "a".repeat(40), tree)
    expect(fs.statSync(file).size).toBeGreaterThan(3 << 20)
    const back = await loadSnapshot(file, "a".repeat(40))
    expect(back?.equals(tree)).toBe(true)
  })

  it("a damaged or missing snapshot is not used", async () => {
    await fc.assert(
      fc.asyncProperty(anyTree, commit, fc.nat(), async (tree, c, cut) => {
        const file = path.join(dir, "cut.json")
        await saveSnapshot(file, c, tree)
        const text = fs.readFileSync(file, "utf8")
        fs.writeFileSync(file, text.slice(0, cut % text.length))
        expect(await loadSnapshot(file, c)).toBeUndefined()
        fs.rmSync(file)
        expect(await loadSnapshot(file, c)).toBeUndefined()
      }),
      { numRuns: 100 }
    )
  })
})
