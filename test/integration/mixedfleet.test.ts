/**
 * A plain git-annex peer in the fleet: the `.variant-` files its own merge of a conflict leaves are
 * listed by `sharebox conflicts` and resolved like sharebox's copies, and the plain peer gets the
 * resolution at its next `git annex sync`; its versions are credited to its commits' authors and
 * times.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { type Run, exec, git, plainPeer, read, sharebox, useWorld, write } from "./harness.js"

const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`)
  return r
}

/** A commit on the plain peer by `author`, dated by git's own variables (`@SECONDS +0000`). */
const commitAs = (dir: string, author: string, authorDate: string, committerDate: string, message: string): Run =>
  ok(
    exec("git", ["-C", dir, "-c", `user.name=${author}`, "commit", "-q", "-m", message], {
      env: { ...process.env, GIT_AUTHOR_DATE: authorDate, GIT_COMMITTER_DATE: committerDate }
    }),
    `commit ${message}`
  )

/** Replaces a file of the plain peer's work tree (a locked file is a symlink: write a new file). */
const replaceOnPeer = (file: string, text: string): void => {
  fs.rmSync(file, { force: true })
  write(file, text)
}

const versionsOf = (file: string): Array<{ host: string | null; time: string; name: string }> =>
  ok(sharebox(["versions", "--json", file]), `versions ${file}`)
    .stdout.trim()
    .split("\n")
    .map((l) => JSON.parse(l))

