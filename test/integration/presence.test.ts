/**
 * Presence after replay: replay writes the location logs into the `git-annex` branch itself (no
 * `setpresentkey`, no journal commit). Stock git-annex must agree with what it wrote: `whereis`
 * lists this repository, `fsck --fast` passes, git-annex's own later commits keep the logs, a
 * journal git-annex left uncommitted is not lost, a key dropped here earlier is present again, and
 * a second host (sharebox, or a plain git-annex clone) fetches the content.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, exec, git, plainPeer, read, sharebox, useWorld, write } from "./harness.js"

const keyOf = (content: string, name: string): string => {
  const ext = path.extname(name)
  return `SHA256E-s${Buffer.byteLength(content)}--${createHash("sha256").update(content).digest("hex")}${ext}`
}

const logPathOf = (key: string): string => {
  const md5 = createHash("md5").update(key).digest("hex")
  return `${md5.slice(0, 3)}/${md5.slice(3, 6)}/${key}.log`
}

const uuidOf = (dir: string): string => git(dir, ["config", "annex.uuid"]).stdout.trim()

/** The UUIDs `git annex whereis` says have a key. */
const whereis = (dir: string, key: string): Array<string> => {
  const r = git(dir, ["annex", "whereis", "--key", key, "--json"])
  // exit 1: no copy known anywhere (the JSON says so too)
  expect([0, 1], r.stderr).toContain(r.code)
  return (JSON.parse(r.stdout.trim().split("\n")[0]!).whereis as Array<{ uuid: string }>).map((w) => w.uuid)
}

const replay = (h: HostDirs) => {
  const r = sharebox(["replay", h.mnt])
  expect(r.code, r.stderr).toBe(0)
}

const files: Record<string, string> = {
  "a.txt": "alpha\n",
  "dir/b_c.md": "with an underscore\n",
  "dir/sub/ünï cödé.txt": "not ascii\n",
  "same1.txt": "same content\n",
  "same2.txt": "same content\n"
}

