/**
 * The whole tree at a past moment: `.sharebox/at/` lists the moments the tree changed, and
 * `.sharebox/at/TIME/` shows the tree as it was then (any time a person types, listed or not),
 * read-only, never synced, readable offline where the content is here; `sharebox revert PATH --at
 * TIME` brings a folder back as one ordinary change that syncs, keeping other hosts' later edits.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, exec, git, read, sharebox, sleep, useWorld, write } from "./harness.js"

const ok = (r: { code: number; stdout?: string; stderr: string }, what = "") => expect(r.code, `${what} ${r.stdout ?? ""} ${r.stderr}`).toBe(0)

const at = (h: HostDirs, ...p: Array<string>) => path.join(h.mnt, ".sharebox", "at", ...p)

/** `ls -1` of a folder, as a person would run it (ls sorts the names itself). */
const ls = (dir: string): Array<string> => {
  const r = exec("ls", ["-1", dir])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout.split("\n").filter(Boolean)
}

/** The errno code a call fails with, or "ok". */
const failure = (f: () => unknown): string => {
  try {
    f()
    return "ok"
  } catch (e: any) {
    return String(e?.code ?? e)
  }
}

const timeOfName = (name: string): number => Date.parse(name)

const replay = (h: HostDirs) => ok(sharebox(["replay", h.mnt]), `replay ${h.name}`)

const lsFiles = (h: HostDirs): Array<string> => git(h.gitdir, ["ls-files"]).stdout.split("\n").filter(Boolean)

