/**
 * A peer may write any file into the shared tree, including a root `.sharebox/gitdir`, a nested
 * `sub/.sharebox/gitdir` and a whole `.git` directory (stored as `.git~`, shown as `.git` in the
 * mount). None of them may lead a command to run git in a repository the peer chose: its
 * `core.fsmonitor` and hooks are commands. Commands given this host's gitdir, its mount, or paths
 * inside either act on this host's gitdir, or refuse.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, type HostDirs, type Run, World, execAsync, git, plainPeer, sharebox, write } from "./harness.js"

/** Every entry below `dir`: type, size and a hash of its bytes (to see that nothing changed). */
const listing = (dir: string): Array<string> => {
  const out: Array<string> = []
  const walk = (p: string, rel: string) => {
    const st = fs.lstatSync(p)
    if (st.isDirectory()) {
      out.push(`${rel}/`)
      for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n), `${rel}/${n}`)
    } else if (st.isSymbolicLink()) out.push(`${rel} -> ${fs.readlinkSync(p)}`)
    else out.push(`${rel} ${st.size} ${createHash("sha256").update(fs.readFileSync(p)).digest("hex")}`)
  }
  walk(dir, "")
  return out
}

const ok = (r: Run, what: string): Run => {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0)
  return r
}

/** Like ok, without stopping the test: each path of a list is checked. */
const softOk = (r: Run, what: string): Run => {
  expect.soft(r.code, `${what}: ${r.stderr}`).toBe(0)
  return r
}

