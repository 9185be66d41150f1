/**
 * What a mount does at start-up and what getattr remembers: the work tree is checked (and put back
 * at HEAD) only when something may have been left half done, and a file whose content is absent
 * shows its blocks as soon as the content arrives.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, eventually, git, isMounted, read, sharebox, write } from "./harness.js"

const ok = (r: { code: number | null; stderr: string }, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0)
const lockOf = (h: HostDirs) => path.join(h.gitdir, ".git", "sharebox", "lock")

/** Mounts with git's trace on; returns the git commands the mount (CLI and daemon) ran. */
const tracedMount = (w: World, h: HostDirs): Array<string> => {
  const trace = path.join(w.root, `${h.name}-trace-${Date.now()}`)
  const r = sharebox([h.mnt, "-o", `gitdir=${h.gitdir},name=${h.name}`], { env: { ...process.env, GIT_TRACE: trace } })
  ok(r, `mount ${h.name}`)
  const lines = fs.existsSync(trace) ? read(trace).split("\n") : []
  return lines.filter((l) => /trace: built-in: git /.test(l)).map((l) => l.replace(/^.*trace: built-in: /, ""))
}
const ranStatus = (cmds: ReadonlyArray<string>) => cmds.some((c) => /^git status\b/.test(c))

const killDaemon = async (h: HostDirs) => {
  const pid = Number(read(lockOf(h)).trim())
  process.kill(pid, "SIGKILL")
  expect(await eventually(() => !fs.existsSync(`/proc/${pid}`) || /^\d+ \(.*\) Z /.test(read(`/proc/${pid}/stat`)), 10_000, 50)).toBe(true)
  expect(fs.existsSync(lockOf(h))).toBe(true) // left behind, stale
}

describe("the work-tree check at mount", () => {
  const w = new World("sharebox-startup")
  let A: HostDirs

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "a.txt"), "alpha\n")
    fs.mkdirSync(path.join(A.mnt, "sub"))
    write(path.join(A.mnt, "sub", "b.txt"), "beta\n")
    ok(sharebox(["replay", A.mnt]), "replay")
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("a remount after a clean unmount does not scan the work tree", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    const cmds = tracedMount(w, A)
    expect(cmds.length).toBeGreaterThan(0) // the trace works
    expect(ranStatus(cmds)).toBe(false)
    expect(read(path.join(A.mnt, "a.txt"))).toBe("alpha\n")
  })

  it("after a kill -9 in the middle of a checkout, the mount puts the work tree back at HEAD", async () => {
    await killDaemon(A)
    fs.rmSync(path.join(A.gitdir, "a.txt")) // as if read-tree -u had stopped half way
    fs.rmSync(path.join(A.gitdir, "sub", "b.txt")) // a symlink to the object: replaced, not written through
    fs.writeFileSync(path.join(A.gitdir, "sub", "b.txt"), "half written")
    expect(git(A.gitdir, ["status", "--porcelain"]).stdout.trim()).not.toBe("")
    const cmds = tracedMount(w, A)
    expect(ranStatus(cmds)).toBe(true)
    expect(git(A.gitdir, ["status", "--porcelain"]).stdout.trim()).toBe("")
    expect(read(path.join(A.mnt, "a.txt"))).toBe("alpha\n")
    expect(read(path.join(A.mnt, "sub", "b.txt"))).toBe("beta\n")
  })

  it("an index that is not HEAD's tree (no crash) is noticed and put back too", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    ok(git(A.gitdir, ["rm", "-q", "--cached", "a.txt"]), "git rm --cached")
    expect(git(A.gitdir, ["status", "--porcelain"]).stdout.trim()).not.toBe("")
    const cmds = tracedMount(w, A)
    expect(ranStatus(cmds)).toBe(true)
    expect(git(A.gitdir, ["status", "--porcelain"]).stdout.trim()).toBe("")
    expect(read(path.join(A.mnt, "a.txt"))).toBe("alpha\n")
  })
})