describe("the tree at a past moment", () => {
  const w = useWorld("sharebox-at")
  let A: HostDirs
  let B: HostDirs
  /** the names of the two moments the first test makes */
  let first = ""
  let second = ""

  beforeAll(() => {
    ;[A, B] = w.pair()
  }, 60_000)

  it("ls .sharebox/at/ lists the moments the tree changed, oldest first, each a tree as it was then", async () => {
    fs.mkdirSync(path.join(A.mnt, "d"))
    write(path.join(A.mnt, "d", "a.txt"), "one\n")
    write(path.join(A.mnt, "top.txt"), "top\n")
    fs.symlinkSync("a.txt", path.join(A.mnt, "d", "link"))
    write(path.join(A.mnt, "d", "run.sh"), "#!/bin/sh\necho hi\n")
    fs.chmodSync(path.join(A.mnt, "d", "run.sh"), 0o755)
    write(path.join(A.mnt, "d", "secret.txt"), "psst\n")
    fs.chmodSync(path.join(A.mnt, "d", "secret.txt"), 0o600)
    replay(A)
    first = ls(at(A)).at(-1)!
    // names are seconds: the second state must fall in a later one, with a second or more between
    await sleep(2500)
    write(path.join(A.mnt, "d", "a.txt"), "two\n")
    fs.unlinkSync(path.join(A.mnt, "top.txt"))
    write(path.join(A.mnt, "d", "new.txt"), "new\n")
    fs.chmodSync(path.join(A.mnt, "d", "run.sh"), 0o644)
    fs.chmodSync(path.join(A.mnt, "d", "secret.txt"), 0o644)
    replay(A)
    const names = ls(at(A))
    second = names.at(-1)!
    expect(second > first).toBe(true)
    for (const n of names) expect(n).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    // one name per commit of the branch (first parents), ls's order the order of their times
    expect(names).toEqual([...names].sort())
    expect(names.map(timeOfName)).toEqual(names.map(timeOfName).sort((x, y) => x - y))
    expect(names).toContain(first)
    const commits = git(A.gitdir, ["log", "--first-parent", "--format=%ct", "HEAD"]).stdout.split("\n").filter(Boolean)
    expect(names.length).toBe(new Set(commits).size)

    // the first moment: the folder, its files, link, modes as they were
    expect(ls(at(A, first))).toEqual(["d", "top.txt"])
    expect(ls(at(A, first, "d"))).toEqual(["a.txt", "link", "run.sh", "secret.txt"])
    expect(read(at(A, first, "d", "a.txt"))).toBe("one\n")
    expect(read(at(A, first, "top.txt"))).toBe("top\n")
    expect(fs.readlinkSync(at(A, first, "d", "link"))).toBe("a.txt")
    expect(fs.lstatSync(at(A, first, "d", "link")).isSymbolicLink()).toBe(true)
    expect(read(at(A, first, "d", "link"))).toBe("one\n")
    expect(fs.statSync(at(A, first, "d", "run.sh")).mode & 0o777).toBe(0o755)
    expect(fs.statSync(at(A, first, "d", "secret.txt")).mode & 0o777).toBe(0o600)
    expect(fs.statSync(at(A, first, "d", "a.txt")).size).toBe(4)
    expect(failure(() => read(at(A, first, "d", "new.txt")))).toBe("ENOENT")

    // the second moment
    expect(ls(at(A, second, "d"))).toEqual(["a.txt", "link", "new.txt", "run.sh", "secret.txt"])
    expect(read(at(A, second, "d", "a.txt"))).toBe("two\n")
    expect(failure(() => fs.statSync(at(A, second, "top.txt")))).toBe("ENOENT")
    expect(fs.statSync(at(A, second, "d", "run.sh")).mode & 0o777).toBe(0o644)
    // a whole folder copied out as it was
    const copy = path.join(w.root, "copy")
    ok(exec("cp", ["-a", at(A, first, "d"), copy]), "cp -a")
    expect(read(path.join(copy, "a.txt"))).toBe("one\n")
    expect(fs.readlinkSync(path.join(copy, "link"))).toBe("a.txt")
    expect(fs.statSync(path.join(copy, "run.sh")).mode & 0o777).toBe(0o755)
  })

  it("any time resolves to the last state at or before it; before the first commit is ENOENT", () => {
    // a time between the two moments, not listed: the first state
    const between = new Date(timeOfName(first) + 1000).toISOString().replace(/\.000Z$/, "Z")
    expect(between < second).toBe(true)
    expect(read(at(A, between, "d", "a.txt"))).toBe("one\n")
    // a time ago, between the two moments (they are 2.5 s or more apart)
    const ago = Math.ceil((Date.now() - timeOfName(second)) / 1000) + 1
    expect(Date.now() - ago * 1000).toBeGreaterThanOrEqual(timeOfName(first))
    expect(read(at(A, `${ago}s`, "d", "a.txt"))).toBe("one\n")
    expect(read(at(A, `${ago} seconds ago`, "top.txt"))).toBe("top\n")
    // now: the newest state
    expect(read(at(A, "now", "d", "a.txt"))).toBe("two\n")
    // these sharebox existed for neither: ENOENT, as a time that is no time
    for (const name of ["yesterday", "2h", "3d", "1w", "2020-01-01", "2020-01-01T14:30"]) expect(failure(() => fs.statSync(at(A, name))), name).toBe("ENOENT")
    expect(failure(() => fs.statSync(at(A, "not-a-time")))).toBe("ENOENT")
    expect(failure(() => fs.statSync(at(A, "2026-13-01")))).toBe("ENOENT")
    // the listing is of moments only
    expect(ls(at(A))).not.toContain("now")
  })

  it("nothing in it can change, and nothing of it is synced", () => {
    expect(failure(() => write(at(A, first, "d", "a.txt"), "changed\n"))).toBe("EROFS")
    expect(failure(() => fs.openSync(at(A, first, "d", "a.txt"), "r+"))).toBe("EROFS")
    expect(["EPERM", "EROFS", "EACCES"]).toContain(failure(() => write(at(A, first, "d", "brand-new.txt"), "x\n")))
    expect(["EPERM", "EROFS", "EACCES"]).toContain(failure(() => fs.unlinkSync(at(A, first, "d", "a.txt"))))
    expect(["EPERM", "EROFS", "EACCES"]).toContain(failure(() => fs.mkdirSync(at(A, first, "d", "sub"))))
    expect(["EPERM", "EROFS", "EACCES"]).toContain(failure(() => fs.renameSync(at(A, first, "d", "a.txt"), at(A, first, "d", "b.txt"))))
    expect(["EPERM", "EROFS", "EACCES"]).toContain(failure(() => fs.chmodSync(at(A, first, "d", "a.txt"), 0o777)))
    expect(read(at(A, first, "d", "a.txt"))).toBe("one\n")
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    for (const h of [A, B]) expect(lsFiles(h).filter((f) => f.startsWith(".sharebox/"))).toEqual([])
    // B has the same history: the same moment shows the same tree there
    expect(read(at(B, first, "d", "a.txt"))).toBe("one\n")
  })

  it("offline: content here reads, content that is not here fails with EIO promptly", async () => {
    // B read the first version of a.txt just now; top.txt's content it never fetched
    expect(read(at(B, first, "d", "a.txt"))).toBe("one\n")
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    const home = path.dirname(A.gitdir)
    const away = `${home}.away`
    fs.renameSync(home, away)
    try {
      expect(read(at(B, first, "d", "a.txt"))).toBe("one\n")
      const t = Date.now()
      expect(failure(() => read(at(B, first, "top.txt")))).toBe("EIO")
      expect(Date.now() - t).toBeLessThan(15_000)
      // its size shows all the same, as any file's whose content is elsewhere
      expect(fs.statSync(at(B, first, "top.txt")).size).toBe(4)
    } finally {
      fs.renameSync(away, home)
    }
    w.mount(A)
  })

  it("revert of a folder on A while B edits elsewhere offline: both end with the old folder and B's edit", () => {
    write(path.join(B.mnt, "elsewhere.txt"), "B's edit\n")
    const before = ls(path.join(A.mnt, "d"))
    const logBefore = sharebox(["log", A.mnt]).stdout
    // --dry-run lists the changes and makes none
    const dry = sharebox(["revert", path.join(A.mnt, "d"), "--at", first, "--dry-run"])
    ok(dry, "revert --dry-run")
    expect(dry.stdout.split("\n").filter(Boolean).sort()).toEqual(["chmod   d/run.sh", "chmod   d/secret.txt", "unlink  d/new.txt", "write   d/a.txt"].sort())
    expect(ls(path.join(A.mnt, "d"))).toEqual(before)
    expect(read(path.join(A.mnt, "d", "a.txt"))).toBe("two\n")
    expect(sharebox(["log", A.mnt]).stdout).toBe(logBefore)
    // the revert itself
    const r = sharebox(["revert", path.join(A.mnt, "d"), "--at", first])
    ok(r, "revert")
    expect(r.stdout).toBe(dry.stdout)
    expect(ls(path.join(A.mnt, "d"))).toEqual(["a.txt", "link", "run.sh", "secret.txt"])
    expect(read(path.join(A.mnt, "d", "a.txt"))).toBe("one\n")
    expect(fs.statSync(path.join(A.mnt, "d", "run.sh")).mode & 0o777).toBe(0o755)
    expect(fs.statSync(path.join(A.mnt, "d", "secret.txt")).mode & 0o777).toBe(0o600)
    // one ordinary change: the journal has it, as any edit
    expect(sharebox(["log", A.mnt]).stdout).toMatch(/d\/new\.txt/)
    // a deleted file comes back alone too, and top.txt was deleted after the first moment
    ok(sharebox(["revert", path.join(A.mnt, "top.txt"), "--at", first]), "revert top.txt")
    expect(read(path.join(A.mnt, "top.txt"))).toBe("top\n")
    // again: nothing to change
    expect(sharebox(["revert", path.join(A.mnt, "d"), "--at", first]).stdout).toMatch(/^nothing to change/)
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    ok(w.sync(A), "sync A again")
    for (const h of [A, B]) {
      expect(ls(path.join(h.mnt, "d")), h.name).toEqual(["a.txt", "link", "run.sh", "secret.txt"])
      expect(read(path.join(h.mnt, "d", "a.txt")), h.name).toBe("one\n")
      expect(fs.readlinkSync(path.join(h.mnt, "d", "link")), h.name).toBe("a.txt")
      expect(fs.statSync(path.join(h.mnt, "d", "run.sh")).mode & 0o777, h.name).toBe(0o755)
      expect(read(path.join(h.mnt, "top.txt")), h.name).toBe("top\n")
      expect(read(path.join(h.mnt, "elsewhere.txt")), h.name).toBe("B's edit\n")
    }
  })

  it("the whole tree: revert of the mount point lists what it would change across it", () => {
    const dry = sharebox(["revert", A.mnt, "--at", first, "--dry-run"])
    ok(dry, "revert MNT --dry-run")
    // B's file came after the first moment
    expect(dry.stdout.split("\n")).toContain("unlink  elsewhere.txt")
    expect(read(path.join(A.mnt, "elsewhere.txt"))).toBe("B's edit\n")
    // ls -l of the moments: each a folder, with its time
    const l = exec("ls", ["-l", "--time-style=+%s", at(A)])
    ok(l, "ls -l")
    expect(l.stdout).toMatch(new RegExp(`^d.* ${Math.floor(timeOfName(second) / 1000)} ${second}$`, "m"))
  })

  it("with no daemon, revert works on the gitdir's work tree, and the mount shows it once mounted", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    const r = sharebox(["revert", path.join(A.gitdir, "d"), "--at", second])
    ok(r, "revert GITDIR/d")
    expect(r.stdout.split("\n")).toContain("create  d/new.txt")
    w.mount(A)
    expect(read(path.join(A.mnt, "d", "a.txt"))).toBe("two\n")
    expect(read(path.join(A.mnt, "d", "new.txt"))).toBe("new\n")
    expect(fs.statSync(path.join(A.mnt, "d", "run.sh")).mode & 0o777).toBe(0o644)
    expect(sharebox(["log", A.mnt]).stdout).toMatch(/d\/new\.txt/)
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    expect(read(path.join(B.mnt, "d", "new.txt"))).toBe("new\n")
  })

  it("a bad TIME is one line and exit 64; a time before the first commit is refused", () => {
    const r = sharebox(["revert", path.join(A.mnt, "d"), "--at", "last tuesday-ish"])
    expect(r.code).toBe(64)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toMatch(/not a time/)
    const early = sharebox(["revert", path.join(A.mnt, "d"), "--at", "2020-01-01"])
    expect(early.code).toBe(66)
    expect(early.stderr.trim().split("\n")).toHaveLength(1)
    expect(early.stderr).toMatch(/nothing was committed/)
    const missing = sharebox(["revert", path.join(A.mnt, "d")])
    expect(missing.code).toBe(64)
  })

  it("restore --version takes a name ls .sharebox/history/PATH/ shows", () => {
    const names = ls(path.join(A.mnt, ".sharebox", "history", "d", "a.txt"))
    const firstVersion = names.find((n) => read(path.join(A.mnt, ".sharebox", "history", "d", "a.txt", n)) === "one\n")!
    const secondVersion = names.find((n) => read(path.join(A.mnt, ".sharebox", "history", "d", "a.txt", n)) === "two\n")!
    ok(sharebox(["restore", path.join(A.mnt, "d", "a.txt"), "--version", secondVersion]), "restore --version NAME")
    expect(read(path.join(A.mnt, "d", "a.txt"))).toBe("two\n")
    ok(sharebox(["restore", path.join(A.mnt, "d", "a.txt"), "--version", firstVersion, "--to", path.join(A.mnt, "d", "old.txt")]), "restore --version NAME --to")
    expect(read(path.join(A.mnt, "d", "old.txt"))).toBe("one\n")
    // --at takes the same times as revert
    ok(sharebox(["restore", path.join(A.mnt, "d", "a.txt"), "--at", first]), "restore --at NAME")
    expect(read(path.join(A.mnt, "d", "a.txt"))).toBe("one\n")
    const bad = sharebox(["restore", path.join(A.mnt, "d", "a.txt"), "--at", "soonish"])
    expect(bad.code).toBe(64)
  })
})
