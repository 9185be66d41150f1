/**
 * Interoperation and interruption:
 * - a peer with no sharebox at all (a plain `git clone` + `git annex init` of a sharebox gitdir,
 *   running `git annex sync`) and a sharebox host merge each other's pushes, including conflicts
 *   sharebox resolves (conflict copies) and conflicts git-annex resolves (its `.variant-` files),
 *   and no version is lost on either side;
 * - a `sharebox sync` killed with SIGKILL in the middle (a direct sync of an unmounted gitdir, and
 *   the daemon during a sync) is finished by the next sync: the hosts converge, git fsck passes,
 *   nothing written is lost.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { BIN, type HostDirs, type World, daemonPids, eventually, exec, execAsync, git, isMounted, plainPeer, read, scaled, sharebox, sleep, snapshot, useWorld, write } from "./harness.js"

const sha = (s: string | Buffer): string => createHash("sha256").update(s).digest("hex")

/** sha256 of every regular file below `dir` (following symlinks, so annexed content is read). */
const contentsBelow = (dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> => {
  const out = new Map<string, string>()
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name
      if (skip(r)) continue
      const full = path.join(dir, r)
      const st = fs.statSync(full)
      if (st.isDirectory()) walk(r)
      else if (st.isFile()) out.set(r, sha(fs.readFileSync(full)))
    }
  }
  walk("")
  return out
}

const syncOk = (w: World, h: HostDirs) => {
  const r = w.sync(h)
  expect(r.code, `sync ${h.name}: ${r.stderr}`).toBe(0)
}

// ------------------------------------------------------------------------- plain git-annex peer

