/**
 * Write-back and replay: closed files reach the gitdir's history on their own after a quiet period
 * (so a peer can pull them without us syncing), `-o writeback=off` keeps them in the journal until
 * sync, replay batches, every version is a commit, and offline edits on two hosts reconcile without
 * losing either side.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, eventually, fullOnly, git, read, sharebox, sleep, write } from "./harness.js"

const commitCount = (h: HostDirs): number => {
  const r = git(h.gitdir, ["rev-list", "--count", "HEAD"])
  return r.code === 0 ? Number(r.stdout.trim()) : 0
}

const lsFiles = (h: HostDirs): Array<string> => git(h.gitdir, ["ls-files"]).stdout.split("\n").filter(Boolean)

/** Paths of the operations `sharebox log --json` says are still in the journal (not replayed). */
const journalPaths = (h: HostDirs): Array<string> => {
  const r = sharebox(["log", "--json", h.mnt])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { path: string; state: string })
    .filter((e) => e.state === "journal")
    .map((e) => e.path)
}

const shown = (h: HostDirs, p: string): string | undefined => {
  try {
    return read(path.join(h.mnt, p))
  } catch {
    return undefined
  }
}

describe("write-back (default)", () => {
  const w = new World("sharebox-wb")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    A = w.host("A")
    B = w.host("B")
    w.mount(A)
    w.mount(B)
    // after the mounts: they initialise the (empty) gitdirs
    w.connectAll()
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("a closed file reaches A's history within ~3 s, and B gets it without A syncing", async () => {
    const before = commitCount(A)
    write(path.join(A.mnt, "wb.txt"), "written back\n")
    const closedAt = Date.now()
    // nobody syncs: the daemon's write-back alone must commit it
    expect(await eventually(() => lsFiles(A).includes("wb.txt"), 3000, 50)).toBe(true)
    expect(Date.now() - closedAt).toBeLessThan(3500)
    expect(commitCount(A)).toBeGreaterThan(before)
    expect(git(A.gitdir, ["status", "--porcelain"]).stdout).toBe("")
    // ~2 s after the close, B pulls from A directly
    await sleep(Math.max(0, 2000 - (Date.now() - closedAt)))
    const s = w.sync(B)
    expect(s.code, s.stderr).toBe(0)
    expect(shown(B, "wb.txt")).toBe("written back\n")
    expect(lsFiles(B)).toContain("wb.txt")
  })

  it("replay is batched: 200 files written in one go make a few commits, not 200", async () => {
    const before = commitCount(A)
    fs.mkdirSync(path.join(A.mnt, "many"))
    for (let i = 0; i < 200; i++) write(path.join(A.mnt, "many", `f${i}.txt`), `file ${i}\n`)
    expect(await eventually(() => lsFiles(A).filter((f) => f.startsWith("many/f")).length === 200, 20_000, 200)).toBe(true)
    // let any straggling write-back settle, then count
    await sleep(1500)
    const made = commitCount(A) - before
    expect(made).toBeGreaterThanOrEqual(1)
    expect(made).toBeLessThanOrEqual(3)
    expect(read(path.join(A.mnt, "many", "f137.txt"))).toBe("file 137\n")
    expect(git(A.gitdir, ["status", "--porcelain"]).stdout).toBe("")
  })

  it("one commit per version: 3 writes with a replay between each show as 3 versions", async () => {
    const f = path.join(A.mnt, "versions.txt")
    for (const v of ["one\n", "two\n", "three\n"]) {
      write(f, v)
      const r = sharebox(["replay", A.mnt])
      expect(r.code, r.stderr).toBe(0)
    }
    const log = git(A.gitdir, ["log", "--follow", "--format=%H", "--", "versions.txt"]).stdout.split("\n").filter(Boolean)
    expect(log.length).toBe(3)
    expect(read(f)).toBe("three\n")
    // each of those commits holds a different content (key) for the file
    const keys = log.map((c) => git(A.gitdir, ["show", `${c}:versions.txt`]).stdout)
    expect(new Set(keys).size).toBe(3)
    expect(git(A.gitdir, ["annex", "find", "--", "versions.txt"]).stdout.trim()).toBe("versions.txt")
  })

  it("one commit per version: 3 writes inside one quiet period still make 3 versions", async () => {
    const f = path.join(A.mnt, "quick.txt")
    const before = commitCount(A)
    for (const v of ["q1\n", "q2\n", "q3\n"]) {
      write(f, v)
      await sleep(150)
    }
    expect(await eventually(() => lsFiles(A).includes("quick.txt"), 5000, 50)).toBe(true)
    await sleep(1500)
    const log = git(A.gitdir, ["log", "--follow", "--format=%H", "--", "quick.txt"]).stdout.split("\n").filter(Boolean)
    expect(log.length).toBe(3)
    expect(commitCount(A) - before).toBe(3)
    expect(read(f)).toBe("q3\n")
    expect(git(A.gitdir, ["cat-file", "-p", `HEAD:quick.txt`]).code).toBe(0)
  })

  it("non-conflicting offline edits on both sides: after sync A, B, A both have both", async () => {
    write(path.join(A.mnt, "a.txt"), "from A\n")
    write(path.join(B.mnt, "b.txt"), "from B\n")
    // both written back locally before anyone syncs
    expect(await eventually(() => lsFiles(A).includes("a.txt") && lsFiles(B).includes("b.txt"), 5000, 50)).toBe(true)
    for (const h of [A, B, A]) {
      const r = w.sync(h)
      expect(r.code, `${h.name}: ${r.stderr}`).toBe(0)
    }
    for (const h of [A, B]) {
      expect(shown(h, "a.txt"), h.name).toBe("from A\n")
      expect(shown(h, "b.txt"), h.name).toBe("from B\n")
    }
    expect(git(A.gitdir, ["rev-parse", "HEAD^{tree}"]).stdout).toBe(git(B.gitdir, ["rev-parse", "HEAD^{tree}"]).stdout)
  })

  // Full run only: the same merge at sync makes the conflict copies of conflicts.test.ts (every row
  // of the decision table, the copies' names and content, on two and three hosts), and the
  // write-back commits it merges are those of "non-conflicting offline edits on both sides" above.
  it.runIf(fullOnly("write-back: a true conflict keeps both versions (conflicts.test.ts covers the merge)"))("a true conflict keeps both versions: the loser as a .conflict- copy with its content", async () => {
    write(path.join(A.mnt, "c.txt"), "base\n")
    expect(w.sync(A).code).toBe(0)
    expect(w.sync(B).code).toBe(0)
    expect(shown(B, "c.txt")).toBe("base\n")
    write(path.join(A.mnt, "c.txt"), "A's version\n")
    write(path.join(B.mnt, "c.txt"), "B's version\n")
    expect(await eventually(() => git(A.gitdir, ["log", "--format=%H", "--", "c.txt"]).stdout.split("\n").filter(Boolean).length === 2 && git(B.gitdir, ["log", "--format=%H", "--", "c.txt"]).stdout.split("\n").filter(Boolean).length === 2, 5000, 50)).toBe(true)
    for (const h of [A, B, A]) {
      const r = w.sync(h)
      expect(r.code, `${h.name}: ${r.stderr}`).toBe(0)
    }
    for (const h of [A, B]) {
      const names = fs.readdirSync(h.mnt)
      const copies = names.filter((n) => n.startsWith("c.") && n.includes(".conflict-"))
      expect(copies, `${h.name}: ${names.join(" ")}`).toHaveLength(1)
      expect(copies[0]!.endsWith(".txt")).toBe(true)
      const both = [shown(h, "c.txt"), shown(h, copies[0]!)].sort()
      expect(both, h.name).toEqual(["A's version\n", "B's version\n"])
    }
    // both hosts derived the same result
    expect(fs.readdirSync(A.mnt).sort()).toEqual(fs.readdirSync(B.mnt).sort())
    expect(shown(A, "c.txt")).toBe(shown(B, "c.txt"))
  })
})

