/**
 * Offline work, as a person living with sharebox sees it: the daemon's control socket (commands
 * given a mountpoint or a gitdir reach it; with no daemon they work directly under the lock),
 * `sharebox log` of what no peer has yet, `sharebox replay --dry-run` that changes nothing,
 * `sharebox status`, a cron-ready `sharebox sync` (quiet, documented exit codes), periodic sync
 * (`-o syncinterval`), the watcher showing a peer's push at once, a `kill -9` of the daemon with
 * pending work, a peer that is really gone, `--help`/`--version`, and no escape codes off a terminal.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  BIN,
  ROOT,
  type HostDirs,
  type Run,
  World,
  daemonPids,
  eventually,
  execAsync,
  git,
  read,
  sh,
  sharebox,
  sleep,
  write
} from "./harness.js"

interface LogLine {
  readonly op: string
  readonly path: string
  readonly to?: string
  readonly time: string
  readonly state: "journal" | "replayed"
}

interface StatusJson {
  readonly gitdir: string
  readonly mountpoint: string | null
  readonly pending: number
  readonly unshared: number
  readonly journalBytes: number
  readonly lastSync: null | { time: string; reached: Array<string>; unreachable: Array<{ name: string; reason: string }> }
  readonly conflicts: Array<{ path: string; copy: string }>
  readonly files: { total: number; present: number }
  readonly bytes: { total: number; present: number }
}

/** Every stdout and stderr of log/status/sync seen in this file, checked for escape codes at the end. */
const outputs: Array<{ what: string; text: string }> = []
const keep = (what: string, r: Run): Run => {
  outputs.push({ what: `${what} (stdout)`, text: r.stdout }, { what: `${what} (stderr)`, text: r.stderr })
  return r
}

const run = (args: Array<string>): Run => keep(`sharebox ${args.join(" ")}`, sharebox(args))

const logOf = (target: string): Array<LogLine> => {
  const r = run(["log", "--json", target])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine)
}

const statusOf = (target: string): StatusJson => {
  const r = run(["status", "--json", target])
  expect(r.code, r.stderr).toBe(0)
  const lines = r.stdout.split("\n").filter(Boolean)
  expect(lines).toHaveLength(1)
  return JSON.parse(lines[0]!) as StatusJson
}

const syncOf = (target: string, ...extra: Array<string>): Run => run(["sync", target, ...extra])

const head = (h: HostDirs): string => git(h.gitdir, ["rev-parse", "HEAD"]).stdout.trim()

const socketOf = (h: HostDirs): string | undefined => {
  try {
    return fs.readFileSync(path.join(h.gitdir, ".git", "sharebox", "socket"), "utf8").trim() || undefined
  } catch {
    return undefined
  }
}

/**
 * What a dry run must leave byte-identical: annex objects, journal, staging, HEAD (and every ref,
 * and the work tree's status).
 */
const fingerprint = (h: HostDirs): string => {
  const g = h.gitdir
  const files = sh(
    `find ${g}/.git/annex/objects ${g}/.git/sharebox/journal ${g}/.git/sharebox/staging -type f 2>/dev/null | sort | xargs -r sha256sum`
  ).stdout
  return [files, git(g, ["rev-parse", "HEAD"]).stdout, git(g, ["for-each-ref"]).stdout, git(g, ["status", "--porcelain"]).stdout].join("\n--\n")
}

/** git fsck, git annex fsck --fast and a clean status, all at once. */
const repoProblems = (w: World, h: HostDirs): Array<string> => {
  const out = [...w.contractProblems(h)]
  const f = git(h.gitdir, ["fsck", "--no-progress"])
  if (f.code !== 0) out.push(`${h.name}: git fsck failed: ${f.stderr}`)
  return out
}

/**
 * The same for a mounted peer whose daemon may still be merging what we just pushed to it (its
 * watcher runs in the background): sound once that work is done.
 */