describe("a peer running plain git-annex (no sharebox)", () => {
  const w = useWorld("sharebox-plain")
  let A: HostDirs
  let P: string
  /** every content anyone wrote: each must stay reachable */
  const written = new Map<string, string>()
  const remember = (label: string, content: string) => written.set(label, content)

  const pgit = (...args: Array<string>) => {
    const r = exec("git", ["-C", P, ...args])
    expect(r.code, `git ${args.join(" ")} in the plain peer: ${r.stderr}`).toBe(0)
    return r
  }
  /** `git annex sync` in the plain peer (commits, pulls, merges, pushes). */
  const plainSync = async () => {
    const r = await execAsync("git", ["-C", P, "annex", "sync", "--no-content"])
    expect(r.code, `git annex sync: ${r.stdout}\n${r.stderr}`).toBe(0)
    return r
  }
  /** Replaces a file in the plain peer with new annexed content (locked). */
  const plainWrite = (rel: string, content: string) => {
    const f = path.join(P, rel)
    fs.rmSync(f, { force: true })
    fs.writeFileSync(f, content)
    pgit("annex", "add", "--quiet", "--", rel)
  }
  /** The peer's work tree contents, all content fetched; sharebox's markers and .git left out. */
  const plainContents = () => {
    pgit("annex", "get", "--quiet", ".")
    return contentsBelow(P, (r) => r === ".git" || path.basename(r) === ".shareboxdir")
  }

  beforeAll(async () => {
    A = w.host("A")
    w.mount(A, "writeback=off")
    write(path.join(A.mnt, "doc.txt"), "doc v0\n")
    write(path.join(A.mnt, "other.txt"), "other v0\n")
    fs.mkdirSync(path.join(A.mnt, "dir"))
    write(path.join(A.mnt, "dir", "keep.txt"), "keep\n")
    // (doc v0 and other v0 are written over on both sides below: users replaced them)
    remember("keep", "keep\n")
    syncOk(w, A)
    // the plain peer: a clone of A's gitdir, made a git-annex repository, nothing else
    P = plainPeer(path.join(w.root, "plain"), "plain", { clone: A.gitdir })
    expect(git(A.gitdir, ["remote", "add", "plain", P]).code).toBe(0)
  }, 60_000)

  it("the plain peer gets sharebox's files with git annex sync + get", async () => {
    await plainSync()
    const c = plainContents()
    expect(c.get("doc.txt")).toBe(sha("doc v0\n"))
    expect(c.get("dir/keep.txt")).toBe(sha("keep\n"))
  })

  it("a file the plain peer adds and pushes shows in the mount at once (merged from its push), content on demand", async () => {
    fs.writeFileSync(path.join(P, "fromplain.txt"), "added by plain git-annex\n")
    remember("fromplain", "added by plain git-annex\n")
    pgit("annex", "add", "--quiet", "fromplain.txt")
    await plainSync()
    // no sync on A: its ref watcher merges what was pushed into synced/main
    expect(await eventually(() => fs.existsSync(path.join(A.mnt, "fromplain.txt")), 10_000)).toBe(true)
    expect(read(path.join(A.mnt, "fromplain.txt"))).toBe("added by plain git-annex\n")
  })

  it("concurrent edits, merged by sharebox from the plain peer's push: a conflict copy, nothing lost", async () => {
    // A edits offline (journal only), then the plain peer edits the same file and pushes
    write(path.join(A.mnt, "doc.txt"), "doc edited on A\n")
    remember("docA", "doc edited on A\n")
    await sleep(50)
    plainWrite("doc.txt", "doc edited by plain\n")
    remember("docP", "doc edited by plain\n")
    pgit("commit", "-q", "-m", "plain edits doc.txt")
    await plainSync()
    // A's daemon merged the push: both versions in the mount, one as a conflict copy
    const both = () => {
      const names = fs.readdirSync(A.mnt).filter((n) => n.startsWith("doc."))
      return names.length === 2 && names.some((n) => n.includes(".conflict-") && n.endsWith(".txt"))
    }
    expect(await eventually(both, 15_000), fs.readdirSync(A.mnt).join(" ")).toBe(true)
    const shown = new Set([...contentsBelow(A.mnt, (r) => r === ".sharebox").entries()].filter(([p]) => p.startsWith("doc.")).map(([, h]) => h))
    expect(shown).toEqual(new Set([sha("doc edited on A\n"), sha("doc edited by plain\n")]))
    const conflicts = read(path.join(A.mnt, ".sharebox", "conflicts")).split("\n").filter(Boolean)
    expect(conflicts).toHaveLength(1)
    expect(conflicts[0]!.startsWith("doc.txt\t")).toBe(true)
  })

  it("a conflict git-annex resolves with its own variant files: sharebox takes the merge, nothing lost", async () => {
    // A commits its edit (no push: the plain peer pulls it), the plain peer edits the same file
    write(path.join(A.mnt, "other.txt"), "other edited on A\n")
    remember("otherA", "other edited on A\n")
    expect(sharebox(["replay", A.mnt]).code).toBe(0)
    plainWrite("other.txt", "other edited by plain\n")
    remember("otherP", "other edited by plain\n")
    pgit("commit", "-q", "-m", "plain edits other.txt")
    // git annex sync in the plain peer pulls A's edit, merges, resolves with .variant- files, pushes
    await plainSync()
    const variants = fs.readdirSync(P).filter((n) => n.includes(".variant-"))
    expect(variants.length, fs.readdirSync(P).join(" ")).toBeGreaterThanOrEqual(1)
    // A merges the push (its watcher), then syncs both ways
    expect(await eventually(() => fs.readdirSync(A.mnt).some((n) => n.includes(".variant-")), 15_000), fs.readdirSync(A.mnt).join(" ")).toBe(true)
    syncOk(w, A)
    await plainSync()
    syncOk(w, A)
    await plainSync()
  })

  it("after syncs both ways: the same tree on both sides, every version reachable on both", async () => {
    // the plain peer's last sync pushed to A: wait for A's watcher, then compare
    const plainTree = () => exec("git", ["-C", P, "rev-parse", "HEAD^{tree}"]).stdout.trim()
    expect(await eventually(() => git(A.gitdir, ["rev-parse", "HEAD^{tree}"]).stdout.trim() === plainTree(), 10_000)).toBe(true)
    const onA = new Set(Object.values(snapshot(A.mnt)).flatMap((e) => (e.sha256 ? [e.sha256] : [])))
    const onP = new Set(plainContents().values())
    for (const [label, content] of written) {
      expect(onA.has(sha(content)), `${label} lost on A`).toBe(true)
      expect(onP.has(sha(content)), `${label} lost on the plain peer`).toBe(true)
    }
    // the mount and the plain work tree show the same files (sharebox's markers aside)
    const aFiles = Object.entries(snapshot(A.mnt)).filter(([, e]) => e.type === "file").map(([p]) => p).sort()
    expect(aFiles).toEqual([...plainContents().keys()].sort())
    // and the plain peer's repository is sound
    expect(exec("git", ["-C", P, "annex", "fsck", "--fast", "--quiet"]).code).toBe(0)
    expect(exec("git", ["-C", P, "status", "--porcelain"]).stdout).toBe("")
  })
})

