/**
 * Versions: every save is a version, listed by `sharebox versions` (oldest first, with the writer's
 * host name and the size) and browsable, read-only, in `.sharebox/history/PATH/`, which is never
 * synced; deleted files are found there and come back with `cp` or `sharebox restore` (also
 * `--version`, `--to`, `--at`); with -o numversions=N, content of older versions is let go after a
 * sync while the history stays complete.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, eventually, exec, git, read, sharebox, sleep, write } from "./harness.js"

interface VersionInfo {
  readonly id: string
  readonly name: string
  readonly time: string
  readonly host: string | null
  readonly size: number | null
  readonly key: string | null
  readonly deleted: boolean
  readonly present: boolean
}

const versions = (p: string): Array<VersionInfo> => {
  const r = sharebox(["versions", "--json", p])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as VersionInfo)
}

const historyDir = (h: HostDirs, p: string) => path.join(h.mnt, ".sharebox", "history", p)

/** `ls` of a directory, as a person would run it (ls sorts the names itself). */
const ls = (dir: string): Array<string> => {
  const r = exec("ls", ["-1", dir])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout.split("\n").filter(Boolean)
}

const replay = (h: HostDirs) => {
  const r = sharebox(["replay", h.mnt])
  expect(r.code, r.stderr).toBe(0)
}

const ok = (r: { code: number; stderr: string }, what = "") => expect(r.code, `${what} ${r.stderr}`).toBe(0)

const shown = (h: HostDirs, p: string): string | undefined => {
  try {
    return read(path.join(h.mnt, p))
  } catch {
    return undefined
  }
}

const lsFiles = (h: HostDirs): Array<string> => git(h.gitdir, ["ls-files"]).stdout.split("\n").filter(Boolean)

