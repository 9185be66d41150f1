/**
 * Unreachable peers: a sync reports them (exit 75, the peer named on stderr), returns promptly,
 * keeps going with the peers it can reach, and loses nothing locally.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, fullOnly, git, read, snapshot, write } from "./harness.js"

const timed = <A>(f: () => A): { value: A; ms: number } => {
  const t = Date.now()
  const value = f()
  return { value, ms: Date.now() - t }
}

describe("sync with unreachable peers", () => {
  const w = new World("sharebox-offline")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    A = w.host("A")
    B = w.host("B")
    w.mount(A)
    w.mount(B)
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("with no remotes, sync exits 0", () => {
    write(path.join(A.mnt, "alone.txt"), "no peers yet\n")
    expect(git(A.gitdir, ["remote"]).stdout.trim()).toBe("")
    const r = w.sync(A)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe("")
    expect(git(A.gitdir, ["ls-files"]).stdout).toContain("alone.txt")
  })

  it("with every peer reachable, sync exits 0 and both sides have everything", () => {
    w.connectAll()
    write(path.join(B.mnt, "fromB.txt"), "B was here\n")
    for (const h of [A, B]) {
      const r = w.sync(h)
      expect(r.code, `${h.name}: ${r.stderr}`).toBe(0)
    }
    expect(read(path.join(A.mnt, "fromB.txt"))).toBe("B was here\n")
    expect(read(path.join(B.mnt, "alone.txt"))).toBe("no peers yet\n")
  })

  // Full run only: offline-work.test.ts "a peer really offline (its folder moved away)" makes the
  // same sync to a peer whose folder is gone (exit 75, the peer named, the write still here and
  // pushed once it is back), and asks status too.
  it.runIf(fullOnly("sync with unreachable peers: a peer whose folder is gone (offline-work.test.ts covers it)"))("a peer whose folder is gone: exit 75 within 60 s, the peer named, local files intact; back again: exit 0", async () => {
    w.unmount(B)
    expect(await w.settled(B)).toBe(true)
    const home = path.dirname(B.gitdir)
    const away = `${home}.away`
    fs.renameSync(home, away)
    try {
      write(path.join(A.mnt, "while-away.txt"), "B is away\n")
      const before = snapshot(A.mnt)
      const { value: r, ms } = timed(() => w.sync(A))
      expect(r.code, r.stderr).toBe(75)
      expect(ms).toBeLessThan(60_000)
      expect(r.stderr).toMatch(/\bB\b/)
      expect(r.stderr.toLowerCase()).toMatch(/unreachable/)
      expect(snapshot(A.mnt)).toEqual(before)
      expect(read(path.join(A.mnt, "while-away.txt"))).toBe("B is away\n")
      expect(git(A.gitdir, ["ls-files"]).stdout).toContain("while-away.txt")
    } finally {
      fs.renameSync(away, home)
    }
    const r = w.sync(A)
    expect(r.code, r.stderr).toBe(0)
    // the push reached B's repository while it is not mounted
    expect(git(B.gitdir, ["rev-parse", "synced/main"]).stdout).toBe(git(A.gitdir, ["rev-parse", "HEAD"]).stdout)
    w.mount(B)
    const s = w.sync(B)
    expect(s.code, s.stderr).toBe(0)
    expect(read(path.join(B.mnt, "while-away.txt"))).toBe("B is away\n")
  })

  it("a peer that refuses ssh: exit 75 quickly, and the reachable peer is still synced", () => {
    expect(git(A.gitdir, ["remote", "add", "dead", "ssh://127.0.0.1:1/nonexistent"]).code).toBe(0)
    try {
      write(path.join(B.mnt, "fromB2.txt"), "B again\n")
      write(path.join(A.mnt, "fromA2.txt"), "A again\n")
      const { value: r, ms } = timed(() => w.sync(A))
      expect(r.code, r.stderr).toBe(75)
      expect(ms).toBeLessThan(30_000)
      expect(r.stderr).toMatch(/\bdead\b/)
      expect(r.stderr).not.toMatch(/\bpeer B\b/)
      // B was fetched and merged...
      expect(read(path.join(A.mnt, "fromB2.txt"))).toBe("B again\n")
      // ...and pushed to
      expect(git(B.gitdir, ["rev-parse", "synced/main"]).stdout).toBe(git(A.gitdir, ["rev-parse", "HEAD"]).stdout)
      const s = w.sync(B)
      expect(s.code, s.stderr).toBe(0)
      expect(read(path.join(B.mnt, "fromA2.txt"))).toBe("A again\n")
    } finally {
      git(A.gitdir, ["remote", "remove", "dead"])
    }
    const r = w.sync(A)
    expect(r.code, r.stderr).toBe(0)
  })
})