// ------------------------------------------------------------------------------ interrupted sync

/** Starts a command, kills it with SIGKILL after `ms`; resolves with whether it was still running. */
const killAfter = (cmd: string, args: ReadonlyArray<string>, ms: number, group = false): Promise<{ killed: boolean; code: number | null }> =>
  new Promise((resolve) => {
    const child: ChildProcess = spawn(cmd, args as Array<string>, { stdio: "ignore", detached: group })
    let done = false
    const timer = setTimeout(() => {
      if (done) return
      try {
        if (group) process.kill(-child.pid!, "SIGKILL")
        else child.kill("SIGKILL")
      } catch {}
    }, ms)
    child.on("close", (code, signal) => {
      done = true
      clearTimeout(timer)
      resolve({ killed: signal === "SIGKILL", code })
    })
  })

describe("an interrupted sync (kill -9) is finished by the next one", () => {
  const w = useWorld("sharebox-killsync")
  let X: HostDirs
  let Y: HostDirs
  const written = new Map<string, string>()

  /** X's gitdir fsck'd by git itself (objects and refs sound after a kill). */
  const fsckOk = (h: HostDirs) => {
    const r = git(h.gitdir, ["fsck", "--no-progress", "--no-dangling"])
    expect(r.code, `${h.name}: git fsck: ${r.stderr}`).toBe(0)
  }

  /** Offline edits on both hosts for round `i`: a conflict, and one new file each. */
  const edits = async (i: number) => {
    for (const [h, who] of [[X, "X"], [Y, "Y"]] as const) {
      const c = `c${i} by ${who}\n`
      const k = `k${i} by ${who}\n`
      write(path.join(h.mnt, `c${i}.txt`), c)
      write(path.join(h.mnt, `${who.toLowerCase()}${i}.txt`), k)
      written.set(`c${i}.txt by ${who}`, c)
      written.set(`${who.toLowerCase()}${i}.txt`, k)
      await sleep(20)
    }
  }

  const converge = async () => {
    for (let i = 0; i < 2; i++) {
      for (const h of [X, Y]) {
        const r = await execAsync(BIN, ["sync", isMounted(h.mnt) ? h.mnt : h.gitdir])
        expect(r.code, `sync ${h.name}: ${r.stderr}`).toBe(0)
      }
    }
    expect(git(X.gitdir, ["rev-parse", "HEAD^{tree}"]).stdout).toBe(git(Y.gitdir, ["rev-parse", "HEAD^{tree}"]).stdout)
    for (const h of [X, Y]) {
      fsckOk(h)
      expect(w.contractProblems(h)).toEqual([])
    }
  }

  const noLostWrite = () => {
    for (const h of [X, Y]) {
      const have = new Set(Object.values(snapshot(h.mnt)).flatMap((e) => (e.sha256 ? [e.sha256] : [])))
      for (const [label, content] of written) expect(have.has(sha(content)), `${label} lost on ${h.name}`).toBe(true)
    }
  }

  beforeAll(() => {
    X = w.host("X")
    Y = w.host("Y")
    w.mount(X, "writeback=off")
    w.mount(Y, "writeback=off")
    w.connectAll()
    write(path.join(X.mnt, "base.txt"), "base\n")
    written.set("base", "base\n")
    syncOk(w, X)
    syncOk(w, Y)
  }, 60_000)

  /** kill rounds: the full run repeats the race more often; the last direct round always kills the whole group */
  const DIRECT_ROUNDS = scaled(2, 3)
  const DAEMON_KILLS = scaled(1, 2)

  it("a direct sync of an unmounted gitdir, killed at random points, then synced again", async () => {
    const delays: Array<number> = []
    let kills = 0
    // how long a direct sync with nothing to do takes on this machine (node's start-up is much of
    // it): each kill below comes within that, so it lands in a sync that has work to do
    w.unmount(X)
    expect(await w.settled(X)).toBe(true)
    const started = Date.now()
    const idle = await execAsync(BIN, ["sync", X.gitdir])
    expect(idle.code, idle.stderr).toBe(0)
    const idleSyncMs = Date.now() - started
    for (let i = 0; i < DIRECT_ROUNDS; i++) {
      if (!isMounted(X.mnt)) w.mount(X, "writeback=off")
      await edits(i)
      // X's edits stay in its journal (battery mode) when it is unmounted
      w.unmount(X)
      expect(await w.settled(X)).toBe(true)
      // Y's edits are committed, so X's sync has a merge to make and a push to do
      expect(sharebox(["replay", Y.mnt]).code).toBe(0)
      const ms = Math.round(idleSyncMs * (0.4 + 0.55 * Math.random()))
      delays.push(ms)
      // the last round kills the whole process group (git children too), as a power cut would
      const k = await killAfter(BIN, ["sync", X.gitdir], ms, i === DIRECT_ROUNDS - 1)
      if (k.killed) kills++
      else expect(k.code).toBe(0)
      // whatever the kill left, the next syncs finish the work
      await converge()
    }
    w.mount(X, "writeback=off")
    noLostWrite()
    console.log(`direct syncs killed after ${delays.join(", ")} ms (one with nothing to do took ${idleSyncMs} ms): ${kills} of ${DIRECT_ROUNDS} still running`)
    // the kills landed
    expect(kills).toBeGreaterThanOrEqual(1)
  })

  it("the daemon killed during a sync: remounted, synced again, nothing lost", async () => {
    const delays: Array<number> = []
    for (let i = DIRECT_ROUNDS; i < DIRECT_ROUNDS + DAEMON_KILLS; i++) {
      await edits(i)
      expect(sharebox(["replay", Y.mnt]).code).toBe(0)
      const sync = execAsync(BIN, ["sync", X.mnt])
      const ms = 150 + Math.floor(Math.random() * 700)
      delays.push(ms)
      await sleep(ms)
      for (const pid of daemonPids(X.gitdir)) process.kill(pid, "SIGKILL")
      await sync
      expect(await eventually(() => daemonPids(X.gitdir).length === 0, 10_000)).toBe(true)
      // the mount is stale now; mounting again clears it
      w.mount(X, "writeback=off")
      await converge()
    }
    noLostWrite()
    console.log(`daemon killed during sync after ${delays.join(", ")} ms`)
  })
})