describe("a plain git-annex peer in the fleet", () => {
  const w = useWorld("sharebox-mixed")

  it("its .variant- files are conflicts: listed, resolved with sharebox resolve, and the resolution reaches it", () => {
    const A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "f.txt"), "base\n")
    ok(w.sync(A), "sync A")
    const P = plainPeer(path.join(w.root, "peer"), "peer", { clone: A.gitdir })
    ok(git(A.gitdir, ["remote", "add", "peer", P]), "remote add")

    // both change f.txt; the plain peer merges first and keeps both as git-annex does
    write(path.join(A.mnt, "f.txt"), "from A\n")
    ok(sharebox(["replay", A.mnt]), "replay A")
    fs.rmSync(path.join(P, "f.txt"))
    write(path.join(P, "f.txt"), "from peer\n")
    ok(git(P, ["annex", "add", "f.txt"]), "annex add")
    ok(git(P, ["commit", "-q", "-m", "peer edits f.txt"]), "commit")
    git(P, ["annex", "sync", "--quiet"]) // exits 1: it reports the conflict it resolved with variants
    const variants = fs.readdirSync(P).filter((n) => n.includes(".variant-"))
    expect(variants.length, `the plain peer's tree: ${fs.readdirSync(P)}`).toBe(2)

    ok(w.sync(A), "sync A")
    // one JSON record per line
    const listed = ok(sharebox(["conflicts", "--json", A.mnt]), "conflicts")
      .stdout.trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { path: string; copy: string })
    expect(listed.map((c) => [c.path, c.copy]).sort()).toEqual(variants.map((v) => ["f.txt", v]).sort())
    expect(read(path.join(A.mnt, ".sharebox", "conflicts"))).toContain("f.txt\tf.variant-")

    // keep the peer's version under the file's name, and drop A's
    const peers = variants.find((v) => read(path.join(A.mnt, v)) === "from peer\n")!
    const ours = variants.find((v) => v !== peers)!
    expect(read(path.join(A.mnt, ours))).toBe("from A\n")
    ok(sharebox(["resolve", path.join(A.mnt, peers), "--keep", "copy"]), "resolve copy")
    ok(sharebox(["resolve", path.join(A.mnt, ours), "--keep", "winner"]), "resolve winner")
    expect(read(path.join(A.mnt, "f.txt"))).toBe("from peer\n")
    expect(fs.readdirSync(A.mnt).filter((n) => n.includes(".variant-"))).toEqual([])
    expect(ok(sharebox(["conflicts", A.mnt]), "conflicts").stdout.trim()).toBe("")

    // the plain peer takes the resolution at its next sync
    ok(w.sync(A), "sync A")
    ok(git(P, ["annex", "sync", "--quiet"]), "git annex sync on the peer")
    expect(fs.readdirSync(P).filter((n) => n.includes(".variant-"))).toEqual([])
    ok(git(P, ["annex", "get", "--quiet", "f.txt"]), "annex get")
    expect(read(path.join(P, "f.txt"))).toBe("from peer\n")
  }, 180_000)

  it("a plain peer's versions are credited to its commits' authors and times: versions, history, conflict copies, mtimes", async () => {
    const A = w.host("A2")
    w.mount(A)
    write(path.join(A.mnt, "f.txt"), "base\n")
    write(path.join(A.mnt, "g.txt"), "base\n")
    ok(w.sync(A), "sync A")
    const P = plainPeer(path.join(w.root, "peer2"), "peer2", { clone: A.gitdir })
    ok(git(A.gitdir, ["remote", "add", "peer2", P]), "remote add")

    // both change f.txt: the peer's version is older, so it is the one kept as a copy
    write(path.join(A.mnt, "f.txt"), "from A\n")
    ok(sharebox(["replay", A.mnt]), "replay A")
    const peerTime = 1614834367 // 2021-03-04T05:06:07Z
    replaceOnPeer(path.join(P, "f.txt"), "from peer\n")
    ok(git(P, ["annex", "add", "--quiet", "f.txt"]), "annex add f.txt")
    commitAs(P, "peer2", `@${peerTime} +0000`, `@${peerTime + 60} +0000`, "peer edits f.txt")
    // a forged author: a name with `/`, a bell and a tab, a date no Date holds, a committer in year 9999
    const year9999 = 253392451200 // 9999-09-09T00:00:00Z
    replaceOnPeer(path.join(P, "g.txt"), "forged\n")
    ok(git(P, ["annex", "add", "--quiet", "g.txt"]), "annex add g.txt")
    commitAs(P, "ev/il\x07\tname", "@99999999999999 +0000", `@${year9999} +0000`, "forged g.txt")

    ok(w.sync(A), "sync A")
    const copies = fs.readdirSync(A.mnt).filter((n) => n.includes(".conflict-"))
    expect(copies).toHaveLength(1)
    expect(copies[0]).toMatch(/^f\.conflict-peer2-[0-9a-f]{6}\.txt$/)
    expect(read(path.join(A.mnt, copies[0]!))).toBe("from peer\n")
    // the copy's mtime is the peer's commit's author date
    expect(Math.round(fs.statSync(path.join(A.mnt, copies[0]!)).mtimeMs / 1000)).toBe(peerTime)
    const [conflict] = ok(sharebox(["conflicts", "--json", A.mnt]), "conflicts")
      .stdout.trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { versions: Array<{ host: string | null; time: string }> })
    expect(conflict!.versions[1]).toMatchObject({ host: "peer2", time: "2021-03-04T05:06:07.000Z" })

    const fv = versionsOf(path.join(A.mnt, "f.txt")).find((v) => v.host === "peer2")
    expect(fv, JSON.stringify(versionsOf(path.join(A.mnt, "f.txt")))).toMatchObject({ time: "2021-03-04T05:06:07.000Z" })
    expect(fs.readdirSync(path.join(A.mnt, ".sharebox", "history", "f.txt"))).toContain(fv!.name)

    // the forged commit: its writer made harmless, its time the committer's (the author's is absurd)
    expect(read(path.join(A.mnt, "g.txt"))).toBe("forged\n")
    expect(Math.round(fs.statSync(path.join(A.mnt, "g.txt")).mtimeMs / 1000)).toBe(year9999)
    const gv = versionsOf(path.join(A.mnt, "g.txt")).at(-1)!
    expect(gv).toMatchObject({ host: "ev_il__name", time: "9999-09-09T00:00:00.000Z" })
    expect(fs.readdirSync(path.join(A.mnt, ".sharebox", "history", "g.txt"))).toContain(gv.name)

    // read back from git after a remount: the merge's markers hold the credit
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    w.mount(A)
    expect(Math.round(fs.statSync(path.join(A.mnt, "g.txt")).mtimeMs / 1000)).toBe(year9999)
    expect(Math.round(fs.statSync(path.join(A.mnt, copies[0]!)).mtimeMs / 1000)).toBe(peerTime)

    // a fast-forward to the peer's commit: a commit of sharebox's on top keeps the credit in git
    ok(git(P, ["annex", "sync", "--quiet", "--no-content"]), "git annex sync on the peer")
    write(path.join(P, "h.txt"), "new on the peer\n")
    ok(git(P, ["annex", "add", "--quiet", "h.txt"]), "annex add h.txt")
    commitAs(P, "peer2", `@${peerTime + 100} +0000`, `@${peerTime + 100} +0000`, "peer adds h.txt")
    ok(w.sync(A), "sync A")
    expect(read(path.join(A.mnt, "h.txt"))).toBe("new on the peer\n")
    expect(Math.round(fs.statSync(path.join(A.mnt, "h.txt")).mtimeMs / 1000)).toBe(peerTime + 100)
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    w.mount(A)
    expect(Math.round(fs.statSync(path.join(A.mnt, "h.txt")).mtimeMs / 1000)).toBe(peerTime + 100)
    expect(versionsOf(path.join(A.mnt, "h.txt")).at(-1)).toMatchObject({ host: "peer2", time: "2021-03-04T05:07:47.000Z" })
  }, 180_000)

  it("a file the plain peer unlocked stays unlocked through sharebox's merges, edits and saves; a locked file stays locked", async () => {
    const A = w.host("A3")
    w.mount(A)
    write(path.join(A.mnt, "u.txt"), "v1\n")
    write(path.join(A.mnt, "other.txt"), "other\n")
    ok(w.sync(A), "sync A")
    const P = plainPeer(path.join(w.root, "peer3"), "peer3", { clone: A.gitdir })
    ok(git(A.gitdir, ["remote", "add", "peer3", P]), "remote add")
    /** The mode of a path in a repository's branch: 100644 unlocked (a pointer), 120000 locked (a link). */
    const modeIn = (dir: string, p: string) => ok(git(dir, ["ls-tree", "HEAD", "--", p]), "ls-tree").stdout.split(" ")[0]

    // the peer unlocks u.txt while A edits another file: the sync merges the two
    write(path.join(A.mnt, "other.txt"), "other, edited on A\n")
    ok(sharebox(["replay", A.mnt]), "replay A")
    ok(git(P, ["annex", "get", "--quiet", "u.txt"]), "annex get")
    ok(git(P, ["annex", "unlock", "--quiet", "u.txt"]), "annex unlock")
    ok(git(P, ["commit", "-q", "-m", "unlock u.txt"]), "commit")
    expect(modeIn(P, "u.txt")).toBe("100644")

    ok(w.sync(A), "sync A")
    expect(ok(git(A.gitdir, ["log", "-1", "--format=%P"]), "log").stdout.trim().split(" ")).toHaveLength(2)
    expect(modeIn(A.gitdir, "u.txt")).toBe("100644")
    expect(modeIn(A.gitdir, "other.txt")).toBe("120000")
    expect(read(path.join(A.mnt, "u.txt"))).toBe("v1\n")
    // the unlocked file itself written here: still unlocked
    write(path.join(A.mnt, "u.txt"), "v2 from A\n")
    ok(w.sync(A), "sync A")
    expect(modeIn(A.gitdir, "u.txt")).toBe("100644")
    expect(read(path.join(A.mnt, "u.txt"))).toBe("v2 from A\n")
    // after a remount (the tree read back from its snapshot), saved as editors do, by renaming a new file over it
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    w.mount(A)
    write(path.join(A.mnt, ".u.txt.swp"), "v3 from A\n")
    fs.renameSync(path.join(A.mnt, ".u.txt.swp"), path.join(A.mnt, "u.txt"))
    // a new file is locked, as git annex add makes it
    write(path.join(A.mnt, "new.txt"), "new\n")
    ok(w.sync(A), "sync A")
    expect(modeIn(A.gitdir, "u.txt")).toBe("100644")
    expect(modeIn(A.gitdir, "other.txt")).toBe("120000")
    expect(modeIn(A.gitdir, "new.txt")).toBe("120000")
    expect(read(path.join(A.mnt, "u.txt"))).toBe("v3 from A\n")

    // the plain peer sees a regular file with the new content, a pointer in git, and fsck is clean
    ok(git(P, ["annex", "sync", "--quiet", "--content"]), "git annex sync --content on the peer")
    expect(fs.lstatSync(path.join(P, "u.txt")).isFile()).toBe(true)
    expect(read(path.join(P, "u.txt"))).toBe("v3 from A\n")
    expect(modeIn(P, "u.txt")).toBe("100644")
    expect(ok(git(P, ["cat-file", "-p", "HEAD:u.txt"]), "cat-file").stdout).toMatch(/^\/annex\/objects\/SHA256E-s10--/)
    expect(fs.lstatSync(path.join(P, "other.txt")).isSymbolicLink()).toBe(true)
    expect(read(path.join(P, "other.txt"))).toBe("other, edited on A\n")
    ok(git(P, ["annex", "fsck", "--quiet"]), "git annex fsck on the peer")
    ok(git(A.gitdir, ["annex", "fsck", "--quiet"]), "git annex fsck on A")
    expect(ok(git(A.gitdir, ["status", "--porcelain"]), "status").stdout).toBe("")
  }, 180_000)
})
