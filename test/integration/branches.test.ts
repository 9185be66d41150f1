/**
 * A plain git-annex peer whose branch is not sharebox's (`master`, git's default on many systems,
 * against sharebox's `main`) is merged and pushed to like any peer; one with several branches and
 * none of ours is not guessed at: sync says so and exits 1, never 0 with nothing merged.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, eventually, exec, execAsync, git, plainPeer, read, sharebox, useWorld, write } from "./harness.js"

const ok = (r: { code: number; stderr: string; stdout?: string }, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0)

/** A plain git-annex repository on `branch` with one annexed file and one file in git. */
const plainRepo = (dir: string, branch: string, name: string): void => {
  plainPeer(dir, name, { branch })
  const g = (...args: Array<string>) => ok(exec("git", ["-C", dir, ...args]), `git ${args.join(" ")}`)
  fs.writeFileSync(path.join(dir, `${name}-annexed.txt`), `annexed by ${name}\n`)
  g("annex", "add", "--quiet", `${name}-annexed.txt`)
  fs.writeFileSync(path.join(dir, `${name}-ingit.txt`), `in git by ${name}\n`)
  g("-c", "annex.largefiles=nothing", "add", `${name}-ingit.txt`)
  g("commit", "-q", "-m", `files of ${name}`)
}

describe("a plain git-annex peer on another branch", () => {
  const w = useWorld("sharebox-branches")
  let A: HostDirs
  let P: string
  let Q: string

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "from-A.txt"), "from A\n")
    ok(sharebox(["sync", A.mnt]), "sync A")
    P = path.join(w.root, "plain-master")
    plainRepo(P, "master", "pm")
    Q = path.join(w.root, "plain-two")
    plainRepo(Q, "trunk", "pq")
    ok(exec("git", ["-C", Q, "branch", "dev"]), "branch dev")
  }, 60_000)

  it("on master: its files are merged into main, and its own git annex sync gets ours", async () => {
    ok(git(A.gitdir, ["remote", "add", "pm", P]), "remote add")
    const r = sharebox(["sync", A.mnt])
    ok(r, "sync A")
    expect(read(path.join(A.mnt, "pm-ingit.txt"))).toBe("in git by pm\n")
    expect(read(path.join(A.mnt, "pm-annexed.txt"))).toBe("annexed by pm\n")
    // pushed where the peer's git-annex looks: synced/master
    expect(git(P, ["rev-parse", "--verify", "-q", "refs/heads/synced/master"]).code).toBe(0)
    ok(git(P, ["remote", "add", "A", A.gitdir]), "remote add A")
    const s = await execAsync("git", ["-C", P, "annex", "sync", "--content"])
    expect(s.code, s.stderr).toBe(0)
    expect(fs.readFileSync(path.join(P, "from-A.txt"), "utf8")).toBe("from A\n")
  })

  it("on master: what it pushes into this gitdir (synced/master) shows in the mount without a sync here", async () => {
    fs.writeFileSync(path.join(P, "pushed.txt"), "pushed by pm\n")
    ok(git(P, ["annex", "add", "--quiet", "pushed.txt"]), "annex add")
    ok(exec("git", ["-C", P, "commit", "-q", "-m", "pushed"]), "commit")
    const s = await execAsync("git", ["-C", P, "annex", "sync", "--content"])
    expect(s.code, s.stderr).toBe(0)
    expect(await eventually(() => fs.existsSync(path.join(A.mnt, "pushed.txt")), 15_000)).toBe(true)
    expect(read(path.join(A.mnt, "pushed.txt"))).toBe("pushed by pm\n")
  })

  it("with several branches and none named main: sync says which and exits 1, and merges nothing of it", () => {
    ok(git(A.gitdir, ["remote", "add", "pq", Q]), "remote add")
    const r = sharebox(["sync", A.mnt])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/peer pq: it has no branch main, and several others \(dev, trunk\)/)
    expect(fs.existsSync(path.join(A.mnt, "pq-ingit.txt"))).toBe(false)
    // the other peer was still merged and pushed to
    expect(read(path.join(A.mnt, "pm-ingit.txt"))).toBe("in git by pm\n")
  })
})
