/**
 * The mount's local times (src/fuse/times.ts) over a view, with a clock the test moves: what each
 * change does to atime, ctime and folders' mtimes, and what a peer's change reaching the view does.
 */
import { describe, expect, it } from "vitest"
import { type FileNode, type Node, Tree, dirNode } from "../../src/domain/tree.js"
import { LocalTimes } from "../../src/fuse/times.js"

const file = (mtime: number, key = `K${mtime}`): FileNode => ({ type: "file", content: { kind: "key", key }, executable: false, mtime })

const setup = (entries: ReadonlyArray<readonly [string, Node]>, policy: "relatime" | "noatime" | "strict" = "relatime") => {
  let clock = 10_000
  const source = { view: Tree.from(entries), onReplaced: () => {} }
  const times = new LocalTimes(source, policy, () => clock)
  const at = (t: number) => {
    clock = t
  }
  const of = (p: string) => times.of(p, source.view.get(p)!)
  return { source, times, at, of }
}

describe("local times", () => {
  it("start as atime = ctime = mtime; a folder at its newest file, an empty one at the mount's start", () => {
    const { of } = setup([
      ["d/a", file(100)],
      ["d/b", file(300)],
      ["d/sub", dirNode],
      ["e", dirNode]
    ])
    expect(of("d/a")).toEqual({ atime: 100, mtime: 100, ctime: 100 })
    expect(of("d")).toEqual({ atime: 300, mtime: 300, ctime: 300 })
    expect(of("e")).toEqual({ atime: 10_000, mtime: 10_000, ctime: 10_000 })
  })

  it("utimens of the atime alone leaves the mtime; the ctime is now", () => {
    const { times, source, at, of } = setup([["f", file(100)]])
    at(20_000)
    times.set("f", source.view.get("f")!, 5, undefined)
    expect(of("f")).toEqual({ atime: 5, mtime: 100, ctime: 20_000 })
  })

  it("a new mtime (pinned first, as utimens does) leaves the atime", () => {
    const { times, source, at, of } = setup([["f", file(100)]])
    at(20_000)
    times.pin("f", source.view.get("f")!)
    source.view.set("f", file(7))
    times.set("f", source.view.get("f")!, undefined, undefined)
    expect(of("f")).toEqual({ atime: 100, mtime: 7, ctime: 20_000 })
  })

  it("relatime: the first read after a change moves the atime, the second does not", () => {
    const { times, source, at, of } = setup([["f", file(100)]])
    at(20_000)
    times.read("f", source.view.get("f")!)
    expect(of("f").atime).toBe(20_000)
    at(30_000)
    times.read("f", source.view.get("f")!)
    expect(of("f").atime).toBe(20_000)
    times.changed("f")
    at(40_000)
    times.read("f", source.view.get("f")!)
    expect(of("f").atime).toBe(40_000)
  })

  it("noatime: reads never move the atime", () => {
    const { times, source, at, of } = setup([["f", file(100)]], "noatime")
    at(20_000)
    times.read("f", source.view.get("f")!)
    expect(of("f").atime).toBe(100)
  })

  it("a name made or removed moves its folder's mtime and ctime", () => {
    const { times, source, at, of } = setup([["d/a", file(100)]])
    expect(of("d").mtime).toBe(100)
    at(20_000)
    source.view.set("d/n", dirNode)
    times.created("d/n")
    expect(of("d")).toEqual({ atime: 100, mtime: 20_000, ctime: 20_000 })
    expect(of("d/n")).toEqual({ atime: 20_000, mtime: 20_000, ctime: 20_000 })
    at(30_000)
    source.view.delete("d/a")
    times.removed("d/a")
    expect(of("d")).toEqual({ atime: 100, mtime: 30_000, ctime: 30_000 })
  })

  it("a rename carries the times below it and moves the renamed node's ctime and both folders'", () => {
    const { times, source, at, of } = setup([
      ["x/d/f", file(100)],
      ["y/g", file(200)]
    ])
    at(20_000)
    times.read("x/d/f", source.view.get("x/d/f")!)
    at(30_000)
    source.view.move("x/d", "y/d")
    times.renamed("x/d", "y/d")
    expect(of("y/d/f")).toEqual({ atime: 20_000, mtime: 100, ctime: 100 })
    expect(of("y/d").ctime).toBe(30_000)
    expect(of("x").mtime).toBe(30_000)
    expect(of("y").mtime).toBe(30_000)
  })

  it("a peer's change reaching the view moves the changed paths' ctimes and the changed folders' mtimes", () => {
    const { times, source, at, of } = setup([
      ["d/same", file(100)],
      ["d/edited", file(100)],
      ["d/gone", file(100)],
      ["d/staged", { type: "file", content: { kind: "staged", id: "s1", size: 3 }, executable: false, mtime: 100 }],
      ["quiet/q", file(100)],
      ["m/f", file(100)]
    ])
    for (const p of ["d", "quiet", "m"]) of(p)
    const before = source.view
    const after = before.clone()
    after.set("d/edited", file(150))
    after.delete("d/gone")
    after.set("d/staged", file(100, "KS")) // a replay: the same file, now annexed
    after.set("new/n", file(90))
    after.set("m", { type: "dir", mode: 0o700 }) // a peer's chmod
    after.set("m/f", { ...file(100), mode: 0o600 })
    at(20_000)
    source.view = after
    times.viewReplaced(before, after)
    expect(of("d/same")).toEqual({ atime: 100, mtime: 100, ctime: 100 })
    expect(of("d/staged")).toEqual({ atime: 100, mtime: 100, ctime: 100 })
    expect(of("d/edited")).toEqual({ atime: 100, mtime: 150, ctime: 20_000 })
    expect(of("d")).toMatchObject({ mtime: 20_000, ctime: 20_000 })
    expect(of("quiet")).toEqual({ atime: 100, mtime: 100, ctime: 100 })
    expect(of("m")).toEqual({ atime: 100, mtime: 100, ctime: 20_000 })
    expect(of("m/f")).toEqual({ atime: 100, mtime: 100, ctime: 20_000 })
    expect(of("new/n")).toEqual({ atime: 90, mtime: 90, ctime: 20_000 })
    expect(of("")).toMatchObject({ mtime: 20_000, ctime: 20_000 })
  })
})
