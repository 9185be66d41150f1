/**
 * Other users of the same machine: they reach a mount only when it is mounted with allow_other,
 * and then only as the files' modes allow.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, type Run, World, exec, git, read, sharebox, write } from "./harness.js"

/** Runs a command as nobody (uid and gid 65534, no supplementary groups). */
const asNobody = (cmd: string, args: ReadonlyArray<string>): Run =>
  exec("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", cmd, ...args])

const refused = (r: Run): boolean => r.code !== 0 && /Permission denied|Operation not permitted/.test(r.stderr)

describe("another user and a mount", () => {
  const w = new World("sharebox-users")
  let open: HostDirs
  let closed: HostDirs

  beforeAll(() => {
    // mkdtemp makes its folder 0700: another user must be able to reach the mountpoints
    fs.chmodSync(w.root, 0o755)
    open = w.host("open")
    closed = w.host("closed")
    w.mount(open, "allow_other")
    w.mount(closed)
    for (const h of [open, closed]) {
      write(path.join(h.mnt, "mine.txt"), "mine\n")
      fs.mkdirSync(path.join(h.mnt, "dir"))
    }
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("sees the files of an allow_other mount as its owner's, 0644 and 0755", () => {
    const r = asNobody("stat", ["-c", "%u %a", path.join(open.mnt, "mine.txt"), path.join(open.mnt, "dir")])
    expect(r.code, r.stderr).toBe(0)
    const uid = process.getuid!()
    expect(r.stdout).toBe(`${uid} 644\n${uid} 755\n`)
  })

  it("reads a 0644 file of an allow_other mount", () => {
    const r = asNobody("cat", [path.join(open.mnt, "mine.txt")])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe("mine\n")
  })

  it("cannot write, truncate or delete a 0644 file of an allow_other mount, nor create in a 0755 folder", () => {
    const f = path.join(open.mnt, "mine.txt")
    expect(refused(asNobody("sh", ["-c", 'echo theirs >> "$1"', "sh", f]))).toBe(true)
    expect(refused(asNobody("truncate", ["-s", "0", f]))).toBe(true)
    expect(refused(asNobody("rm", ["-f", f]))).toBe(true)
    expect(refused(asNobody("touch", [path.join(open.mnt, "dir", "theirs.txt")]))).toBe(true)
    expect(refused(asNobody("mkdir", [path.join(open.mnt, "theirs")]))).toBe(true)
    expect(refused(asNobody("mv", [f, path.join(open.mnt, "dir", "moved.txt")]))).toBe(true)
    expect(read(f)).toBe("mine\n")
    expect(fs.readdirSync(open.mnt).sort()).toEqual(["dir", "mine.txt"])
    expect(fs.readdirSync(path.join(open.mnt, "dir"))).toEqual([])
  })

  it("cannot even look at a mount without allow_other", () => {
    expect(refused(asNobody("stat", [closed.mnt]))).toBe(true)
    expect(refused(asNobody("cat", [path.join(closed.mnt, "mine.txt")]))).toBe(true)
  })
})

describe("a gitdir sharebox initialises", () => {
  const w = new World("sharebox-gitdirs")
  const modeOf = (p: string) => (fs.statSync(p).mode & 0o777).toString(8)
  const expectPrivate = (gitdir: string) => {
    expect(modeOf(gitdir)).toBe("700")
    expect(refused(asNobody("ls", [gitdir]))).toBe(true)
    expect(refused(asNobody("cat", [path.join(gitdir, ".git", "config")]))).toBe(true)
  }

  beforeAll(() => {
    fs.chmodSync(w.root, 0o755)
  })

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("is private after a mount of an empty folder", () => {
    const h = w.host("empty")
    fs.chmodSync(h.gitdir, 0o755)
    w.mount(h)
    expectPrivate(h.gitdir)
  })

  it("is private after a mount that creates it", () => {
    const h = w.host("created")
    fs.rmdirSync(h.gitdir)
    w.mount(h)
    expectPrivate(h.gitdir)
  })

  it("is private after sharebox init, of a new folder and of an empty one", () => {
    const fresh = path.join(w.root, "fresh")
    const empty = path.join(w.root, "emptyinit")
    fs.mkdirSync(empty, { mode: 0o755 })
    for (const d of [fresh, empty]) {
      const r = sharebox(["init", d])
      expect(r.code, r.stderr).toBe(0)
      expectPrivate(d)
    }
  })

  it("keeps the mode of a repository its user made", () => {
    const h = w.host("own")
    for (const args of [["init", "-q", "-b", "main"], ["annex", "init", "--quiet", "own"]]) expect(git(h.gitdir, args).code).toBe(0)
    fs.chmodSync(h.gitdir, 0o750)
    w.mount(h)
    expect(modeOf(h.gitdir)).toBe("750")
  })
})

describe("the control socket's folder under $TMPDIR (a gitdir whose own socket path is too long)", () => {
  const w = new World("sharebox-sockdir")
  let A: HostDirs
  const tmp = () => path.join(w.root, "tmp")
  const folder = () => path.join(tmp(), `sharebox-${process.getuid!()}`)
  const mount = () => sharebox([A.mnt, "-o", `gitdir=${A.gitdir}`], { env: { TMPDIR: tmp() } })
  const reset = async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    fs.rmSync(folder(), { recursive: true, force: true })
  }
  /** One line on stderr naming the folder and the problem, a non-zero exit, no stack trace, no mount. */
  const expectRefusal = (r: Run, problem: RegExp) => {
    expect(r.code, r.stderr).toBeGreaterThan(0)
    expect(r.stderr, JSON.stringify(r.stderr)).toMatch(/^sharebox: [^\n]+\n$/)
    expect(r.stderr).toContain(folder())
    expect(r.stderr).toMatch(problem)
    expect(r.stdout).toBe("")
  }

  beforeAll(() => {
    A = w.host("l".repeat(100))
    expect(Buffer.byteLength(path.join(A.gitdir, ".git", "sharebox", "daemon.sock"))).toBeGreaterThan(110)
    fs.mkdirSync(tmp(), { mode: 0o1777 })
    fs.chmodSync(tmp(), 0o1777)
  })

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("refuses a folder others may write to", async () => {
    fs.mkdirSync(folder(), { mode: 0o777 })
    fs.chmodSync(folder(), 0o777)
    const r = mount()
    await reset()
    expectRefusal(r, /777/)
    expect(fs.readdirSync(A.gitdir)).toEqual([]) // refused before it was initialised
  })

  it("refuses a folder another user owns", async () => {
    fs.mkdirSync(folder(), { mode: 0o700 })
    fs.chownSync(folder(), 65534, 65534)
    const r = mount()
    await reset()
    expectRefusal(r, /65534/)
  })

  it("refuses a symbolic link in its place", async () => {
    const elsewhere = path.join(w.root, "elsewhere")
    fs.mkdirSync(elsewhere, { mode: 0o700 })
    fs.symlinkSync(elsewhere, folder())
    const r = mount()
    await reset()
    expectRefusal(r, /symbolic link/)
    expect(fs.readdirSync(elsewhere)).toEqual([])
  })

  it("makes the folder private, and the command line will not talk through one that is not", async () => {
    const r = mount()
    expect(r.code, r.stderr).toBe(0)
    expect(fs.lstatSync(folder()).mode & 0o777).toBe(0o700)
    expect(fs.readdirSync(folder()).some((n) => n.endsWith(".sock"))).toBe(true)
    const status = sharebox(["status", A.mnt])
    expect(status.code, status.stderr).toBe(0)
    fs.chmodSync(folder(), 0o755)
    try {
      expectRefusal(sharebox(["status", A.mnt]), /755/)
    } finally {
      fs.chmodSync(folder(), 0o700)
    }
    expect(sharebox(["status", A.mnt]).code).toBe(0)
    await reset()
  })
})
