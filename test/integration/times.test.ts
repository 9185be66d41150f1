/**
 * The times `stat` shows in a mount, as POSIX has them: utimensat's UTIME_NOW and UTIME_OMIT for
 * each of atime and mtime, a ctime that moves on every change of content or status, folders' mtimes
 * that move with their names, and atime as relatime. Only a file's and a symlink's mtime is synced;
 * the rest is the mount's own (src/fuse/times.ts, docs/layout.md "Times").
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { BIN, type HostDirs, type Run, eventually, exec, execAsync, sh, sleep, statusValue, useWorld } from "./harness.js"

const ok = (r: Run, what: string): Run => {
  expect(r.code, `${what} failed (${r.code}):\n${r.stderr}${r.stdout}`).toBe(0)
  return r
}

interface Times {
  readonly atime: number
  readonly mtime: number
  readonly ctime: number
}

/** `stat -c '%X %Y %Z'` to the millisecond (the mount keeps milliseconds). */
const timesOf = (p: string): Times => {
  const [atime, mtime, ctime] = ok(exec("stat", ["-c", "%.3X %.3Y %.3Z", p]), `stat ${p}`)
    .stdout.trim()
    .split(" ")
    .map((s) => Math.round(Number(s) * 1000))
  return { atime: atime!, mtime: mtime!, ctime: ctime! }
}

/**
 * utimensat(2) with each time a number of seconds, "now" (UTIME_NOW) or "omit" (UTIME_OMIT):
 * python's os.utime cannot omit one time, so the call is made through ctypes.
 */
const UTIMENSAT = `
import ctypes, os, sys
class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]
def spec(a):
    return Timespec(0, (1 << 30) - 1) if a == "now" else Timespec(0, (1 << 30) - 2) if a == "omit" else Timespec(int(a), 0)
libc = ctypes.CDLL(None, use_errno=True)
if libc.utimensat(-100, os.fsencode(sys.argv[1]), (Timespec * 2)(spec(sys.argv[2]), spec(sys.argv[3])), 0) != 0:
    sys.exit("utimensat: " + os.strerror(ctypes.get_errno()))
`
const utimensat = (p: string, atime: number | "now" | "omit", mtime: number | "now" | "omit"): void => {
  ok(exec("python3", ["-c", UTIMENSAT, p, String(atime), String(mtime)]), `utimensat ${p} ${atime} ${mtime}`)
}

/** Lets the clock move on, so that "moved" and "did not move" differ by more than a millisecond. */
const tick = () => sleep(20)

const Y2001 = Date.UTC(2001, 1, 3, 4, 5, 6)
const Y2002 = Date.UTC(2002, 1, 3, 4, 5, 6)

