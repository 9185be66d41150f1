/**
 * The past trees behind `.sharebox/at/` and revert (src/effects/pasttrees.ts): the branch's
 * states read once per head, each commit's tree read when first asked and then answered at once
 * (synchronously) from a bounded cache, never once per request.
 */
import { describe, expect, it } from "vitest"
import { treeFromStored } from "../../src/domain/storage.js"
import { PastTrees } from "../../src/effects/pasttrees.js"
import type { GitPort } from "../../src/effects/ports.js"

const fakeGit = () => {
  const calls = { log: 0, trees: [] as Array<string> }
  const git = {
    firstParentTimes: async (tip: string) => {
      calls.log++
      return [1, 2, 3].map((i) => ({ commit: `${tip}-${i}`, time: i * 1000 }))
    },
    loadTree: async (commit: string) => {
      calls.trees.push(commit)
      return treeFromStored([{ path: `${commit}.txt`, mode: "100644", oid: "0".repeat(40), size: 1 }], 0)
    }
  } as unknown as GitPort
  return { git, calls }
}

describe("PastTrees", () => {
  it("reads the branch's states once per head, and again when the head moves", async () => {
    const { git, calls } = fakeGit()
    let head = "h1"
    const past = new PastTrees(git, () => head)
    const [a, b] = [past.moments(), past.moments()]
    expect(a).toBe(b) // one read in flight for both
    expect((await a).map((m) => m.commit)).toEqual(["h1-1", "h1-2", "h1-3"])
    expect(Array.isArray(past.moments())).toBe(true) // at once now
    expect(calls.log).toBe(1)
    head = "h2"
    expect((await past.moments())[0]!.commit).toBe("h2-1")
    expect(calls.log).toBe(2)
  })

  it("reads a commit's tree once, answers it at once after, and keeps only a few", async () => {
    const { git, calls } = fakeGit()
    const past = new PastTrees(git, () => "h", 2)
    const t = await past.tree("c1")
    expect(past.tree("c1")).toBe(t) // a value, not a promise
    await Promise.all([past.tree("c2"), past.tree("c2")])
    expect(calls.trees).toEqual(["c1", "c2"])
    past.tree("c1") // used last: c2 goes first
    await past.tree("c3")
    expect(past.tree("c1")).toBe(t)
    expect(past.tree("c2")).toBeInstanceOf(Promise)
    expect(calls.trees).toEqual(["c1", "c2", "c3", "c2"])
  })
})
