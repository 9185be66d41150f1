/**
 * Bad input gets one clear line on stderr, a non-zero exit, no stack trace, and changes nothing;
 * bad names inside the mount are refused by errno and leave no trace; `.git` inside the mount works
 * and is stored escaped.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, type Run, World, eventually, exec, git, isMounted, read, sharebox, sleep, write } from "./harness.js"

/**
 * Every entry below `dir` with its type, mode, size and a hash of its bytes, one line each (an
 * array, so that a failure shows the entries that differ); "absent" when there is no `dir`.
 */
const listing = (dir: string): Array<string> => {
  if (!fs.existsSync(dir)) return ["absent"]
  const out: Array<string> = []
  const walk = (p: string, rel: string) => {
    const st = fs.lstatSync(p)
    const mode = (st.mode & 0o7777).toString(8)
    if (st.isDirectory()) {
      out.push(`${rel}/ dir ${mode}`)
      for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n), `${rel}/${n}`)
    } else if (st.isSymbolicLink()) out.push(`${rel} -> ${fs.readlinkSync(p)}`)
    // a mount's live figures (the listing's own reads are counted there)
    else if (rel.endsWith("/.sharebox/status")) out.push(`${rel} status`)
    else if (st.isFile()) out.push(`${rel} file ${mode} ${st.size} ${createHash("sha256").update(fs.readFileSync(p)).digest("hex")}`)
    else out.push(`${rel} other ${mode}`)
  }
  walk(dir, "")
  return out
}

/** One line on stderr naming the problem, nothing on stdout, a non-zero exit, no stack trace. */
const expectOneLineRefusal = (r: Run, mentions?: RegExp): void => {
  expect(r.code, r.stderr).not.toBe(0)
  expect(r.code).toBeGreaterThan(0)
  expect(r.stderr, JSON.stringify(r.stderr)).toMatch(/^[^\n]+\n$/)
  expect(r.stderr).not.toMatch(/^ {4}at /m)
  expect(r.stdout).toBe("")
  if (mentions) expect(r.stderr).toMatch(mentions)
}

const errnoOf = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (e: any) {
    return e.code ?? String(e)
  }
}

