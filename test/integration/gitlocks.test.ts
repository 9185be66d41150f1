/**
 * Other git commands in a mounted gitdir: a `git status` (a shell prompt, a user looking) holds the
 * index lock while it refreshes the index, and the daemon may be moving HEAD at that moment, to
 * merge a peer's push or to replay its journal. The daemon waits for the lock; if it is held too
 * long, the branch still moves, the mount shows the change, and the work tree follows once the
 * lock is gone. Found by a `git status` run while a peer's push was being merged: the branch had
 * moved but the daemon's head had not, and every later replay failed ("Not updating refs/heads/main").
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, eventually, git, read, sleep, write } from "./harness.js"

const clean = (h: HostDirs): boolean => git(h.gitdir, ["status", "--porcelain"]).stdout.trim() === ""

const tracked = (h: HostDirs, p: string): boolean => git(h.gitdir, ["ls-files", "--", p]).stdout.trim() === p

/** Holds the gitdir's index lock, as a git command refreshing the index does, while `during` runs. */
const holdIndexLock = async (h: HostDirs, during: () => Promise<void>): Promise<void> => {
  const lock = path.join(h.gitdir, ".git", "index.lock")
  fs.writeFileSync(lock, "")
  try {
    await during()
  } finally {
    fs.rmSync(lock, { force: true })
  }
}

describe("another git command holding the gitdir's index", () => {
  const w = new World("sharebox-gitlocks")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    ;[A, B] = w.pair()
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  const syncs = (h: HostDirs) => {
    const r = w.sync(h)
    expect(r.code, r.stderr).toBe(0)
  }

  /** B's next change replays on top of what it merged, and reaches A; both gitdirs are sound. */
  const bothStillWork = (name: string) => {
    write(path.join(B.mnt, name), `${name}\n`)
    syncs(B)
    expect(git(B.gitdir, ["cat-file", "-e", `HEAD:${name}`]).code).toBe(0)
    syncs(A)
    expect(read(path.join(A.mnt, name))).toBe(`${name}\n`)
    expect(w.contractProblems(A)).toEqual([])
    expect(w.contractProblems(B)).toEqual([])
  }

  it("briefly, while a peer's push is merged: the merge waits for it, and the gitdir ends clean", async () => {
    write(path.join(A.mnt, "brief.txt"), "brief\n")
    await holdIndexLock(B, async () => {
      syncs(A)
      await sleep(1500)
    })
    expect(await eventually(() => fs.existsSync(path.join(B.mnt, "brief.txt")))).toBe(true)
    expect(read(path.join(B.mnt, "brief.txt"))).toBe("brief\n")
    expect(await eventually(() => clean(B) && tracked(B, "brief.txt"))).toBe(true)
    bothStillWork("after-brief.txt")
  })

  it("for longer than the daemon waits: the branch moves and the mount shows it; the work tree follows once it is free", async () => {
    write(path.join(A.mnt, "long.txt"), "long\n")
    await holdIndexLock(B, async () => {
      syncs(A)
      // the view follows the branch, not the index: the mount shows it while the lock is held
      expect(await eventually(() => fs.existsSync(path.join(B.mnt, "long.txt")), 15_000)).toBe(true)
      expect(read(path.join(B.mnt, "long.txt"))).toBe("long\n")
      expect(git(B.gitdir, ["cat-file", "-e", "HEAD:long.txt"]).code).toBe(0)
      expect(tracked(B, "long.txt")).toBe(false)
      expect(read(path.join(B.gitdir, ".git", "sharebox", "daemon.log"))).toMatch(/work tree .*index\.lock/)
    })
    expect(await eventually(() => clean(B) && tracked(B, "long.txt"), 20_000)).toBe(true)
    bothStillWork("after-long.txt")
  })

  it("while the daemon replays its own journal: the replay goes on, and the next one too", async () => {
    write(path.join(B.mnt, "own.txt"), "own\n")
    await holdIndexLock(B, async () => {
      syncs(B)
      expect(git(B.gitdir, ["cat-file", "-e", "HEAD:own.txt"]).code).toBe(0)
      expect(tracked(B, "own.txt")).toBe(false)
    })
    expect(await eventually(() => clean(B) && tracked(B, "own.txt"), 20_000)).toBe(true)
    bothStillWork("own2.txt")
    expect(read(path.join(A.mnt, "own.txt"))).toBe("own\n")
  })
})