describe("versions and history", () => {
  const w = new World("sharebox-versions")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    ;[A, B] = w.pair()
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("every save is a version: listed oldest first, with the writer's host name and the size", () => {
    const f = path.join(A.mnt, "doc.txt")
    write(f, "one\n")
    replay(A)
    write(f, "two two\n")
    // sync replays what is pending: that makes the second version
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    expect(shown(B, "doc.txt")).toBe("two two\n")
    write(path.join(B.mnt, "doc.txt"), "three three three\n")
    ok(w.sync(B), "sync B")
    ok(w.sync(A), "sync A")
    expect(shown(A, "doc.txt")).toBe("three three three\n")
    for (const h of [A, B]) {
      const vs = versions(path.join(h.mnt, "doc.txt"))
      expect(vs.map((v) => v.host), h.name).toEqual(["A", "A", "B"])
      expect(vs.map((v) => v.size), h.name).toEqual([4, 8, 18])
      expect(vs.map((v) => v.deleted), h.name).toEqual([false, false, false])
      const times = vs.map((v) => Date.parse(v.time))
      expect(times, h.name).toEqual([...times].sort((a, b) => a - b))
      expect(new Set(vs.map((v) => v.id)).size, h.name).toBe(3)
    }
    // the plain listing says the same, one line per version
    const text = sharebox(["versions", path.join(A.mnt, "doc.txt")])
    ok(text)
    const lines = text.stdout.split("\n").filter(Boolean)
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/\bA\b.*\b4 B\b/)
    expect(lines[2]).toMatch(/\bB\b.*\b18 B\b/)
  })

  it("history/PATH holds one read-only file per version, ls shows them oldest first, each with its content", () => {
    const vs = versions(path.join(A.mnt, "doc.txt"))
    const names = ls(historyDir(A, "doc.txt"))
    expect(names).toEqual(vs.map((v) => v.name))
    expect(names.every((n) => n.endsWith(".txt"))).toBe(true)
    expect(names.map((n) => read(path.join(historyDir(A, "doc.txt"), n)))).toEqual(["one\n", "two two\n", "three three three\n"])
    // B browses the same history (its content comes from A on demand)
    expect(ls(historyDir(B, "doc.txt"))).toEqual(names)
    expect(read(path.join(historyDir(B, "doc.txt"), names[0]!))).toBe("one\n")
    for (const n of names) {
      const file = path.join(historyDir(A, "doc.txt"), n)
      expect(fs.statSync(file).mode & 0o222, n).toBe(0)
      let err: NodeJS.ErrnoException | undefined
      try {
        fs.writeFileSync(file, "overwritten\n")
      } catch (e) {
        err = e as NodeJS.ErrnoException
      }
      expect(err?.code, n).toMatch(/^(EACCES|EROFS|EPERM)$/)
      expect(() => fs.appendFileSync(file, "more\n"), n).toThrow(/EACCES|EROFS|EPERM/)
      expect(() => fs.unlinkSync(file), n).toThrow(/EACCES|EROFS|EPERM/)
    }
    expect(() => fs.writeFileSync(path.join(historyDir(A, "doc.txt"), "new.txt"), "x")).toThrow(/EACCES|EROFS|EPERM/)
    expect(names.map((n) => read(path.join(historyDir(A, "doc.txt"), n)))).toEqual(["one\n", "two two\n", "three three three\n"])
  })

  it("saves close together (one write-back) still list oldest first in history/", async () => {
    const f = path.join(A.mnt, "quick.txt")
    const contents = ["q1\n", "q2\n", "q3\n", "q4\n", "q5\n"]
    for (const c of contents) {
      write(f, c)
      await sleep(60)
    }
    expect(await eventually(() => git(A.gitdir, ["log", "--format=%H", "--", "quick.txt"]).stdout.split("\n").filter(Boolean).length === 5, 10_000, 100)).toBe(true)
    const vs = versions(f)
    expect(vs).toHaveLength(5)
    const names = ls(historyDir(A, "quick.txt"))
    expect(names).toEqual(vs.map((v) => v.name))
    expect(names.map((n) => read(path.join(historyDir(A, "quick.txt"), n)))).toEqual(contents)
  })

  it("history is never synced as files", () => {
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    for (const h of [A, B]) {
      const files = lsFiles(h)
      expect(files, h.name).toContain("doc.txt")
      expect(files.filter((f) => f.split("/").includes(".sharebox")), h.name).toEqual([])
      expect(git(h.gitdir, ["log", "--all", "--format=", "--name-only"]).stdout.split("\n").filter((f) => f.split("/").includes(".sharebox")), h.name).toEqual([])
    }
    // the peer shows only its own virtual .sharebox, whose history is the same
    expect(ls(historyDir(B, "doc.txt"))).toEqual(ls(historyDir(A, "doc.txt")))
  })

  it("a deleted file is found in history/ and cp from there brings it back", () => {
    fs.mkdirSync(path.join(A.mnt, "notes"))
    write(path.join(A.mnt, "notes", "gone.md"), "# first\n")
    replay(A)
    write(path.join(A.mnt, "notes", "gone.md"), "# second\n")
    replay(A)
    fs.unlinkSync(path.join(A.mnt, "notes", "gone.md"))
    replay(A)
    expect(fs.existsSync(path.join(A.mnt, "notes", "gone.md"))).toBe(false)
    const vs = versions(path.join(A.mnt, "notes", "gone.md"))
    expect(vs.map((v) => v.deleted)).toEqual([false, false, true])
    const names = ls(historyDir(A, "notes/gone.md"))
    expect(names).toHaveLength(2)
    expect(names.every((n) => n.endsWith(".md"))).toBe(true)
    const r = exec("cp", [path.join(historyDir(A, "notes/gone.md"), names[1]!), path.join(A.mnt, "notes", "gone.md")])
    ok(r, "cp")
    expect(read(path.join(A.mnt, "notes", "gone.md"))).toBe("# second\n")
    replay(A)
    expect(lsFiles(A)).toContain("notes/gone.md")
    // the copy back is a new version: the history holds all three contents now
    expect(versions(path.join(A.mnt, "notes", "gone.md")).map((v) => v.deleted)).toEqual([false, false, true, false])
    expect(ls(historyDir(A, "notes/gone.md"))).toHaveLength(3)
  })

  it("sharebox restore PATH brings back a deleted file, and the peer gets it after sync", () => {
    write(path.join(A.mnt, "deleted.txt"), "keep me\n")
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    expect(shown(B, "deleted.txt")).toBe("keep me\n")
    fs.unlinkSync(path.join(A.mnt, "deleted.txt"))
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    expect(shown(B, "deleted.txt")).toBeUndefined()
    const r = sharebox(["restore", path.join(A.mnt, "deleted.txt")])
    ok(r, "restore")
    expect(read(path.join(A.mnt, "deleted.txt"))).toBe("keep me\n")
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    expect(shown(B, "deleted.txt")).toBe("keep me\n")
    expect(lsFiles(B)).toContain("deleted.txt")
  })

  it("restore --version ID and --to OTHERPATH", () => {
    const vs = versions(path.join(A.mnt, "doc.txt"))
    expect(vs).toHaveLength(3)
    // the first version, written over the current one
    let r = sharebox(["restore", path.join(A.mnt, "doc.txt"), "--version", vs[0]!.id])
    ok(r, "restore --version")
    expect(r.stdout).not.toMatch(/^\d+\.\d+\.\d+\s*$/) // not the program's version
    expect(read(path.join(A.mnt, "doc.txt"))).toBe("one\n")
    // the second version, beside it in a new folder
    r = sharebox(["restore", "--version", vs[1]!.id, "--to", path.join(A.mnt, "old", "doc-v2.txt"), path.join(A.mnt, "doc.txt")])
    ok(r, "restore --version --to")
    expect(read(path.join(A.mnt, "old", "doc-v2.txt"))).toBe("two two\n")
    expect(read(path.join(A.mnt, "doc.txt"))).toBe("one\n")
    // a restore is an ordinary write: once replayed it is the newest version
    replay(A)
    const after = versions(path.join(A.mnt, "doc.txt"))
    expect(after).toHaveLength(4)
    expect(after[3]!.key).toBe(vs[0]!.key)
    expect(after[3]!.host).toBe("A")
    // --to alone: the newest version with content
    r = sharebox(["restore", path.join(A.mnt, "doc.txt"), "--to", path.join(A.mnt, "doc-latest.txt")])
    ok(r, "restore --to")
    expect(read(path.join(A.mnt, "doc-latest.txt"))).toBe("one\n")
    // an unknown id is refused and changes nothing
    r = sharebox(["restore", path.join(A.mnt, "doc.txt"), "--version", "deadbeef"])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/deadbeef/)
    expect(read(path.join(A.mnt, "doc.txt"))).toBe("one\n")
    expect(fs.readdirSync(path.join(A.mnt, "old"))).toEqual(["doc-v2.txt"])
  })

  it("restore --version takes the name .sharebox/history/PATH/ lists a version under, or the listed file's whole path", () => {
    const dir = path.join(A.mnt, ".sharebox", "history", "doc.txt")
    const names = fs.readdirSync(dir).sort()
    expect(names.length).toBeGreaterThanOrEqual(3)
    let r = sharebox(["restore", path.join(A.mnt, "doc.txt"), "--version", names[1]!, "--to", path.join(A.mnt, "by-name.txt")])
    ok(r, "restore --version NAME")
    expect(read(path.join(A.mnt, "by-name.txt"))).toBe(read(path.join(dir, names[1]!)))
    r = sharebox(["restore", path.join(A.mnt, "doc.txt"), "--version", path.join(dir, names[0]!), "--to", path.join(A.mnt, "by-path.txt")])
    ok(r, "restore --version LISTED-PATH")
    expect(read(path.join(A.mnt, "by-path.txt"))).toBe(read(path.join(dir, names[0]!)))
    r = sharebox(["restore", path.join(A.mnt, "doc.txt"), "--version", "2001-01-01T00-00-00.000Z.00000000.txt"])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/no version 2001-01-01/)
  })

  it("restore --at TIME picks the version current at that time", async () => {
    const f = path.join(A.mnt, "at.txt")
    // versions keep their milliseconds: a few hundred between them is enough
    write(f, "morning\n")
    replay(A)
    await sleep(300)
    const between = new Date().toISOString()
    await sleep(300)
    write(f, "noon\n")
    replay(A)
    write(f, "evening\n")
    replay(A)
    const vs = versions(f)
    expect(vs).toHaveLength(3)
    expect(Date.parse(vs[0]!.time)).toBeLessThanOrEqual(Date.parse(between))
    expect(Date.parse(vs[1]!.time)).toBeGreaterThan(Date.parse(between))
    let r = sharebox(["restore", f, "--at", between, "--to", path.join(A.mnt, "at-between.txt")])
    ok(r, "restore --at between")
    expect(read(path.join(A.mnt, "at-between.txt"))).toBe("morning\n")
    r = sharebox(["restore", f, "--at", vs[1]!.time, "--to", path.join(A.mnt, "at-noon.txt")])
    ok(r, "restore --at noon")
    expect(read(path.join(A.mnt, "at-noon.txt"))).toBe("noon\n")
    // before the first version there is nothing to restore
    r = sharebox(["restore", f, "--at", "2001-01-01T00:00:00Z", "--to", path.join(A.mnt, "at-never.txt")])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/no version/)
    expect(fs.existsSync(path.join(A.mnt, "at-never.txt"))).toBe(false)
    expect(read(f)).toBe("evening\n")
  })
})