describe("times in a mount", () => {
  const w = useWorld("sharebox-times")
  let A: HostDirs
  let B: HostDirs
  const a = (p = "") => path.join(A.mnt, p)
  const b = (p = "") => path.join(B.mnt, p)
  const inA = (script: string) => ok(sh(script, A.mnt), `in A: ${script}`)
  const pending = () => Number(statusValue(A, "pending"))

  beforeAll(() => {
    // A replays only at sync: its pending events are there to count
    ;[A, B] = w.pair(["writeback=off"])
  }, 60_000)

  it("touch -a -d sets the atime alone, touch -m -d the mtime alone; each moves the ctime", async () => {
    inA("echo one > ta.txt")
    const made = timesOf(a("ta.txt"))
    // made, then written: the atime is the making's, the mtime and ctime the write's
    expect(made.atime).toBeLessThanOrEqual(made.mtime)
    expect(made.ctime).toBe(made.mtime)
    await tick()
    inA("touch -a -d '2001-02-03 04:05:06 UTC' ta.txt")
    const afterA = timesOf(a("ta.txt"))
    expect(afterA.atime).toBe(Y2001)
    expect(afterA.mtime).toBe(made.mtime)
    expect(afterA.ctime).toBeGreaterThan(made.ctime)
    await tick()
    inA("touch -m -d '2002-02-03 04:05:06 UTC' ta.txt")
    const afterM = timesOf(a("ta.txt"))
    expect(afterM.atime).toBe(Y2001)
    expect(afterM.mtime).toBe(Y2002)
    expect(afterM.ctime).toBeGreaterThan(afterA.ctime)
    inA("touch -d '2001-02-03 04:05:06 UTC' ta.txt")
    expect(timesOf(a("ta.txt"))).toMatchObject({ atime: Y2001, mtime: Y2001 })
  })

  it("utimensat: UTIME_OMIT leaves a time, UTIME_NOW makes it now; both omitted change nothing, and only an mtime is journalled", async () => {
    inA("echo two > tu.txt && touch -d '2001-02-03 04:05:06 UTC' tu.txt")
    const start = timesOf(a("tu.txt"))
    const events = pending()
    await tick()
    utimensat(a("tu.txt"), "omit", "omit")
    expect(timesOf(a("tu.txt"))).toEqual(start)
    utimensat(a("tu.txt"), 1_000_000, "omit")
    const atimeSet = timesOf(a("tu.txt"))
    expect(atimeSet).toMatchObject({ atime: 1_000_000_000, mtime: Y2001 })
    expect(atimeSet.ctime).toBeGreaterThan(start.ctime)
    // the atime is the mount's own: nothing to journal
    expect(pending()).toBe(events)
    await tick()
    const before = Date.now()
    utimensat(a("tu.txt"), "now", "omit")
    const atimeNow = timesOf(a("tu.txt"))
    expect(atimeNow.atime).toBeGreaterThanOrEqual(before)
    expect(atimeNow.mtime).toBe(Y2001)
    expect(pending()).toBe(events)
    await tick()
    utimensat(a("tu.txt"), "omit", "now")
    const mtimeNow = timesOf(a("tu.txt"))
    expect(mtimeNow.atime).toBe(atimeNow.atime)
    expect(mtimeNow.mtime).toBeGreaterThan(atimeNow.atime)
    expect(mtimeNow.ctime).toBe(mtimeNow.mtime)
    expect(pending()).toBe(events + 1)
    utimensat(a("tu.txt"), "omit", 1_500_000)
    expect(timesOf(a("tu.txt"))).toMatchObject({ atime: atimeNow.atime, mtime: 1_500_000_000 })
    expect(pending()).toBe(events + 2)
  })

  it("the ctime moves on chmod, rename, write, truncate and utimens; the mtime only with the content", async () => {
    inA("echo three > tc.txt && touch -d '2001-02-03 04:05:06 UTC' tc.txt")
    let last = timesOf(a("tc.txt"))
    /** `script` changes `file`'s content, its status, or its atime (by utimens) */
    const step = async (script: string, file: string, change: "content" | "status" | "atime") => {
      await tick()
      inA(script)
      const now = timesOf(a(file))
      expect(now.ctime, script).toBeGreaterThan(last.ctime)
      if (change === "content") expect(now.mtime, script).toBe(now.ctime)
      else expect(now.mtime, script).toBe(last.mtime)
      if (change !== "atime") expect(now.atime, script).toBe(last.atime)
      last = now
    }
    await step("chmod 755 tc.txt", "tc.txt", "status")
    await step("chmod 755 tc.txt", "tc.txt", "status") // the same mode: chmod(2) still marks the ctime
    await step("mv tc.txt tc2.txt", "tc2.txt", "status")
    await step("echo more >> tc2.txt", "tc2.txt", "content")
    await step("truncate -s 2 tc2.txt", "tc2.txt", "content") // ftruncate(2) of an open file
    await step(`python3 -c "import os; os.truncate('tc2.txt', 1)"`, "tc2.txt", "content") // truncate(2) of a path
    await step("touch -a -d '2002-02-03 04:05:06 UTC' tc2.txt", "tc2.txt", "atime")
    expect(last.atime).toBe(Y2002)
  })

  it("a folder's mtime and ctime move when a name is made, removed or renamed in it; touch sets them", async () => {
    inA("mkdir -p tf/sub tf/other")
    const folder = () => timesOf(a("tf"))
    let last = folder()
    expect(last.mtime).toBeGreaterThan(0)
    for (const script of ["echo x > tf/f", "mkdir tf/d", "ln -s f tf/l", "mv tf/f tf/g", "mv tf/g tf/other/g", "rm tf/l", "rmdir tf/d", "mv tf/other/g tf/h"]) {
      await tick()
      inA(script)
      const now = folder()
      expect(now.mtime, script).toBeGreaterThan(last.mtime)
      expect(now.ctime, script).toBe(now.mtime)
      last = now
    }
    // a name changed below it is not a change of the folder
    await tick()
    inA("echo y > tf/sub/y")
    expect(folder()).toEqual(last)
    inA("touch -d '2001-02-03 04:05:06 UTC' tf")
    const touched = folder()
    expect(touched).toMatchObject({ atime: Y2001, mtime: Y2001 })
    expect(touched.ctime).toBeGreaterThan(last.ctime)
  })

  it("relatime: the first read after a write moves the atime, the second does not; a listing likewise", async () => {
    inA("echo four > tr.txt")
    const written = timesOf(a("tr.txt"))
    await tick()
    expect(fs.readFileSync(a("tr.txt"), "utf8")).toBe("four\n")
    const firstRead = timesOf(a("tr.txt"))
    expect(firstRead.atime).toBeGreaterThan(written.mtime)
    expect(firstRead).toMatchObject({ mtime: written.mtime, ctime: written.ctime })
    await tick()
    fs.readFileSync(a("tr.txt"))
    expect(timesOf(a("tr.txt"))).toEqual(firstRead)
    await tick()
    inA("echo five >> tr.txt")
    const rewritten = timesOf(a("tr.txt"))
    expect(rewritten.atime).toBe(firstRead.atime) // writing is not reading
    await tick()
    fs.readFileSync(a("tr.txt"))
    expect(timesOf(a("tr.txt")).atime).toBeGreaterThan(rewritten.mtime)

    inA("mkdir tl && echo z > tl/z")
    const listed = timesOf(a("tl"))
    await tick()
    fs.readdirSync(a("tl"))
    const firstListing = timesOf(a("tl")).atime
    expect(firstListing).toBeGreaterThan(listed.mtime)
    await tick()
    fs.readdirSync(a("tl"))
    expect(timesOf(a("tl")).atime).toBe(firstListing)
  })

  it("a peer's change moves the ctime of what it changed (content or mode) and the mtime of the folder it added to; the mtime synced is the writer's", async () => {
    inA("mkdir -p tp && echo old > tp/edited.txt && touch -m -d '2001-02-03 04:05:06 UTC' tp/edited.txt && echo m > tp/chmodded.txt")
    ok(await execAsync(BIN, ["sync", A.mnt]), "sync A")
    ok(await execAsync(BIN, ["sync", B.mnt]), "sync B")
    expect(fs.readFileSync(b("tp/edited.txt"), "utf8")).toBe("old\n")
    const edited = timesOf(b("tp/edited.txt"))
    expect(edited.mtime).toBe(Y2001)
    const folder = timesOf(b("tp"))
    const chmodded = timesOf(b("tp/chmodded.txt"))
    await tick()
    const syncedAt = Date.now()
    inA("echo new > tp/edited.txt && touch -m -d '2002-02-03 04:05:06 UTC' tp/edited.txt && echo added > tp/added.txt && chmod 600 tp/chmodded.txt")
    ok(await execAsync(BIN, ["sync", A.mnt]), "sync A")
    ok(await execAsync(BIN, ["sync", B.mnt]), "sync B")
    // B's kernel may answer from its attribute cache for up to attr_timeout (1 s)
    expect(await eventually(() => timesOf(b("tp/edited.txt")).mtime === Y2002, 3000)).toBe(true)
    const after = timesOf(b("tp/edited.txt"))
    expect(after.ctime).toBeGreaterThanOrEqual(syncedAt)
    expect(fs.readFileSync(b("tp/edited.txt"), "utf8")).toBe("new\n")
    expect(await eventually(() => timesOf(b("tp")).mtime >= syncedAt, 3000)).toBe(true)
    expect(timesOf(b("tp")).mtime).toBeGreaterThan(folder.mtime)
    expect(timesOf(b("tp/added.txt")).ctime).toBeGreaterThanOrEqual(syncedAt)
    // a peer's chmod: the mode and the ctime move, the mtime stays
    expect(await eventually(() => (fs.statSync(b("tp/chmodded.txt")).mode & 0o777) === 0o600, 3000)).toBe(true)
    expect(timesOf(b("tp/chmodded.txt"))).toMatchObject({ mtime: chmodded.mtime, atime: chmodded.atime })
    expect(timesOf(b("tp/chmodded.txt")).ctime).toBeGreaterThanOrEqual(syncedAt)
  })

  // Regression: a new file's fchmod and futimens while it was still open (as `cp -p` and `install`
  // make them) were journalled before the file was, as a chmod and a utimens of nothing: a sync
  // meanwhile logged that they "no longer apply". Its first version carries both.
  it("fchmod and futimens of a new file still open, as cp -p makes them: journalled with its first version, and the peer has both", async () => {
    const events = pending()
    const fd = fs.openSync(a("tcp.txt"), "wx", 0o644)
    try {
      fs.writeSync(fd, "copied\n")
      fs.fchmodSync(fd, 0o750)
      fs.futimesSync(fd, Y2001 / 1000, Y2001 / 1000)
      expect(pending(), "nothing journalled while the new file is open").toBe(events)
      expect(fs.statSync(a("tcp.txt")).mode & 0o777).toBe(0o750)
      expect(timesOf(a("tcp.txt")).mtime).toBe(Y2001)
      // a sync while it is open (its replay recomputes the view over the pending events)
      ok(await execAsync(BIN, ["sync", A.mnt]), "sync A while the file is open")
    } finally {
      fs.closeSync(fd)
    }
    expect(await eventually(() => pending() === events + 1, 3000), "one event: the write").toBe(true)
    ok(await execAsync(BIN, ["sync", A.mnt]), "sync A")
    ok(await execAsync(BIN, ["sync", B.mnt]), "sync B")
    expect(await eventually(() => fs.existsSync(b("tcp.txt")), 3000)).toBe(true)
    expect(fs.statSync(b("tcp.txt")).mode & 0o777).toBe(0o750)
    expect(timesOf(b("tcp.txt")).mtime).toBe(Y2001)
    expect(fs.readFileSync(path.join(A.gitdir, ".git", "sharebox", "daemon.log"), "utf8")).not.toMatch(/no longer applies/)
  })

  it("local times are not synced: an atime set on A stays on A", async () => {
    inA("echo six > tn.txt && touch -a -d '2001-02-03 04:05:06 UTC' tn.txt && touch -m -d '2002-02-03 04:05:06 UTC' tn.txt")
    ok(await execAsync(BIN, ["sync", A.mnt]), "sync A")
    ok(await execAsync(BIN, ["sync", B.mnt]), "sync B")
    expect(await eventually(() => fs.existsSync(b("tn.txt")), 3000)).toBe(true)
    const onB = timesOf(b("tn.txt"))
    expect(onB.mtime).toBe(Y2002)
    expect(onB.atime).not.toBe(Y2001)
    expect(timesOf(a("tn.txt")).atime).toBe(Y2001)
    // B has kept nothing of this file but its arrival: writing it leaves the atime as it was
    await tick()
    ok(sh("echo more >> tn.txt", B.mnt), "append on B")
    const written = timesOf(b("tn.txt"))
    expect(written.mtime).toBeGreaterThan(onB.ctime)
    expect(written.ctime).toBe(written.mtime)
    expect(written.atime).toBe(onB.atime)
  })
})
