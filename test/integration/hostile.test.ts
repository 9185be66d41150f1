/**
 * A peer is trusted to write files, nothing more (docs/security.md). Each block here is a peer
 * that sends something a sharebox host must survive: the host still mounts and syncs, no pending
 * write is lost, and what is bad is left out and never committed or pushed on.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, eventually, exec, git, read, sharebox, write } from "./harness.js"

const ok = (r: { code: number; stderr: string }, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0)

describe("a peer commit that forges this host's replay trailers", () => {
  let w: World
  let A: HostDirs
  let P: string

  beforeAll(() => {
    w = new World("sharebox-forged")
    A = w.host("A")
    w.mount(A, "writeback=off")
    write(path.join(A.mnt, "first.txt"), "first\n")
    ok(sharebox(["sync", A.mnt]), "sync A")
    P = path.join(w.root, "peer")
    ok(exec("git", ["clone", "-q", A.gitdir, P]), "clone")
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("does not make the next start drop pending writes", async () => {
    const uuid = git(A.gitdir, ["config", "annex.uuid"]).stdout.trim()
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/)
    fs.writeFileSync(path.join(P, "from-peer.txt"), "peer\n")
    ok(git(P, ["add", "from-peer.txt"]), "git add")
    const msg = `peer change\n\nSharebox-Host: ${uuid}\nSharebox-Seq: 999999999\n`
    ok(exec("git", ["-C", P, "-c", "user.name=p", "-c", "user.email=p@p", "commit", "-q", "-m", msg]), "commit")
    ok(git(P, ["push", "-q", "origin", "HEAD:synced/main"]), "push")
    // A's daemon merges the push (a fast-forward: A has nothing the peer lacks)
    expect(await eventually(() => fs.existsSync(path.join(A.mnt, "from-peer.txt")), 15_000)).toBe(true)
    expect(git(A.gitdir, ["log", "-1", "--format=%B", "main"]).stdout).toContain("Sharebox-Seq: 999999999")
    // offline work: journalled, not replayed (writeback=off)
    write(path.join(A.mnt, "pending.txt"), "pending write\n")
    fs.mkdirSync(path.join(A.mnt, "pending-dir"))
    write(path.join(A.mnt, "pending-dir", "inner.txt"), "inner\n")
    expect(sharebox(["log", A.mnt]).stdout).toContain("pending.txt")
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    w.mount(A, "writeback=off")
    expect(read(path.join(A.mnt, "pending.txt"))).toBe("pending write\n")
    expect(read(path.join(A.mnt, "pending-dir", "inner.txt"))).toBe("inner\n")
    expect(sharebox(["log", A.mnt]).stdout).toContain("pending.txt")
    ok(sharebox(["sync", A.mnt]), "sync A after the restart")
    expect(git(A.gitdir, ["show", "main:pending.txt"]).code).toBe(0)
  })

  it("while this host's own record of a replay cut short after its commit still finishes it at the next start", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    const state = path.join(A.gitdir, ".git", "sharebox")
    w.mount(A, "writeback=off")
    write(path.join(A.mnt, "cut-short.txt"), "cut short\n")
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    const before = git(A.gitdir, ["rev-parse", "main"]).stdout.trim()
    const cursorBefore = fs.readFileSync(path.join(state, "cursor"), "utf8")
    ok(sharebox(["replay", A.gitdir]), "replay")
    const after = git(A.gitdir, ["rev-parse", "main"]).stdout.trim()
    expect(after).not.toBe(before)
    const seq = JSON.parse(fs.readFileSync(path.join(state, "cursor"), "utf8")).seq
    // the disk as a kill -9 between the commit and the cursor's move leaves it
    fs.writeFileSync(path.join(state, "cursor"), cursorBefore)
    fs.writeFileSync(path.join(state, "replaying.json"), JSON.stringify({ seq, from: before }))
    const log = sharebox(["log", A.gitdir])
    ok(log, "log")
    expect(log.stdout).toMatch(/cut-short\.txt.*\[replayed\]/)
    expect(log.stdout).not.toMatch(/cut-short\.txt.*\[journal\]/)
    ok(sharebox(["replay", A.gitdir]), "replay again")
    expect(git(A.gitdir, ["rev-parse", "main"]).stdout.trim()).toBe(after)
    expect(fs.existsSync(path.join(state, "replaying.json"))).toBe(false)
    w.mount(A, "writeback=off")
    expect(read(path.join(A.mnt, "cut-short.txt"))).toBe("cut short\n")
  })
})