describe("a peer's .sharebox/gitdir and nested .git never choose the repository a command uses", () => {
  let w: World
  let A: HostDirs
  /** the plain git-annex peer */
  let P: string
  /** the repository the peer names: git-annex, with .git/sharebox, and commands in its config */
  let E: string
  let marker: string
  let evilBefore: Array<string>
  let uuidA: string
  /** files planted by hand into A's gitdir work tree (removed at the end, so it stays clean) */
  const planted: Array<string> = []

  const noMarker = () => expect(fs.existsSync(marker), `a command ran: ${marker} exists`).toBe(false)

  beforeAll(async () => {
    w = new World("sharebox-hostile")
    A = w.host("A")
    w.mount(A, "writeback=off")
    marker = path.join(w.root, "PWNED")
    // a script that leaves the marker: the fsmonitor hook and every git hook of the evil repos
    const hook = path.join(w.root, "hook.sh")
    write(hook, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`)
    fs.chmodSync(hook, 0o755)
    const hooks = path.join(w.root, "hooks")
    fs.mkdirSync(hooks)
    for (const h of ["pre-commit", "post-commit", "post-checkout", "post-merge", "reference-transaction", "pre-push"]) fs.symlinkSync(hook, path.join(hooks, h))

    E = path.join(w.root, "evil")
    plainPeer(E, "evil", { branch: "main" })
    write(path.join(E, "README"), "evil\n")
    ok(git(E, ["-c", "annex.gitaddtoannex=false", "add", "README"]), "add")
    ok(git(E, ["commit", "-q", "-m", "evil"]), "commit")
    ok(git(E, ["config", "core.fsmonitor", hook]), "config")
    ok(git(E, ["config", "core.hooksPath", hooks]), "config")
    fs.mkdirSync(path.join(E, ".git", "sharebox"))
    // a lock left by a dead process: opening the repository then runs `git status` (fsmonitor)
    write(path.join(E, ".git", "sharebox", "lock"), "2147483646\n")
    evilBefore = listing(E)

    write(path.join(A.mnt, "top.txt"), "top\n")
    fs.mkdirSync(path.join(A.mnt, "sub"))
    write(path.join(A.mnt, "sub", "x"), "x on A\n")
    write(path.join(A.mnt, "sub", "old"), "deleted later\n")
    fs.mkdirSync(path.join(A.mnt, "proj"))
    write(path.join(A.mnt, "proj", "file"), "file on A\n")
    ok(w.sync(A), "sync A")
    uuidA = git(A.gitdir, ["config", "annex.uuid"]).stdout.trim()
    // a deleted file: its path exists in no folder, only in history
    fs.rmSync(path.join(A.mnt, "sub", "old"))

    // the peer: a clone of A's gitdir, a git-annex repository, files kept in git
    P = plainPeer(path.join(w.root, "peer"), "peer", { clone: A.gitdir })
    const plant = (rel: string, content: string) => {
      fs.mkdirSync(path.dirname(path.join(P, rel)), { recursive: true })
      write(path.join(P, rel), content)
    }
    plant(".sharebox/gitdir", `${E}\n`)
    plant("sub/.sharebox/gitdir", `${E}\n`)
    // proj/.git in the mount: a git-annex repository whose config runs the hook
    plant("proj/.git~/HEAD", "ref: refs/heads/main\n")
    plant("proj/.git~/config", `[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = ${hook}\n\thooksPath = ${hooks}\n[annex]\n\tuuid = 0b6a2c4e-3f7d-4c39-9d6e-1f1d7b7f0e11\n\tversion = 10\n`)
    for (const d of ["objects", "refs", "annex", "sharebox"]) plant(`proj/.git~/${d}/.keep`, "")
    plant("proj/.git~/sharebox/lock", "2147483646\n")
    const pg = (...args: Array<string>) => ok(git(P, args), `git ${args.join(" ")}`)
    pg("-c", "annex.gitaddtoannex=false", "add", "-A")
    pg("commit", "-q", "-m", "peer plants .sharebox/gitdir and proj/.git")
    ok(git(A.gitdir, ["remote", "add", "peer", P]), "remote add")
    ok(await execAsync(BIN, ["sync", A.mnt]), "sync A with the peer")
    noMarker()

    // what a checkout of that tree would leave in A's gitdir work tree, whether or not sync took it
    for (const rel of [".sharebox/gitdir", "sub/.sharebox/gitdir"]) {
      const f = path.join(A.gitdir, rel)
      if (fs.existsSync(f)) continue
      fs.mkdirSync(path.dirname(f), { recursive: true })
      write(f, `${E}\n`)
      planted.push(f)
    }
    // and what the mount would show of the peer's proj/.git~
    if (!fs.existsSync(path.join(A.mnt, "proj", ".git", "config"))) throw new Error(`proj/.git did not reach A's mount: ${fs.readdirSync(path.join(A.mnt, "proj"))}`)
  }, 120_000)

  afterAll(async () => {
    for (const f of planted) fs.rmSync(f, { force: true })
    for (const d of A ? [path.join(A.gitdir, ".sharebox"), path.join(A.gitdir, "sub", ".sharebox")] : []) if (fs.existsSync(d) && fs.readdirSync(d).length === 0) fs.rmdirSync(d)
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("sync and status given A's gitdir act on A's gitdir", () => {
    ok(sharebox(["sync", A.gitdir]), "sync GITDIR")
    const st = JSON.parse(ok(sharebox(["status", "--json", A.gitdir]), "status GITDIR").stdout)
    expect(st.gitdir).toBe(A.gitdir)
    noMarker()
  })

  it("paths inside A's gitdir work tree and A's mount belong to A's gitdir", () => {
    for (const p of [path.join(A.gitdir, "sub", "x"), path.join(A.mnt, "sub", "x"), path.join(A.mnt, "proj", "file")]) {
      const lines = softOk(sharebox(["whereis", "--json", p]), `whereis ${p}`).stdout.split("\n").filter(Boolean)
      expect.soft(lines, p).toHaveLength(1)
      const wi = lines.length === 1 ? JSON.parse(lines[0]!) : undefined
      expect.soft(wi?.path, p).toBe(path.relative(p.startsWith(A.mnt) ? A.mnt : A.gitdir, p))
      expect.soft(wi?.locations.find((l: { here: boolean }) => l.here)?.uuid, p).toBe(uuidA)
    }
    for (const p of [path.join(A.gitdir, "sub", "x"), path.join(A.mnt, "sub", "x")]) {
      expect.soft(softOk(sharebox(["versions", "--json", p]), `versions ${p}`).stdout, p).toMatch(/"present":true/)
    }
    for (const p of [path.join(A.gitdir, "sub", "old"), path.join(A.mnt, "sub", "old")]) {
      expect.soft(softOk(sharebox(["versions", "--json", p]), `versions ${p}`).stdout, p).toMatch(/"deleted":true/)
    }
    noMarker()
  })

  it("a directory with a planted .sharebox/gitdir or a nested .git is neither a mount nor a gitdir", () => {
    for (const p of [path.join(A.gitdir, "sub"), path.join(A.mnt, "sub"), path.join(A.mnt, "proj")]) {
      const r = sharebox(["status", p])
      expect.soft(r.code, `status ${p}: ${r.stdout}`).toBe(66)
      expect.soft(r.stderr).toMatch(/^[^\n]*neither a sharebox mount nor a gitdir\n$/)
    }
    noMarker()
  })

  it("unmounted, the cron form still syncs A's own gitdir", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    ok(sharebox(["sync", A.gitdir]), "sync GITDIR (unmounted)")
    const st = JSON.parse(ok(sharebox(["status", "--json", A.gitdir]), "status").stdout)
    expect(st.gitdir).toBe(A.gitdir)
    expect(st.mountpoint ?? null).toBe(null)
    ok(sharebox(["versions", path.join(A.gitdir, "sub", "x")]), "versions (unmounted)")
    noMarker()
  })

  it("the repository the peer named is untouched", () => {
    noMarker()
    expect(listing(E)).toEqual(evilBefore)
  })
})
