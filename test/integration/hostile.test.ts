/**
 * A peer is trusted to write files, nothing more (docs/security.md). Each block here is a peer
 * that sends something a sharebox host must survive: the host still mounts and syncs, no pending
 * write is lost, and what is bad is left out and never committed or pushed on.
 */
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { locationLogPath } from "../../src/effects/annex.js"
import { type HostDirs, eventually, exec, execAsync, git, plainPeer, read, sharebox, useWorld, write } from "./harness.js"

const ok = (r: { code: number; stderr: string }, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0)

describe("a peer commit that forges this host's replay trailers", () => {
  const w = useWorld("sharebox-forged")
  let A: HostDirs
  let P: string

  beforeAll(() => {
    A = w.host("A")
    w.mount(A, "writeback=off")
    write(path.join(A.mnt, "first.txt"), "first\n")
    ok(sharebox(["sync", A.mnt]), "sync A")
    P = path.join(w.root, "peer")
    ok(exec("git", ["clone", "-q", A.gitdir, P]), "clone")
  }, 60_000)

  it("does not make the next start drop pending writes", async () => {
    const uuid = git(A.gitdir, ["config", "annex.uuid"]).stdout.trim()
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/)
    fs.writeFileSync(path.join(P, "from-peer.txt"), "peer\n")
    ok(git(P, ["add", "from-peer.txt"]), "git add")
    const msg = `peer change\n\nSharebox-Host: ${uuid}\nSharebox-Seq: 999999999\n`
    ok(exec("git", ["-C", P, "-c", "user.name=p", "-c", "user.email=p@p", "commit", "-q", "-m", msg]), "commit")
    ok(git(P, ["push", "-q", "origin", "HEAD:synced/main"]), "push")
    // A's daemon merges the push (a fast-forward: A has nothing the peer lacks; the file's writer
    // and time, taken from the plain commit, are stored by a commit of A's on top)
    expect(await eventually(() => fs.existsSync(path.join(A.mnt, "from-peer.txt")), 15_000)).toBe(true)
    expect(git(A.gitdir, ["log", "-2", "--format=%B", "main"]).stdout).toContain("Sharebox-Seq: 999999999")
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

// ------------------------------------------------------------------ trees no host can hold

/** Writes a git object of any content (`--literally`: git checks nothing), returns its id. */
const putObject = (repo: string, type: "blob" | "tree" | "commit", data: Buffer): string => {
  const r = spawnSync("git", ["-C", repo, "hash-object", "-w", "-t", type, "--literally", "--stdin"], { input: data, maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`hash-object: ${r.stderr}`)
  return r.stdout.toString().trim()
}

type TreeItem = { readonly name: Buffer | string; readonly mode: "100644" | "100755" | "120000" | "40000"; readonly oid: string }

/** A tree object with exactly these entries, in git's order, whatever their names. */
const putTree = (repo: string, items: ReadonlyArray<TreeItem>): string => {
  const key = (i: TreeItem) => Buffer.concat([Buffer.from(i.name), Buffer.from(i.mode === "40000" ? "/" : "")])
  const sorted = [...items].sort((a, b) => Buffer.compare(key(a), key(b)))
  return putObject(repo, "tree", Buffer.concat(sorted.flatMap((i) => [Buffer.from(`${i.mode} `), Buffer.from(i.name), Buffer.from([0]), Buffer.from(i.oid, "hex")])))
}

/** The entries of a commit's root tree, as items. */
const rootItems = (repo: string, commit: string): Array<TreeItem> => {
  const r = spawnSync("git", ["-C", repo, "ls-tree", "-z", commit], { maxBuffer: 64 << 20 })
  return r.stdout
    .toString("latin1")
    .split("\0")
    .filter(Boolean)
    .map((rec) => {
      const [meta, name] = [rec.slice(0, rec.indexOf("\t")), rec.slice(rec.indexOf("\t") + 1)]
      const [mode, , oid] = meta.split(" ")
      return { name: Buffer.from(name!, "latin1"), mode: (mode === "040000" ? "40000" : mode) as TreeItem["mode"], oid: oid! }
    })
}

const daemonLog = (h: HostDirs) => fs.readFileSync(path.join(h.gitdir, ".git", "sharebox", "daemon.log"), "utf8")

describe("a peer whose tree holds names and numbers no host can hold", () => {
  const w = useWorld("sharebox-hostile", 90_000)
  let A: HostDirs
  let B: HostDirs
  let E: string
  const big = 100 * 1024 * 1024

  beforeAll(() => {
    ;[A, B] = w.pair()
    write(path.join(A.mnt, "mine.txt"), "mine\n")
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    E = path.join(w.root, "evil")
    ok(exec("git", ["clone", "-q", A.gitdir, E]), "clone")
  }, 90_000)

  it("is merged without them: the host still mounts and syncs, keeps its pending writes, and pushes none of them on", async () => {
    const head = git(A.gitdir, ["rev-parse", "main"]).stdout.trim()
    const blob = (s: string | Buffer) => putObject(E, "blob", Buffer.from(s))
    const x = blob("x\n")
    const sub = putTree(E, [{ name: "x", mode: "100644", oid: x }])
    const bigBlob = blob(Buffer.alloc(big, 0x61))
    const subGitdir = putTree(E, [{ name: "gitdir", mode: "100644", oid: blob("/tmp/elsewhere\n") }])
    const badMarker = blob(`good.txt\t1e20\nweird\t-1\nnan.txt\tNaN\n`)
    const items: Array<TreeItem> = [
      ...rootItems(E, head).filter((i) => i.name.toString() !== ".shareboxdir"),
      { name: ".shareboxdir", mode: "100644", oid: badMarker },
      { name: "good.txt", mode: "100644", oid: blob("good\n") },
      { name: ".", mode: "100644", oid: x },
      { name: "..", mode: "40000", oid: sub },
      { name: "x".repeat(256), mode: "100644", oid: x },
      { name: "y".repeat(1025), mode: "100644", oid: x },
      { name: Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]), mode: "100644", oid: x },
      { name: "esc\x1b[31mred", mode: "100644", oid: x },
      { name: "new\nline", mode: "100644", oid: x },
      { name: "tab\tname", mode: "100644", oid: x },
      { name: ".sharebox", mode: "40000", oid: subGitdir },
      { name: "nested", mode: "40000", oid: putTree(E, [{ name: ".sharebox", mode: "40000", oid: subGitdir }]) },
      { name: "huge-link", mode: "120000", oid: bigBlob },
      { name: "huge-plain.bin", mode: "100644", oid: bigBlob },
      { name: head, mode: "100644", oid: x }, // a root file named like a commit
      // keys that are no keys: a line break in one, one of 100 KB, a pointer naming another file
      { name: "badkey-nl", mode: "120000", oid: blob(".git/annex/objects/Ab/Cd/SHA256E-s1--a\nb/SHA256E-s1--a\nb") },
      { name: "badkey-long", mode: "120000", oid: blob(`.git/annex/objects/Ab/Cd/SHA256E-s1--${"k".repeat(100_000)}/SHA256E-s1--${"k".repeat(100_000)}`) },
      { name: "badkey-ptr", mode: "100644", oid: blob("/annex/objects/SHA256E-s1--a/../../../../etc/passwd\n") }
    ]
    const tree = putTree(E, items)
    const commit = putObject(E, "commit", Buffer.from(`tree ${tree}\nparent ${head}\nauthor e <e@e> 99999999999999 +0000\ncommitter e <e@e> 99999999999999 +0000\n\nhostile\n`))
    // pending offline work on A that must survive whatever the peer sends
    write(path.join(A.mnt, "pending.txt"), "pending\n")
    ok(git(E, ["push", "-q", A.gitdir, `${commit}:refs/heads/synced/main`]), "push")
    expect(await eventually(() => fs.existsSync(path.join(A.mnt, "good.txt")), 20_000), daemonLog(A)).toBe(true)

    // what can be held arrived, what cannot did not
    const names = fs.readdirSync(A.mnt)
    expect(names).toEqual(expect.arrayContaining(["good.txt", "mine.txt", "pending.txt", "esc\x1b[31mred", "new\nline", "tab\tname", "nested", "huge-plain.bin", head]))
    expect(names.filter((n) => n.length > 255 || n.includes("\ufffd") || n === "huge-link" || n === "badkey-long")).toEqual([])
    // no key: a link stays a link, a pointer-looking file stays the file it is
    expect(fs.readlinkSync(path.join(A.mnt, "badkey-nl"))).toContain("\n")
    expect(read(path.join(A.mnt, "badkey-ptr"))).toBe("/annex/objects/SHA256E-s1--a/../../../../etc/passwd\n")
    expect(fs.readdirSync(path.join(A.mnt, "nested", ".sharebox"))).toEqual(["gitdir"])
    expect(fs.readFileSync(path.join(A.mnt, ".sharebox", "gitdir"), "utf8").trim()).toBe(A.gitdir)
    expect(fs.statSync(path.join(A.mnt, "huge-plain.bin")).size).toBe(big)
    expect(read(path.join(A.mnt, "pending.txt"))).toBe("pending\n")
    // times no date can hold are as good as none; nothing that prints a time fails
    expect(fs.statSync(path.join(A.mnt, "good.txt")).mtimeMs).toBeLessThan(Date.UTC(10000, 0))
    expect(fs.readdirSync(path.join(A.mnt, ".sharebox", "history", "good.txt"))).toHaveLength(1)
    ok(sharebox(["conflicts", A.mnt]), "conflicts")
    ok(sharebox(["versions", path.join(A.mnt, "good.txt")]), "versions")
    ok(sharebox(["status", A.mnt]), "status")
    // reported once, by name, escaped
    const log = daemonLog(A)
    expect(log.match(/left out \d+ entries from synced\/main/g)).toHaveLength(1)
    expect(log).toContain('"..')
    expect(log).not.toContain("\x1b")

    // nothing of it in A's history tip, nor pushed on to B
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    for (const h of [A, B]) {
      const listed = spawnSync("git", ["-C", h.gitdir, "ls-tree", "-r", "-z", "--name-only", "main"]).stdout.toString("latin1").split("\0")
      expect(listed.filter((p) => p.split("/").some((n) => n === "." || n === ".." || n.length > 255) || /\xff/.test(p) || p.startsWith(".sharebox/") || p === "huge-link")).toEqual([])
    }
    expect(read(path.join(B.mnt, "good.txt"))).toBe("good\n")
    expect(read(path.join(B.mnt, "pending.txt"))).toBe("pending\n")

    // and both still mount
    for (const h of [A, B]) {
      w.unmount(h)
      expect(await w.settled(h)).toBe(true)
      w.mount(h)
      expect(read(path.join(h.mnt, "good.txt"))).toBe("good\n")
    }
  }, 180_000)
})

// ------------------------------------------------------------------ what reaches the terminal

describe("names and descriptions a peer chose reach the terminal escaped", () => {
  const w = useWorld("sharebox-escapes")
  let A: HostDirs
  let E: string
  const name = "esc\x1b[2Jname\u202e.txt"

  beforeAll(async () => {
    A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "seed.txt"), "seed\n")
    ok(sharebox(["sync", A.mnt]), "sync A")
    E = plainPeer(path.join(w.root, "evil"), "evil", { clone: A.gitdir })
    ok(exec("git", ["-C", E, "annex", "describe", "here", `ev\x1b]0;owned\x07il${"x".repeat(100_000)}`]), "describe")
    fs.writeFileSync(path.join(E, name), "from the evil peer\n")
    ok(exec("git", ["-C", E, "annex", "add", "--quiet", "--", name]), "annex add")
    ok(exec("git", ["-C", E, "commit", "-q", "-m", "evil"]), "commit")
    const s = await execAsync("git", ["-C", E, "annex", "sync", "--no-content"])
    expect(s.code, s.stderr).toBe(0)
    expect(await eventually(() => fs.existsSync(path.join(A.mnt, name)), 15_000)).toBe(true)
  }, 90_000)

  it("whereis, log, versions and status print them with escapes, never the raw bytes", () => {
    const runs = [
      sharebox(["whereis", path.join(A.mnt, name)]),
      sharebox(["versions", path.join(A.mnt, name)]),
      sharebox(["log", A.mnt]),
      sharebox(["status", A.mnt])
    ]
    for (const r of runs) {
      expect(r.stdout + r.stderr).not.toMatch(/[\x1b\x07\u202e]/)
    }
    const where = runs[0]!.stdout
    expect(where).toContain("esc\\x1b[2Jname\\u202e.txt")
    expect(where).toContain("ev\\x1b]0;owned\\x07il")
    // a description is cut, not printed a hundred kilobytes long
    expect(where.length).toBeLessThan(2000)
  })
})

