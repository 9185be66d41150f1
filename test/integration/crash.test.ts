/**
 * Crashes and a damaged journal: what close() returned survives a kill -9 of the daemon, the stale
 * mount is cleared by sharebox itself, a torn last journal record is dropped with one warning, and a
 * damaged record in the middle stops the mount with one clear line and touches nothing.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, eventually, git, isMounted, read, sharebox, write } from "./harness.js"

const journalOf = (h: HostDirs) => path.join(h.gitdir, ".git", "sharebox", "journal")
const daemonLogOf = (h: HostDirs) => path.join(h.gitdir, ".git", "sharebox", "daemon.log")
const lockOf = (h: HostDirs) => path.join(h.gitdir, ".git", "sharebox", "lock")

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // a zombie nobody reaped yet is as good as gone
  try {
    return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

/** The daemon serving a gitdir: the pid in its lock file, checked against the process list. */
const daemonPid = (h: HostDirs): number => {
  const pid = Number(fs.readFileSync(lockOf(h), "utf8").trim())
  const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
  expect(args).toContain("__daemon")
  expect(args.join(" ")).toContain(h.gitdir)
  return pid
}

/** Kills the daemon with SIGKILL and waits for it to be gone; the mount is left behind, stale. */
const killDaemon = async (h: HostDirs): Promise<void> => {
  const pid = daemonPid(h)
  process.kill(pid, "SIGKILL")
  expect(await eventually(() => !alive(pid), 10_000, 50)).toBe(true)
  // the kernel still lists the mount, but nobody answers it
  expect(isMounted(h.mnt)).toBe(true)
  expect(() => fs.statSync(h.mnt)).toThrow(/ENOTCONN|ECONNABORTED/)
}

const journalLines = (h: HostDirs): Array<string> => read(journalOf(h)).split("\n").filter(Boolean)

const pendingPaths = (h: HostDirs): Array<string> => {
  const r = sharebox(["log", "--json", h.gitdir])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { path: string; state: string })
    .filter((e) => e.state === "journal")
    .map((e) => e.path)
}

describe("kill -9 of the daemon", () => {
  const w = new World("sharebox-crash")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    ;[A, B] = w.pair(["writeback=off"])
  }, 60_000)

  afterAll(async () => {
    delete process.env.SHAREBOX_QUIET_MS
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("a file closed before the kill is there after a remount over the stale mount (writeback=off)", async () => {
    fs.mkdirSync(path.join(A.mnt, "docs"))
    write(path.join(A.mnt, "docs", "survivor.txt"), "closed before the crash\n")
    await killDaemon(A)
    const m = w.mount(A, "writeback=off")
    expect(m.code).toBe(0)
    expect(isMounted(A.mnt)).toBe(true)
    expect(read(path.join(A.mnt, "docs", "survivor.txt"))).toBe("closed before the crash\n")
    expect(fs.readdirSync(A.mnt).sort()).toEqual(["docs"])
    // still pending: nothing was replayed
    expect(pendingPaths(A)).toContain("docs/survivor.txt")
    const s = w.sync(A)
    expect(s.code, s.stderr).toBe(0)
    expect(git(A.gitdir, ["ls-files"]).stdout).toContain("docs/survivor.txt")
    expect(w.sync(B).code).toBe(0)
    expect(read(path.join(B.mnt, "docs", "survivor.txt"))).toBe("closed before the crash\n")
  })

  it("the same with write-back on and a long quiet period, and an edit of an existing file", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    process.env.SHAREBOX_QUIET_MS = "60000"
    w.mount(A)
    write(path.join(A.mnt, "docs", "survivor.txt"), "edited, then crashed\n")
    write(path.join(A.mnt, "new.txt"), "new, then crashed\n")
    const head = git(A.gitdir, ["rev-parse", "HEAD"]).stdout
    await killDaemon(A)
    // the quiet period had not passed: nothing was committed
    expect(git(A.gitdir, ["rev-parse", "HEAD"]).stdout).toBe(head)
    delete process.env.SHAREBOX_QUIET_MS
    w.mount(A)
    expect(read(path.join(A.mnt, "docs", "survivor.txt"))).toBe("edited, then crashed\n")
    expect(read(path.join(A.mnt, "new.txt"))).toBe("new, then crashed\n")
    const s = w.sync(A)
    expect(s.code, s.stderr).toBe(0)
    expect(w.sync(B).code).toBe(0)
    expect(read(path.join(B.mnt, "docs", "survivor.txt"))).toBe("edited, then crashed\n")
    expect(read(path.join(B.mnt, "new.txt"))).toBe("new, then crashed\n")
  })
})