describe("getattr of a file whose content is absent", () => {
  const w = new World("sharebox-absent")
  let A: HostDirs
  let B: HostDirs
  const blocks = (f: string) => fs.statSync(f).blocks

  beforeAll(() => {
    ;[A, B] = w.pair()
    for (const n of ["got.txt", "opened.txt", "outside.txt"]) write(path.join(A.mnt, n), `${n} `.repeat(2000))
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
  }, 90_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("shows no blocks, again and again, then blocks as soon as sharebox get fetched it", async () => {
    const f = path.join(B.mnt, "got.txt")
    for (let i = 0; i < 3; i++) expect(blocks(f)).toBe(0)
    ok(sharebox(["get", f]), "get")
    // well within the time an absent key is remembered: the get itself must make it forget
    expect(await eventually(() => blocks(f) > 0, 4000, 100)).toBe(true)
  })

  it("shows its blocks once an open has fetched it", async () => {
    const f = path.join(B.mnt, "opened.txt")
    expect(blocks(f)).toBe(0)
    expect(read(f)).toBe("opened.txt ".repeat(2000))
    expect(await eventually(() => blocks(f) > 0, 4000, 100)).toBe(true)
  })

  it("shows its blocks a little later when a stock git annex get brought it behind the daemon's back", async () => {
    const f = path.join(B.mnt, "outside.txt")
    expect(blocks(f)).toBe(0)
    ok(git(B.gitdir, ["annex", "get", "--quiet", "outside.txt"]), "git annex get")
    expect(isMounted(B.mnt)).toBe(true)
    expect(await eventually(() => blocks(f) > 0, 15_000, 250)).toBe(true)
  })
})

describe("the tree snapshot", () => {
  const w = new World("sharebox-snapshot")
  let A: HostDirs
  const snapshotOf = (h: HostDirs) => path.join(h.gitdir, ".git", "sharebox", "tree.json")
  const remount = async (h: HostDirs): Promise<Array<string>> => {
    w.unmount(h)
    expect(await w.settled(h)).toBe(true)
    const cmds = tracedMount(w, h)
    // written after the mount is ready, when the tree came from git
    expect(await eventually(() => fs.existsSync(snapshotOf(h)), 10_000)).toBe(true)
    return cmds
  }
  const readTree = (cmds: ReadonlyArray<string>) => cmds.some((c) => /^git ls-tree\b/.test(c))

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "a.txt"), "alpha\n")
    ok(sharebox(["replay", A.mnt]), "replay")
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("a remount at the same commit reads the tree from the snapshot, not from git", async () => {
    expect(readTree(await remount(A))).toBe(true) // HEAD moved since the first mount's snapshot
    const cmds = await remount(A)
    expect(readTree(cmds)).toBe(false)
    expect(read(path.join(A.mnt, "a.txt"))).toBe("alpha\n")
  })

  it("a commit made with plain git-annex while unmounted is seen: the snapshot is of another commit", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    fs.writeFileSync(path.join(A.gitdir, "plain.txt"), "from git-annex\n")
    ok(git(A.gitdir, ["annex", "add", "--quiet", "plain.txt"]), "git annex add")
    ok(git(A.gitdir, ["-c", "user.name=t", "-c", "user.email=t@l", "commit", "-q", "-m", "plain"]), "git commit")
    const cmds = tracedMount(w, A)
    expect(readTree(cmds)).toBe(true)
    expect(read(path.join(A.mnt, "plain.txt"))).toBe("from git-annex\n")
    expect(read(path.join(A.mnt, "a.txt"))).toBe("alpha\n")
  })

  it("a damaged snapshot is ignored", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    fs.writeFileSync(snapshotOf(A), "{ not json")
    const cmds = tracedMount(w, A)
    expect(readTree(cmds)).toBe(true)
    expect(read(path.join(A.mnt, "plain.txt"))).toBe("from git-annex\n")
  })
})