// ------------------------------------------------------------------ location logs

describe("a peer's location log with junk and times past 2^53 ms", () => {
  const w = useWorld("sharebox-loclog")
  let A: HostDirs
  let E: string

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "seed.txt"), "seed\n")
    ok(sharebox(["sync", A.mnt]), "sync A")
    E = plainPeer(path.join(w.root, "evil"), "evil", { clone: A.gitdir })
  }, 60_000)

  it("is written back in a form git-annex reads, with this host present", async () => {
    const content = "content the peer logged first\n"
    const key = `SHA256E-s${content.length}--${createHash("sha256").update(content).digest("hex")}.txt`
    const uuidA = git(A.gitdir, ["config", "annex.uuid"]).stdout.trim()
    const log = `junk line that is no entry\n99999999999999999999.999s 0 ${uuidA}\n1e+21s 1 ${uuidA}\n\u001b[2J\n`
    // onto E's git-annex branch, with a temporary index
    const env = { GIT_INDEX_FILE: path.join(w.root, "evil-index") }
    const blob = exec("git", ["-C", E, "hash-object", "-w", "--stdin"], { input: log }).stdout.trim()
    ok(exec("git", ["-C", E, "read-tree", "git-annex"], { env }), "read-tree")
    ok(exec("git", ["-C", E, "update-index", "--add", "--cacheinfo", `100644,${blob},${locationLogPath(key)}`], { env }), "update-index")
    const tree = exec("git", ["-C", E, "write-tree"], { env }).stdout.trim()
    const commit = exec("git", ["-C", E, "commit-tree", tree, "-p", "git-annex", "-m", "junk"]).stdout.trim()
    ok(exec("git", ["-C", E, "update-ref", "refs/heads/git-annex", commit]), "update-ref")
    ok(git(E, ["push", "-q", A.gitdir, "git-annex:synced/git-annex"]), "push")
    ok(sharebox(["sync", A.mnt]), "sync A")
    // A now writes that very content: its replay records A present in that log
    write(path.join(A.mnt, "j.txt"), content)
    ok(sharebox(["sync", A.mnt]), "sync A")
    const shown = git(A.gitdir, ["show", `git-annex:${locationLogPath(key)}`]).stdout
    // lines that are no entry (junk, `1e+21s`) are kept as they were; this host's entry is one
    const mine = shown.split("\n").filter((l) => /^\d+(\.\d+)?s [01X] /.test(l) && l.endsWith(uuidA))
    expect(mine).toHaveLength(1)
    expect(mine[0]).toMatch(/^100000000000000000000\.000s 1 /)
    const where = await execAsync("git", ["-C", A.gitdir, "annex", "whereis", "--key", key, "--json"])
    expect(where.code, where.stderr).toBe(0)
    expect(JSON.parse(where.stdout).whereis.some((x: { uuid: string; here: boolean }) => x.uuid === uuidA && x.here)).toBe(true)
  })
})