describe("bad input", () => {
  const w = new World("sharebox-bad")
  let A: HostDirs
  const d = (name: string) => path.join(w.root, name)

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  /** Runs a mount that must be refused; checks that neither folder changed and nothing got mounted. */
  const refusedMount = (mnt: string, gitdir: string | undefined, options: string, mentions?: RegExp): void => {
    const before = [listing(mnt), gitdir ? listing(gitdir) : []]
    const r = sharebox([mnt, "-o", options])
    expectOneLineRefusal(r, mentions)
    expect([listing(mnt), gitdir ? listing(gitdir) : []]).toEqual(before)
    if (mnt !== A.mnt) expect(isMounted(mnt)).toBe(false)
  }

  describe("mount refuses", () => {
    it("an unknown -o option", () => {
      fs.mkdirSync(d("m1"))
      fs.mkdirSync(d("g1"))
      refusedMount(d("m1"), d("g1"), `gitdir=${d("g1")},frobnicate`, /frobnicate/)
      refusedMount(d("m1"), d("g1"), `gitdir=${d("g1")},writeback=sometimes`, /writeback/)
      expect(fs.readdirSync(d("g1"))).toEqual([])
    })

    it("a missing gitdir option", () => {
      refusedMount(d("m1"), undefined, "name=x", /gitdir/)
      const r = sharebox([d("m1")])
      expectOneLineRefusal(r, /gitdir/)
    })

    it("a gitdir that is a regular file", () => {
      write(d("gfile"), "not a directory\n")
      refusedMount(d("m1"), d("gfile"), `gitdir=${d("gfile")}`, /gfile/)
    })

    it("a gitdir that is a plain git repository with a commit", () => {
      fs.mkdirSync(d("plain"))
      write(path.join(d("plain"), "README"), "plain git\n")
      expect(git(d("plain"), ["init", "-q"]).code).toBe(0)
      expect(git(d("plain"), ["add", "README"]).code).toBe(0)
      expect(git(d("plain"), ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first"]).code).toBe(0)
      refusedMount(d("m1"), d("plain"), `gitdir=${d("plain")}`, /annex/)
      expect(git(d("plain"), ["config", "--get", "annex.uuid"]).stdout).toBe("")
    })

    it("a gitdir that is a non-empty directory of other files", () => {
      fs.mkdirSync(path.join(d("stuff"), "sub"), { recursive: true })
      write(path.join(d("stuff"), "notes.txt"), "mine\n")
      write(path.join(d("stuff"), "sub", "more.txt"), "also mine\n")
      refusedMount(d("m1"), d("stuff"), `gitdir=${d("stuff")}`, /stuff/)
    })

    it("a missing mountpoint", () => {
      refusedMount(d("nomnt"), d("g1"), `gitdir=${d("g1")}`, /nomnt/)
      expect(fs.existsSync(d("nomnt"))).toBe(false)
    })

    it("a mountpoint that is not empty", () => {
      fs.mkdirSync(d("m2"))
      write(path.join(d("m2"), "keep.txt"), "keep\n")
      refusedMount(d("m2"), d("g1"), `gitdir=${d("g1")}`, /m2/)
    })

    it("a mountpoint that is already mounted, and a gitdir already in use", () => {
      const beforeGit = listing(A.gitdir)
      const beforeMnt = listing(A.mnt)
      const r = sharebox([A.mnt, "-o", `gitdir=${A.gitdir}`])
      expectOneLineRefusal(r, /mounted|in use/)
      refusedMount(A.mnt, d("g1"), `gitdir=${d("g1")}`, /mounted/)
      refusedMount(d("m1"), A.gitdir, `gitdir=${A.gitdir}`, /in use/)
      expect(listing(A.gitdir)).toEqual(beforeGit)
      expect(listing(A.mnt)).toEqual(beforeMnt)
      // the first mount still works
      write(path.join(A.mnt, "still.txt"), "alive\n")
      expect(read(path.join(A.mnt, "still.txt"))).toBe("alive\n")
    })
  })

  describe("the command line refuses", () => {
    it("a sync or log of a path that does not exist", () => {
      expectOneLineRefusal(sharebox(["sync", "/nonexistent"]), /nonexistent/)
      expectOneLineRefusal(sharebox(["log", "/nonexistent"]), /nonexistent/)
      expectOneLineRefusal(sharebox(["--command", "sync", "/nonexistent"]), /nonexistent/)
    })

    it("unknown subcommand-like words and stray arguments", () => {
      // what A's daemon still has to write back (still.txt above) is written now, not during the checks
      const r = sharebox(["replay", A.mnt])
      expect(r.code, r.stderr).toBe(0)
      const before = listing(w.root)
      expectOneLineRefusal(sharebox(["frobnicate"], { cwd: w.root }))
      expectOneLineRefusal(sharebox(["syncc", A.mnt], { cwd: w.root }))
      expectOneLineRefusal(sharebox(["sync", A.mnt, "extra"], { cwd: w.root }))
      expectOneLineRefusal(sharebox(["mount"], { cwd: w.root }))
      expect(fs.existsSync(d("frobnicate"))).toBe(false)
      expect(listing(w.root)).toEqual(before)
    })
  })

  describe("inside the mount", () => {
    const headOf = () => git(A.gitdir, ["rev-parse", "HEAD"]).stdout

    it("a name over 255 bytes is refused with ENAMETOOLONG and nothing is created", async () => {
      await sleep(1500) // let earlier writes be written back
      const head = headOf()
      const before = fs.readdirSync(A.mnt).sort()
      const ascii = "a".repeat(256)
      const twoByte = "é".repeat(128) // 128 characters, 256 bytes
      fs.mkdirSync(path.join(A.mnt, "dir"))
      write(path.join(A.mnt, "short.txt"), "short\n")
      for (const name of [ascii, twoByte]) {
        expect(errnoOf(() => write(path.join(A.mnt, name), "x"))).toBe("ENAMETOOLONG")
        expect(errnoOf(() => fs.mkdirSync(path.join(A.mnt, name)))).toBe("ENAMETOOLONG")
        expect(errnoOf(() => write(path.join(A.mnt, "dir", name), "x"))).toBe("ENAMETOOLONG")
        expect(errnoOf(() => fs.symlinkSync("short.txt", path.join(A.mnt, name)))).toBe("ENAMETOOLONG")
        expect(errnoOf(() => fs.renameSync(path.join(A.mnt, "short.txt"), path.join(A.mnt, name)))).toBe("ENAMETOOLONG")
      }
      const t = exec("touch", [path.join(A.mnt, ascii)])
      expect(t.code).not.toBe(0)
      expect(t.stderr).toMatch(/too long/i)
      expect(fs.readdirSync(A.mnt).sort()).toEqual([...before, "dir", "short.txt"].sort())
      expect(fs.readdirSync(path.join(A.mnt, "dir"))).toEqual([])
      expect(read(path.join(A.mnt, "short.txt"))).toBe("short\n")
      // exactly 255 bytes is fine
      const max = "b".repeat(255)
      write(path.join(A.mnt, "dir", max), "longest name\n")
      expect(read(path.join(A.mnt, "dir", max))).toBe("longest name\n")
      expect(await eventually(() => headOf() !== head && git(A.gitdir, ["ls-files"]).stdout.includes(max), 5000, 100)).toBe(true)
      const stored = git(A.gitdir, ["ls-files"]).stdout
      expect(stored).not.toContain(ascii)
      expect(stored).not.toContain(twoByte)
    })

    it("`.sharebox` at the root cannot be created, replaced or written into", () => {
      const before = fs.readdirSync(path.join(A.mnt, ".sharebox")).sort()
      write(path.join(A.mnt, "victim.txt"), "stay\n")
      expect(errnoOf(() => fs.mkdirSync(path.join(A.mnt, ".sharebox")))).toBeDefined()
      expect(exec("touch", [path.join(A.mnt, ".sharebox")]).code).not.toBe(0)
      expect(exec("touch", [path.join(A.mnt, ".sharebox", "x")]).code).not.toBe(0)
      expect(exec("mkdir", [path.join(A.mnt, ".sharebox", "y")]).code).not.toBe(0)
      expect(errnoOf(() => fs.renameSync(path.join(A.mnt, "victim.txt"), path.join(A.mnt, ".sharebox")))).toBeDefined()
      expect(errnoOf(() => fs.rmdirSync(path.join(A.mnt, ".sharebox")))).toBeDefined()
      expect(read(path.join(A.mnt, "victim.txt"))).toBe("stay\n")
      expect(fs.readdirSync(path.join(A.mnt, ".sharebox")).sort()).toEqual(before)
      expect(fs.existsSync(path.join(A.mnt, ".sharebox", "x"))).toBe(false)
      // the root still lists cleanly, without `.sharebox` (-o snapdir=hidden), which is there by name
      const ls = exec("ls", ["-la", A.mnt])
      expect(ls.stderr).toBe("")
      expect(ls.code).toBe(0)
      expect(ls.stdout).toMatch(/ victim\.txt$/m)
      expect(ls.stdout).not.toMatch(/ \.sharebox$/m)
      expect(exec("ls", ["-lad", path.join(A.mnt, ".sharebox")]).stdout).toMatch(/^dr.* \S*\/\.sharebox$/m)
      // and `.sharebox` never reaches git
      expect(git(A.gitdir, ["ls-files"]).stdout.split("\n").some((p) => p.split("/")[0] === ".sharebox")).toBe(false)
      // deeper down, `.sharebox` is an ordinary name
      fs.mkdirSync(path.join(A.mnt, "dir", ".sharebox"))
      expect(fs.statSync(path.join(A.mnt, "dir", ".sharebox")).isDirectory()).toBe(true)
    })

    it("a `.git` directory inside the mount works (git clone) and is stored as `.git~`", async () => {
      // a small repository to clone, outside the mount
      const src = d("src")
      fs.mkdirSync(src)
      write(path.join(src, "hello.txt"), "hello from git\n")
      expect(git(src, ["init", "-q", "-b", "main"]).code).toBe(0)
      expect(git(src, ["add", "."]).code).toBe(0)
      expect(git(src, ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first"]).code).toBe(0)
      const clone = path.join(A.mnt, "proj")
      const c = exec("git", ["clone", "-q", src, clone])
      expect(c.code, c.stderr).toBe(0)
      expect(read(path.join(clone, "hello.txt"))).toBe("hello from git\n")
      expect(fs.statSync(path.join(clone, ".git")).isDirectory()).toBe(true)
      expect(git(clone, ["status", "--porcelain"]).stdout).toBe("")
      expect(git(clone, ["log", "--format=%s"]).stdout.trim()).toBe("first")
      // a commit made inside the mount
      write(path.join(clone, "more.txt"), "more\n")
      expect(git(clone, ["add", "more.txt"]).code).toBe(0)
      expect(git(clone, ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "second"]).code).toBe(0)
      const r = sharebox(["replay", A.mnt])
      expect(r.code, r.stderr).toBe(0)
      const stored = git(A.gitdir, ["ls-files"]).stdout.split("\n").filter(Boolean)
      expect(stored.filter((p) => p.split("/").some((n) => n.toLowerCase() === ".git"))).toEqual([])
      expect(stored).toContain("proj/.git~/HEAD")
      expect(stored).toContain("proj/hello.txt")
      expect(stored.some((p) => p.startsWith("proj/.git~/objects/"))).toBe(true)
      // the mount still shows `.git`, and the clone is a working repository after the replay
      expect(fs.readdirSync(clone)).toContain(".git")
      expect(fs.readdirSync(clone)).not.toContain(".git~")
      expect(git(clone, ["log", "--format=%s"]).stdout.trim().split("\n")).toEqual(["second", "first"])
      const fsck = git(clone, ["fsck", "--no-progress"])
      expect(fsck.code, fsck.stderr).toBe(0)
    })
  })
})