describe("a damaged journal", () => {
  const w = new World("sharebox-journal")
  let A: HostDirs

  beforeAll(async () => {
    A = w.host("A")
    w.mount(A, "writeback=off")
    fs.mkdirSync(path.join(A.mnt, "d"))
    write(path.join(A.mnt, "d", "one.txt"), "one\n")
    write(path.join(A.mnt, "two.txt"), "two\n")
    write(path.join(A.mnt, "three.txt"), "three\n")
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("a torn last record: the mount succeeds, one warning, every earlier event kept", async () => {
    const intact = read(journalOf(A))
    const lines = journalLines(A)
    expect(lines.length).toBeGreaterThanOrEqual(4)
    const last = lines[lines.length - 1]!
    fs.appendFileSync(journalOf(A), last.slice(0, Math.floor(last.length / 2)))
    const logBefore = fs.existsSync(daemonLogOf(A)) ? read(daemonLogOf(A)) : ""
    const m = w.mount(A, "writeback=off")
    const newLog = read(daemonLogOf(A)).slice(logBefore.length)
    const warnings = [...newLog.split("\n"), ...m.stderr.split("\n")].filter((l) => /torn/i.test(l))
    expect(warnings, newLog + m.stderr).toHaveLength(1)
    expect(m.stderr).not.toMatch(/^\s+at /m)
    // the torn bytes are gone, everything before them is still there
    expect(read(journalOf(A))).toBe(intact)
    expect(read(path.join(A.mnt, "d", "one.txt"))).toBe("one\n")
    expect(read(path.join(A.mnt, "two.txt"))).toBe("two\n")
    expect(read(path.join(A.mnt, "three.txt"))).toBe("three\n")
    expect(pendingPaths(A)).toEqual(expect.arrayContaining(["d", "d/one.txt", "two.txt", "three.txt"]))
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
  })

  it("a damaged record in the middle: the mount fails with one line and the journal is untouched", async () => {
    const intact = fs.readFileSync(journalOf(A))
    const lines = journalLines(A)
    // change one character of the second record's JSON: its checksum no longer matches
    const i = 1
    lines[i] = lines[i]!.replace(/"seq":(\d)/, (_m, d) => `"seq":${(Number(d) + 1) % 10}`)
    expect(lines[i]).not.toBe(journalLines(A)[i])
    const damaged = lines.join("\n") + "\n"
    fs.writeFileSync(journalOf(A), damaged)
    try {
      const r = sharebox([A.mnt, "-o", `gitdir=${A.gitdir},writeback=off`])
      expect(r.code).not.toBe(0)
      const errLines = r.stderr.split("\n").filter(Boolean)
      expect(errLines, r.stderr).toHaveLength(1)
      expect(errLines[0]).toMatch(/journal/)
      expect(errLines[0]).toMatch(/line 2\b/)
      expect(r.stderr).not.toMatch(/^\s+at /m)
      expect(isMounted(A.mnt)).toBe(false)
      expect(fs.readFileSync(journalOf(A), "utf8")).toBe(damaged)
      expect(fs.existsSync(lockOf(A))).toBe(false)
      expect(fs.readdirSync(A.mnt)).toEqual([])
    } finally {
      fs.writeFileSync(journalOf(A), intact)
    }
    // repaired, it mounts and syncs again
    w.mount(A, "writeback=off")
    expect(read(path.join(A.mnt, "two.txt"))).toBe("two\n")
    const s = w.sync(A)
    expect(s.code, s.stderr).toBe(0)
    expect(git(A.gitdir, ["ls-files"]).stdout).toContain("two.txt")
  })

  it("regression: a git lock file left by a crash (git killed with sharebox) is removed, and the next sync works", async () => {
    // found by the kill -9 of a sync's whole process group (interop.test.ts): git's index.lock
    // stayed, and every later sync failed with "remove the file manually to continue"
    if (isMounted(A.mnt)) w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    const dead = spawnSync("true").pid!
    fs.writeFileSync(path.join(A.gitdir, ".git", "sharebox", "lock"), `${dead}\n`)
    const indexLock = path.join(A.gitdir, ".git", "index.lock")
    fs.writeFileSync(indexLock, "")
    const s = sharebox(["sync", A.gitdir])
    expect(s.code, s.stderr).toBe(0)
    expect(fs.existsSync(indexLock)).toBe(false)
    expect(git(A.gitdir, ["status", "--porcelain"]).code).toBe(0)
  })
})