describe("a peer commit that names writers of a text merge it did not make", () => {
  const w = useWorld("sharebox-forged-writers")

  it("is listed with its own committer: Sharebox-Writers counts only where the commit's writer is one of the two", async () => {
    const A = w.host("A")
    w.mount(A, "writeback=off")
    write(path.join(A.mnt, "first.txt"), "first\n")
    ok(sharebox(["sync", A.mnt]), "sync A")
    const P = path.join(w.root, "peer")
    ok(exec("git", ["clone", "-q", A.gitdir, P]), "clone")
    const uuid = git(A.gitdir, ["config", "annex.uuid"]).stdout.trim()
    const other = "0d6c2e6e-8f43-4a10-9b1e-5a3c1c7d2b11"
    fs.writeFileSync(path.join(P, "claimed.txt"), "claimed\n")
    ok(git(P, ["add", "claimed.txt"]), "git add")
    const msg = `peer change\n\nSharebox-Settle: yes\nSharebox-Writers: ${uuid} ${other}\n`
    ok(exec("git", ["-C", P, "-c", "user.name=p", "-c", "user.email=p@p", "commit", "-q", "-m", msg]), "commit")
    ok(git(P, ["push", "-q", "origin", "HEAD:synced/main"]), "push")
    expect(await eventually(() => fs.existsSync(path.join(A.mnt, "claimed.txt")), 15_000)).toBe(true)
    const r = sharebox(["versions", "--json", path.join(A.mnt, "claimed.txt")])
    ok(r, "versions")
    const vs = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { host: string | null; writers?: Array<string> })
    expect(vs).toHaveLength(1)
    expect(vs[0]!.writers).toBeUndefined()
    // a commit sharebox did not make: its writer is its author
    expect(vs[0]!.host).toBe("p")
  })
})