describe("presence recorded by replay", () => {
  const w = useWorld("sharebox-presence")
  let A: HostDirs
  let B: HostDirs
  /** a repository that is not a host: git-annex's journal says it has a key, uncommitted */
  const elsewhere = "5d1f0c2e-7a3b-4c8d-9e0f-112233445566"
  const journalled = "journalled content\n"

  beforeAll(() => {
    ;[A, B] = w.pair(["writeback=off"], ["writeback=off"])
  }, 60_000)

  it("whereis lists this repository for every replayed file, fsck passes, the logs are git-annex's format", () => {
    fs.mkdirSync(path.join(A.mnt, "dir", "sub"), { recursive: true })
    for (const [p, c] of Object.entries(files)) write(path.join(A.mnt, p), c)
    fs.writeFileSync(path.join(A.mnt, "run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 })
    const before = git(A.gitdir, ["rev-parse", "git-annex"]).stdout.trim()
    replay(A)
    // one commit of sharebox's on top of the branch, changing exactly these keys' logs
    expect(git(A.gitdir, ["log", "--format=%cn %P", `${before}..git-annex`]).stdout).toBe(`sharebox ${before}\n`)
    const logs = [...new Set([...Object.entries(files), ["run.sh", "#!/bin/sh\necho run\n"]].map(([p, c]) => logPathOf(keyOf(c!, p!))))].sort()
    expect(git(A.gitdir, ["diff", "--name-only", before, "git-annex"]).stdout.split("\n").filter(Boolean).sort()).toEqual(logs)
    const me = uuidOf(A.gitdir)
    for (const [p, c] of [...Object.entries(files), ["run.sh", "#!/bin/sh\necho run\n"]] as const) {
      const key = keyOf(c, p)
      expect(whereis(A.gitdir, key), p).toEqual([me])
      const log = git(A.gitdir, ["show", `git-annex:${logPathOf(key)}`])
      expect(log.code, log.stderr).toBe(0)
      expect(log.stdout).toMatch(new RegExp(`^\\d+\\.\\d+s 1 ${me}\\n$`))
    }
    expect(w.contractProblems(A)).toEqual([])
    // no journal file was left for git-annex to commit
    expect(fs.readdirSync(path.join(A.gitdir, ".git/annex/journal"))).toEqual([])
  })

  it("git-annex's own later commits to its branch keep the logs replay wrote", () => {
    // `describe` changes uuid.log and commits, merging the moved branch into git-annex's index first
    expect(git(A.gitdir, ["annex", "describe", "here", "host A, described again"]).code).toBe(0)
    const me = uuidOf(A.gitdir)
    for (const [p, c] of Object.entries(files)) expect(whereis(A.gitdir, keyOf(c, p)), p).toEqual([me])
    const ls = git(A.gitdir, ["ls-tree", "-r", "--name-only", "git-annex"]).stdout
    for (const [p, c] of Object.entries(files)) expect(ls).toContain(logPathOf(keyOf(c, p)))
    // and a fresh git-annex index, rebuilt from the branch alone, agrees
    fs.rmSync(path.join(A.gitdir, ".git/annex/index"))
    expect(git(A.gitdir, ["annex", "describe", "here", "host A"]).code).toBe(0)
    for (const [p, c] of Object.entries(files)) expect(whereis(A.gitdir, keyOf(c, p)), p).toEqual([me])
  })

  it("a journal git-annex left uncommitted is not lost, even for a key replay records", () => {
    const key = keyOf(journalled, "j.txt")
    const set = exec("git", ["-C", A.gitdir, "-c", "annex.alwayscommit=false", "annex", "setpresentkey", key, elsewhere, "1"])
    expect(set.code, set.stderr).toBe(0)
    expect(fs.readdirSync(path.join(A.gitdir, ".git/annex/journal")).length).toBeGreaterThan(0)
    write(path.join(A.mnt, "j.txt"), journalled)
    replay(A)
    expect(whereis(A.gitdir, key).sort()).toEqual([elsewhere, uuidOf(A.gitdir)].sort())
    // committed, both lines in the branch itself
    const log = git(A.gitdir, ["show", `git-annex:${logPathOf(key)}`]).stdout
    expect(log).toContain(` 1 ${elsewhere}\n`)
    expect(log).toContain(` 1 ${uuidOf(A.gitdir)}\n`)
    expect(w.contractProblems(A)).toEqual([])
  })

  it("content dropped here earlier and written again is present again", () => {
    const content = "dropped, then back\n"
    write(path.join(A.mnt, "gone.txt"), content)
    replay(A)
    const key = keyOf(content, "gone.txt")
    const drop = git(A.gitdir, ["annex", "drop", "--force", "--key", key])
    expect(drop.code, drop.stderr).toBe(0)
    expect(whereis(A.gitdir, key)).toEqual([])
    write(path.join(A.mnt, "back.txt"), content)
    replay(A)
    expect(whereis(A.gitdir, key)).toEqual([uuidOf(A.gitdir)])
    expect(git(A.gitdir, ["show", `git-annex:${logPathOf(key)}`]).stdout.trim().split("\n")).toHaveLength(1)
    expect(read(path.join(A.mnt, "back.txt"))).toBe(content)
    expect(w.contractProblems(A)).toEqual([])
  })

  it("a second sharebox host fetches the replayed content", () => {
    const s = w.sync(B)
    expect(s.code, s.stderr).toBe(0)
    for (const [p, c] of Object.entries(files)) expect(read(path.join(B.mnt, p)), p).toBe(c)
    expect(whereis(B.gitdir, keyOf(files["a.txt"]!, "a.txt")).sort()).toEqual([uuidOf(A.gitdir), uuidOf(B.gitdir)].sort())
  })

  it("a plain git-annex clone gets the replayed content", () => {
    const P = plainPeer(path.join(w.root, "plain"), "plain", { clone: A.gitdir })
    const get = exec("git", ["-C", P, "annex", "get", "--", "a.txt", "dir"])
    expect(get.code, get.stderr).toBe(0)
    expect(read(path.join(P, "a.txt"))).toBe(files["a.txt"])
    expect(read(path.join(P, "dir/b_c.md"))).toBe(files["dir/b_c.md"])
    expect(exec("git", ["-C", P, "annex", "fsck", "--fast", "--quiet"]).code).toBe(0)
  })

  it("a file the plain clone unlocked (a pointer of mode 100644) reaches A checked out, A's status clean", () => {
    const P = path.join(w.root, "plain")
    const pg = (...args: Array<string>) => {
      const r = exec("git", ["-C", P, ...args])
      expect(r.code, `git ${args.join(" ")}: ${r.stderr}`).toBe(0)
    }
    pg("annex", "unlock", "a.txt")
    pg("commit", "-q", "-m", "unlock a.txt")
    expect(exec("git", ["-C", P, "ls-tree", "HEAD", "a.txt"]).stdout).toMatch(/^100644 blob /)
    pg("annex", "sync", "--no-content", "--quiet")
    const s = w.sync(A)
    expect(s.code, s.stderr).toBe(0)
    expect(read(path.join(A.gitdir, "a.txt"))).toBe(files["a.txt"])
    expect(read(path.join(A.mnt, "a.txt"))).toBe(files["a.txt"])
    expect(w.contractProblems(A)).toEqual([])
  })
})