describe("write-back off (battery mode)", () => {
  const w = new World("sharebox-wboff")
  let A: HostDirs

  beforeAll(() => {
    A = w.host("A")
    w.mount(A, "writeback=off")
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("keeps the change in the journal until sync", async () => {
    const beforeHead = commitCount(A)
    const headBefore = git(A.gitdir, ["rev-parse", "-q", "--verify", "HEAD"]).stdout
    write(path.join(A.mnt, "off.txt"), "battery\n")
    await sleep(3000)
    expect(commitCount(A)).toBe(beforeHead)
    expect(git(A.gitdir, ["rev-parse", "-q", "--verify", "HEAD"]).stdout).toBe(headBefore)
    expect(lsFiles(A)).not.toContain("off.txt")
    // the mount shows it, and the journal lists it
    expect(read(path.join(A.mnt, "off.txt"))).toBe("battery\n")
    const log = sharebox(["log", A.mnt])
    expect(log.code, log.stderr).toBe(0)
    expect(log.stdout).toMatch(/write\s+off\.txt/)
    expect(journalPaths(A)).toContain("off.txt")
    const s = sharebox(["sync", A.mnt])
    expect(s.code, s.stderr).toBe(0)
    expect(lsFiles(A)).toContain("off.txt")
    expect(commitCount(A)).toBeGreaterThan(beforeHead)
    expect(journalPaths(A)).not.toContain("off.txt")
    expect(read(path.join(A.mnt, "off.txt"))).toBe("battery\n")
  })
})

// A replay reads, hashes and commits everything it takes in: on a mount in use it competes with the
// person using it (docs/benchmarks.md). It waits for the mount to be idle, 30 quiet periods at most.
describe("write-back on a mount in use", () => {
  const w = new World("sharebox-wbuse")
  let A: HostDirs
  // well above the listing's 100 ms, so that a loaded machine's late timer is no pause
  const QUIET = 500

  beforeAll(() => {
    A = w.host("A")
    const r = sharebox([A.mnt, "-o", `gitdir=${A.gitdir},name=A`], { env: { SHAREBOX_QUIET_MS: String(QUIET) } })
    expect(r.code, r.stderr).toBe(0)
    fs.mkdirSync(path.join(A.mnt, "d"))
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  /** Lists a folder of the mount every 100 ms for `ms`, or until `until` holds; whether it did. */
  const inUse = async (ms: number, until: () => boolean = () => false): Promise<boolean> => {
    const end = Date.now() + ms
    while (Date.now() < end) {
      fs.readdirSync(path.join(A.mnt, "d"))
      if (until()) return true
      await sleep(100)
    }
    return false
  }

  it("waits while a folder is listed every 100 ms, and replays soon after the listing stops", async () => {
    write(path.join(A.mnt, "d", "used.txt"), "written while in use\n")
    await inUse(3000)
    expect(lsFiles(A), "replayed while the mount was in use").not.toContain("d/used.txt")
    expect(journalPaths(A)).toContain("d/used.txt")
    const stopped = Date.now()
    // `sharebox log` and git in the gitdir are no use of the mount; nor is .sharebox/status
    expect(await eventually(() => statusOf().includes("pending: 0") && lsFiles(A).includes("d/used.txt"), 5000, 50)).toBe(true)
    expect(Date.now() - stopped).toBeLessThan(4 * QUIET + 2000)
  })

  it("replays anyway once the change has waited 30 quiet periods with the mount in use all along", async () => {
    write(path.join(A.mnt, "d", "busy.txt"), "written on a busy mount\n")
    const written = Date.now()
    expect(await inUse(30 * QUIET + 6000, () => lsFiles(A).includes("d/busy.txt")), "replayed while in use").toBe(true)
    expect(Date.now() - written).toBeGreaterThanOrEqual(30 * QUIET)
  }, 60_000)

  const statusOf = () => read(path.join(A.mnt, ".sharebox", "status"))
})