const peerProblems = async (w: World, h: HostDirs): Promise<Array<string>> => {
  let problems = repoProblems(w, h)
  const until = Date.now() + 15_000
  while (problems.length && Date.now() < until) {
    await sleep(250)
    problems = repoProblems(w, h)
  }
  return problems
}

const exists = (p: string): boolean => {
  try {
    fs.lstatSync(p)
    return true
  } catch {
    return false
  }
}

describe("sharebox --help and --version", () => {
  it("--help lists every command; each command's --help exits 0 with its options or an example", () => {
    const r = sharebox(["--help"])
    expect(r.code, r.stderr).toBe(0)
    for (const cmd of ["mount", "sync", "log", "replay", "status", "conflicts", "resolve", "versions", "restore", "get", "drop", "whereis", "pin", "unpin", "init"]) {
      expect(r.stdout, cmd).toMatch(new RegExp(`^\\s*- ${cmd}\\b`, "m"))
    }
    const expected: Record<string, RegExp> = {
      sync: /Example|--verbose/,
      log: /--json/,
      replay: /--dry-run/,
      status: /--json/,
      mount: /Example|gitdir=/
    }
    for (const [cmd, re] of Object.entries(expected)) {
      const h = sharebox([cmd, "--help"])
      expect(h.code, `${cmd}: ${h.stderr}`).toBe(0)
      expect(h.stdout, cmd).toMatch(re)
      expect(h.stdout, cmd).not.toContain("\x1b[")
    }
  })

  it("--version prints the version, one line", () => {
    const r = sharebox(["--version"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe(`${JSON.parse(read(path.join(ROOT, "package.json"))).version}\n`)
  })

  it("sync's exit codes 0, 75 and 1 are documented in its --help and in README.md", () => {
    const h = sharebox(["sync", "--help"]).stdout
    const codes = /Exit codes?:([^\n]*)/i.exec(h)?.[1] ?? ""
    for (const c of ["0", "75", "1"]) expect(codes, h).toMatch(new RegExp(`\\b${c}\\b`))
    const readme = read(path.join(ROOT, "README.md"))
    const table = /`sharebox sync` exits with:([\s\S]*?)\n\n[^|]/.exec(readme)?.[1] ?? ""
    for (const c of ["0", "75", "1"]) expect(table, "README's sync exit codes").toMatch(new RegExp(`^\\|\\s*${c}\\s*\\|`, "m"))
  })
})

describe("offline work", () => {
  const w = new World("sharebox-offwork")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    // A in battery mode: its changes stay in the journal until a replay or sync
    ;[A, B] = w.pair(["writeback=off"])
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
    const escapes = outputs.filter((o) => o.text.includes("\x1b["))
    expect(escapes.map((o) => o.what)).toEqual([])
  }, 60_000)

  it("the control socket is 0600 while mounted; the MNT and the GITDIR both reach the daemon", () => {
    const sock = socketOf(A)
    expect(sock).toBeDefined()
    const st = fs.statSync(sock!)
    expect(st.isSocket()).toBe(true)
    expect((st.mode & 0o777).toString(8)).toBe("600")
    for (const t of [A.mnt, A.gitdir]) {
      const s = statusOf(t)
      expect(s.mountpoint, t).toBe(A.mnt)
      expect(s.gitdir).toBe(A.gitdir)
      // nothing synced yet
      expect(s.lastSync).toBeNull()
      expect(s.pending).toBe(0)
    }
    const plain = run(["status", A.gitdir])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toMatch(new RegExp(`^mounted:\\s+${A.mnt}$`, "m"))
    expect(plain.stdout).toMatch(/^last sync:\s+never$/m)
  })

  const opsA = ["notes.txt", "docs", "docs/plan.txt"]

  it("log lists every pending operation, oldest first, with op, path, time and state journal; status counts them", async () => {
    expect(logOf(A.mnt)).toEqual([])
    write(path.join(A.mnt, "notes.txt"), "first notes\n")
    await sleep(20)
    fs.mkdirSync(path.join(A.mnt, "docs"))
    await sleep(20)
    write(path.join(A.mnt, "docs", "plan.txt"), "the plan\n")
    await sleep(20)
    fs.chmodSync(path.join(A.mnt, "docs", "plan.txt"), 0o755)
    await sleep(20)
    fs.renameSync(path.join(A.mnt, "notes.txt"), path.join(A.mnt, "docs", "notes.txt"))
    // battery mode: nothing replays on its own
    await sleep(1500)
    for (const t of [A.mnt, A.gitdir]) {
      const log = logOf(t)
      expect(log.length, JSON.stringify(log)).toBeGreaterThanOrEqual(5)
      for (const e of log) {
        expect(e.state).toBe("journal")
        expect(typeof e.op).toBe("string")
        expect(typeof e.path).toBe("string")
        expect(Number.isNaN(Date.parse(e.time)), e.time).toBe(false)
      }
      const times = log.map((e) => Date.parse(e.time))
      expect([...times].sort((a, b) => a - b)).toEqual(times)
      const first = (pred: (e: LogLine) => boolean) => log.findIndex(pred)
      const order = [
        first((e) => e.path === "notes.txt"),
        first((e) => e.op === "mkdir" && e.path === "docs"),
        first((e) => e.path === "docs/plan.txt"),
        first((e) => e.op === "chmod" && e.path === "docs/plan.txt"),
        first((e) => e.op === "rename" && e.path === "notes.txt" && e.to === "docs/notes.txt")
      ]
      expect(order.every((i) => i >= 0), JSON.stringify(log)).toBe(true)
      expect([...order].sort((a, b) => a - b)).toEqual(order)
    }
    const plain = run(["log", A.mnt])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toMatch(/rename\s+notes\.txt -> docs\/notes\.txt.*\[journal\]/)
    const s = statusOf(A.mnt)
    expect(s.pending).toBe(logOf(A.mnt).length)
    expect(s.journalBytes).toBeGreaterThan(0)
    expect(fs.statSync(path.join(A.gitdir, ".git", "sharebox", "journal")).size).toBe(s.journalBytes)
    expect(s.unshared).toBe(0)
    expect(git(A.gitdir, ["ls-files"]).stdout).not.toContain("plan.txt")
  })

  it("replay --dry-run through the daemon prints the plan and changes nothing; replay then applies it", () => {
    const before = fingerprint(A)
    const headBefore = git(A.gitdir, ["rev-parse", "-q", "--verify", "HEAD"]).stdout.trim()
    for (const t of [A.mnt, A.gitdir]) {
      const r = run(["replay", "--dry-run", t])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/docs\/plan\.txt/)
      expect(r.stdout).toMatch(/^add\s+SHA256E-s\d+--/m)
      expect(r.stdout).toMatch(/^commit\s/m)
      expect(fingerprint(A)).toBe(before)
    }
    expect(logOf(A.mnt).every((e) => e.state === "journal")).toBe(true)
    const r = run(["replay", A.mnt])
    expect(r.code, r.stderr).toBe(0)
    expect(head(A)).not.toBe(headBefore)
    expect(head(A)).toMatch(/^[0-9a-f]{40}$/)
    expect(fs.statSync(path.join(A.gitdir, ".git", "sharebox", "journal")).size).toBe(0)
    expect(git(A.gitdir, ["ls-files"]).stdout.split("\n")).toEqual(expect.arrayContaining(["docs/notes.txt", "docs/plan.txt"]))
    const log = logOf(A.mnt)
    expect(log.length).toBeGreaterThan(0)
    expect(log.every((e) => e.state === "replayed"), JSON.stringify(log)).toBe(true)
    expect(log.map((e) => e.path).concat(log.map((e) => e.to ?? ""))).toEqual(expect.arrayContaining(["docs/plan.txt"]))
    const s = statusOf(A.mnt)
    expect(s.pending).toBe(0)
    expect(s.journalBytes).toBe(0)
    expect(s.unshared).toBe(log.length)
    expect(s.lastSync).toBeNull()
    // a second dry run has nothing to do
    const again = run(["replay", "--dry-run", A.mnt])
    expect(again.stdout).toMatch(/nothing to replay/)
  })

  it("operations drop out of the log once a sync pushed them to a peer", () => {
    const r = syncOf(A.mnt)
    expect(r.code, r.stderr).toBe(0)
    expect(logOf(A.mnt)).toEqual([])
    const s = statusOf(A.gitdir)
    expect(s.unshared).toBe(0)
    expect(s.lastSync).not.toBeNull()
    expect(Date.now() - Date.parse(s.lastSync!.time)).toBeLessThan(60_000)
    expect(s.lastSync!.reached).toEqual(["B"])
    expect(s.lastSync!.unreachable).toEqual([])
    expect(git(B.gitdir, ["rev-parse", "synced/main"]).stdout.trim()).toBe(head(A))
  })

  it("...and once the peer fetched them from us, as our next fetch shows (our push to it failing)", () => {
    write(path.join(A.mnt, "fetched.txt"), "B will fetch this\n")
    expect(run(["replay", A.mnt]).code).toBe(0)
    expect(logOf(A.mnt).map((e) => [e.path, e.state])).toEqual(expect.arrayContaining([["fetched.txt", "replayed"]]))
    const b = syncOf(B.mnt)
    expect(b.code, b.stderr).toBe(0)
    expect(git(B.gitdir, ["cat-file", "-e", `${head(A)}^{commit}`]).code).toBe(0)
    // A cannot push to B: only its fetch can tell it that B has the commits
    expect(git(A.gitdir, ["remote", "set-url", "--push", "B", path.join(w.root, "nowhere")]).code).toBe(0)
    try {
      syncOf(A.mnt)
      expect(logOf(A.mnt).map((e) => e.path)).not.toContain("fetched.txt")
      expect(statusOf(A.mnt).unshared).toBe(0)
    } finally {
      git(A.gitdir, ["config", "--unset", "remote.B.pushurl"])
    }
    expect(git(A.gitdir, ["config", "--get", "remote.B.pushurl"]).stdout).toBe("")
  })

  it("two syncs at once through the daemon: both succeed (or one says busy), and the repositories stay sound", async () => {
    write(path.join(A.mnt, "race-a.txt"), "race A\n")
    write(path.join(B.mnt, "race-b.txt"), "race B\n")
    const both = await Promise.all([execAsync(BIN, ["sync", A.mnt]), execAsync(BIN, ["sync", A.gitdir])])
    for (const r of both) keep("concurrent sync", r)
    // the daemon runs them one after the other
    for (const r of both) expect([r.code, r.stdout, r.stderr]).toEqual([0, "", ""])
    expect(read(path.join(A.mnt, "race-b.txt"))).toBe("race B\n")
    expect(repoProblems(w, A)).toEqual([])
    expect(await peerProblems(w, B)).toEqual([])
    expect(logOf(A.mnt)).toEqual([])
  })

  it("status: content present vs total, open conflicts, each changing as it should", async () => {
    const before = statusOf(A.mnt)
    expect(before.files.present).toBe(before.files.total)
    const big = Buffer.alloc(200_000, 7)
    fs.writeFileSync(path.join(B.mnt, "big.bin"), big)
    write(path.join(B.mnt, "clash.txt"), "B's clash\n")
    write(path.join(A.mnt, "clash.txt"), "A's clash\n")
    expect(await eventually(() => git(B.gitdir, ["ls-files"]).stdout.includes("clash.txt"), 15_000)).toBe(true)
    const r = syncOf(A.mnt)
    expect(r.code, r.stderr).toBe(0)
    const s = statusOf(A.mnt)
    // big.bin's content stays on B until read; clash.txt's loser too perhaps, so compare by size
    expect(s.files.total).toBe(before.files.total + 3) // big.bin, clash.txt, its conflict copy
    expect(s.bytes.total - before.bytes.total).toBe(200_000 + "B's clash\n".length + "A's clash\n".length)
    expect(s.files.present).toBeLessThan(s.files.total)
    expect(s.bytes.total - s.bytes.present).toBeGreaterThanOrEqual(200_000)
    expect(s.conflicts).toHaveLength(1)
    expect(s.conflicts[0]!.path).toBe("clash.txt")
    const copy = s.conflicts[0]!.copy
    expect(exists(path.join(A.mnt, copy))).toBe(true)
    // reading big.bin fetches it
    expect(fs.readFileSync(path.join(A.mnt, "big.bin")).equals(big)).toBe(true)
    const s2 = statusOf(A.mnt)
    expect(s2.files.present).toBe(s.files.present + 1)
    expect(s2.bytes.present).toBe(s.bytes.present + 200_000)
    // deleting the copy resolves the conflict
    fs.rmSync(path.join(A.mnt, copy))
    expect(statusOf(A.mnt).conflicts).toEqual([])
    expect(statusOf(A.mnt).files.total).toBe(s.files.total - 1)
    expect(syncOf(A.mnt).code).toBe(0)
    expect(syncOf(B.mnt).code).toBe(0)
    expect(statusOf(B.mnt).conflicts).toEqual([])
  })

  it("cron-ready: a successful sync says nothing; -v says more", () => {
    for (const t of [A.mnt, B.gitdir]) {
      const r = syncOf(t)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe("")
      expect(r.stderr).toBe("")
    }
    const v = syncOf(A.mnt, "-v")
    expect(v.code, v.stderr).toBe(0)
    expect(v.stdout).toMatch(/\bB\b/)
    expect(v.stdout.length).toBeGreaterThan(0)
  })

  it("the watcher: B's sync pushes into A's gitdir and A's mount shows it in seconds, with no sync on A", async () => {
    const lastA = statusOf(A.mnt).lastSync!.time
    write(path.join(B.mnt, "pushed.txt"), "pushed by B\n")
    const r = syncOf(B.mnt)
    expect(r.code, r.stderr).toBe(0)
    const t = Date.now()
    expect(await eventually(() => exists(path.join(A.mnt, "pushed.txt")), 5_000)).toBe(true)
    expect(Date.now() - t).toBeLessThan(5_000)
    expect(read(path.join(A.mnt, "pushed.txt"))).toBe("pushed by B\n")
    expect(statusOf(A.mnt).lastSync!.time).toBe(lastA)
  })

  it("kill -9 of the daemon with pending work: after remount, log still lists it and a sync propagates it", async () => {
    write(path.join(A.mnt, "k1.txt"), "k one\n")
    write(path.join(A.mnt, "k2.txt"), "k two\n")
    fs.mkdirSync(path.join(A.mnt, "kdir"))
    write(path.join(A.mnt, "kdir", "k3.txt"), "k three\n")
    write(path.join(A.mnt, "k1.txt"), "k one, edited\n")
    fs.rmSync(path.join(A.mnt, "pushed.txt"))
    const pending = logOf(A.mnt).filter((e) => e.state === "journal")
    expect(pending.length).toBeGreaterThanOrEqual(5)
    const pids = daemonPids(A.gitdir)
    expect(pids).toHaveLength(1)
    process.kill(pids[0]!, "SIGKILL")
    expect(await eventually(() => daemonPids(A.gitdir).length === 0, 10_000)).toBe(true)
    w.mount(A, "writeback=off")
    const after = logOf(A.mnt)
    expect(after.map((e) => [e.op, e.path, e.state])).toEqual(pending.map((e) => [e.op, e.path, e.state]))
    expect(read(path.join(A.mnt, "k1.txt"))).toBe("k one, edited\n")
    const r = syncOf(A.mnt)
    expect(r.code, r.stderr).toBe(0)
    expect(logOf(A.mnt)).toEqual([])
    expect(await eventually(() => exists(path.join(B.mnt, "kdir", "k3.txt")) && !exists(path.join(B.mnt, "pushed.txt")), 10_000)).toBe(true)
    expect(read(path.join(B.mnt, "k1.txt"))).toBe("k one, edited\n")
    expect(read(path.join(B.mnt, "k2.txt"))).toBe("k two\n")
    expect(read(path.join(B.mnt, "kdir", "k3.txt"))).toBe("k three\n")
  })

  it("a peer really offline (its folder moved away): sync exits 75 quickly and status names it; back: 0 and reached", async () => {
    w.unmount(B)
    expect(await w.settled(B)).toBe(true)
    const home = path.dirname(B.gitdir)
    const away = `${home}.away`
    fs.renameSync(home, away)
    try {
      write(path.join(A.mnt, "offline.txt"), "B is gone\n")
      const t = Date.now()
      const r = syncOf(A.mnt)
      expect(Date.now() - t).toBeLessThan(30_000)
      expect(r.code, r.stderr).toBe(75)
      expect(r.stderr.trim().split("\n")).toHaveLength(1)
      expect(r.stderr).toMatch(/\bB\b.*unreachable|unreachable.*\bB\b/)
      const s = statusOf(A.mnt)
      expect(s.lastSync!.unreachable.map((u) => u.name)).toEqual(["B"])
      expect(s.lastSync!.reached).toEqual([])
      const plain = run(["status", A.mnt])
      expect(plain.stdout).toMatch(/^last sync:.*unreachable: B$/m)
      // still not on any peer
      expect(logOf(A.mnt).map((e) => e.path)).toContain("offline.txt")
    } finally {
      fs.renameSync(away, home)
    }
    const r = syncOf(A.mnt)
    expect(r.code, r.stderr).toBe(0)
    const s = statusOf(A.mnt)
    expect(s.lastSync!.reached).toEqual(["B"])
    expect(s.lastSync!.unreachable).toEqual([])
    expect(logOf(A.mnt)).toEqual([])
    // A's sync pushed into B's gitdir while B was not mounted: B's mount shows it at once, no sync on B
    const lastB = statusOf(B.gitdir).lastSync?.time
    w.mount(B)
    expect(read(path.join(B.mnt, "offline.txt"))).toBe("B is gone\n")
    expect(statusOf(B.mnt).lastSync?.time).toBe(lastB)
  })

  it("no daemon: the socket is gone; log, status, replay --dry-run and replay work directly on the gitdir", async () => {
    write(path.join(A.mnt, "direct1.txt"), "direct one\n")
    fs.mkdirSync(path.join(A.mnt, "ddir"))
    write(path.join(A.mnt, "ddir", "direct2.txt"), "direct two\n")
    const sock = socketOf(A)!
    expect(fs.statSync(sock).isSocket()).toBe(true)
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    expect(exists(sock)).toBe(false)
    expect(socketOf(A)).toBeUndefined()
    // battery mode: the unmount left the work in the journal
    const log = logOf(A.gitdir)
    expect(log.map((e) => e.path)).toEqual(expect.arrayContaining(["direct1.txt", "ddir", "ddir/direct2.txt"]))
    expect(log.every((e) => e.state === "journal")).toBe(true)
    const s = statusOf(A.gitdir)
    expect(s.mountpoint).toBeNull()
    expect(s.pending).toBe(log.length)
    expect(run(["status", A.gitdir]).stdout).toMatch(/^mounted:\s+no$/m)
    const before = fingerprint(A)
    const headBefore = head(A)
    const dry = run(["replay", "--dry-run", A.gitdir])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/ddir\/direct2\.txt/)
    expect(dry.stdout).toMatch(/^add\s+SHA256E-/m)
    expect(dry.stdout).toMatch(/^commit\s/m)
    expect(fingerprint(A)).toBe(before)
    const r = run(["replay", A.gitdir])
    expect(r.code, r.stderr).toBe(0)
    expect(head(A)).not.toBe(headBefore)
    expect(fs.statSync(path.join(A.gitdir, ".git", "sharebox", "journal")).size).toBe(0)
    expect(statusOf(A.gitdir).pending).toBe(0)
    expect(logOf(A.gitdir).every((e) => e.state === "replayed")).toBe(true)
    expect(fs.existsSync(path.join(A.gitdir, ".git", "sharebox", "lock"))).toBe(false)
    expect(repoProblems(w, A)).toEqual([])
  })

  it("no daemon: two direct syncs at once never corrupt anything", async () => {
    const both = await Promise.all([execAsync(BIN, ["sync", A.gitdir]), execAsync(BIN, ["sync", A.gitdir])])
    for (const r of both) keep("concurrent direct sync", r)
    // the second waits for the lock (it used to take it between the first's wait and open: "in use")
    for (const r of both) expect([r.code, r.stdout, r.stderr]).toEqual([0, "", ""])
    expect(fs.existsSync(path.join(A.gitdir, ".git", "sharebox", "lock"))).toBe(false)
    expect(repoProblems(w, A)).toEqual([])
    expect(await peerProblems(w, B)).toEqual([])
    expect(logOf(A.gitdir)).toEqual([])
    expect(git(B.gitdir, ["rev-parse", "synced/main"]).stdout.trim()).toBe(head(A))
  })

  it("a gitdir only initialised, never mounted: commands work directly, two syncs at once included", async () => {
    const C = w.host("C")
    const init = sharebox(["init", C.gitdir, "--name", "C"])
    expect(init.code, init.stderr).toBe(0)
    expect(git(C.gitdir, ["remote", "add", "A", A.gitdir]).code).toBe(0)
    const s = statusOf(C.gitdir)
    expect([s.mountpoint, s.pending, s.lastSync]).toEqual([null, 0, null])
    expect(logOf(C.gitdir)).toEqual([])
    const both = await Promise.all([execAsync(BIN, ["sync", C.gitdir]), execAsync(BIN, ["sync", C.gitdir])])
    for (const r of both) keep("concurrent direct sync of a new gitdir", r)
    for (const r of both) expect([r.code, r.stdout, r.stderr]).toEqual([0, "", ""])
    expect(git(C.gitdir, ["ls-files"]).stdout.split("\n")).toEqual(expect.arrayContaining(["docs/plan.txt", "ddir/direct2.txt"]))
    expect(statusOf(C.gitdir).lastSync!.reached).toEqual(["A"])
    // a transfer off a terminal: no progress output at all
    const before = statusOf(C.gitdir).bytes.present
    const get = keep("sharebox get", sharebox(["get", path.join(C.gitdir, "big.bin")]))
    expect([get.code, get.stdout, get.stderr]).toEqual([0, "", ""])
    expect(statusOf(C.gitdir).bytes.present).toBe(before + 200_000)
    expect(repoProblems(w, C)).toEqual([])
  })

  it("-o syncinterval=2: the daemon syncs on its own and B's written-back file appears on A", async () => {
    w.mount(A, "syncinterval=2")
    write(path.join(B.mnt, "interval.txt"), "synced on its own\n")
    // B's write-back first, so A's periodic fetch finds it (B itself never syncs here)
    expect(await eventually(() => git(B.gitdir, ["ls-files"]).stdout.includes("interval.txt"), 10_000)).toBe(true)
    const t = Date.now()
    expect(await eventually(() => exists(path.join(A.mnt, "interval.txt")), 10_000, 200)).toBe(true)
    expect(Date.now() - t).toBeLessThan(10_000)
    expect(read(path.join(A.mnt, "interval.txt"))).toBe("synced on its own\n")
    const s = statusOf(A.mnt)
    expect(Date.now() - Date.parse(s.lastSync!.time)).toBeLessThan(10_000)
    expect(s.lastSync!.reached).toEqual(["B"])
  })
})