// ------------------------------------------------------------------------------- first contact

describe("first contact: two hosts that never synced create the same file", () => {
  const w = useWorld("sharebox-first")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    A = w.host("laptop")
    B = w.host("desktop")
    w.mount(A, "writeback=off")
    w.mount(B, "writeback=off")
  }, 60_000)

  it("the conflict copy is named after the losing host's -o name on both, though neither knew the other's name before", async () => {
    // the desktop writes first and loses; the laptop syncs first, so it names the desktop's copy
    write(path.join(B.mnt, "notes.txt"), "notes from the desktop\n")
    await sleep(50)
    write(path.join(A.mnt, "notes.txt"), "notes from the laptop\n")
    w.connectAll()
    for (const h of [A, B, A, B]) syncOk(w, h)
    const copy = `notes.conflict-desktop-${sha("notes from the desktop\n").slice(0, 6)}.txt`
    for (const h of [A, B]) {
      expect(fs.readdirSync(h.mnt).filter((n) => n !== ".sharebox").sort(), h.name).toEqual([copy, "notes.txt"].sort())
      expect(read(path.join(h.mnt, "notes.txt"))).toBe("notes from the laptop\n")
      expect(read(path.join(h.mnt, copy))).toBe("notes from the desktop\n")
    }
  })
})