describe("retention: -o numversions=3", () => {
  const w = new World("sharebox-retention")
  let A: HostDirs

  beforeAll(() => {
    A = w.host("A")
    w.mount(A, "numversions=3")
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("after 5 saves and a sync, versions 1-2 have no content here (no peer has it), 3-5 keep theirs, the history lists all 5", () => {
    const f = path.join(A.mnt, "kept.txt")
    const contents = [1, 2, 3, 4, 5].map((i) => `save ${i} `.repeat(i * 10) + "\n")
    for (const c of contents) {
      write(f, c)
      replay(A)
    }
    let vs = versions(f)
    expect(vs).toHaveLength(5)
    // nothing is let go before a sync
    expect(vs.map((v) => v.present)).toEqual([true, true, true, true, true])
    const s = w.sync(A)
    ok(s, "sync A")
    vs = versions(f)
    expect(vs.map((v) => v.present)).toEqual([false, false, true, true, true])
    expect(vs.map((v) => v.size)).toEqual(contents.map((c) => Buffer.byteLength(c)))
    // the annex agrees: the old objects are gone, the kept ones are there
    for (const [i, v] of vs.entries()) {
      const r = git(A.gitdir, ["annex", "contentlocation", v.key!])
      expect(r.code === 0, `version ${i + 1}: ${r.stdout} ${r.stderr}`).toBe(i >= 2)
    }
    const names = fs.readdirSync(historyDir(A, "kept.txt")).sort()
    expect(names).toHaveLength(5)
    expect(names).toEqual(vs.map((v) => v.name))
    // no peer has versions 1-2: reading them fails with EIO, versions 3-5 read fine
    for (const [i, n] of names.entries()) {
      const file = path.join(historyDir(A, "kept.txt"), n)
      if (i < 2) expect(() => fs.readFileSync(file), n).toThrow(/EIO/)
      else expect(read(file), n).toBe(contents[i])
    }
    expect(read(f)).toBe(contents[4])
    expect(git(A.gitdir, ["log", "--format=%H", "--", "kept.txt"]).stdout.split("\n").filter(Boolean)).toHaveLength(5)
  })
})
