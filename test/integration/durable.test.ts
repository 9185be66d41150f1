/**
 * Durability of what close() and fsync() returned for. A power cut cannot be pulled here, so two
 * things are checked: the order of the system calls (under strace: annex objects, commit and cursor
 * are on the disk before the journal forgets the events, and fsync() in the mount forces the
 * staging file, its folder and the journal), and that a kill -9 at any point of a big replay loses
 * nothing and leaves a gitdir that passes `git annex fsck --fast` with a clean `git status`.
 */
import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { objectPathOf } from "../../src/effects/annex.js"
import { BIN, type HostDirs, World, daemonPids, eventually, execAsync, git, isMounted, read, scaled, sharebox, sleep, write } from "./harness.js"

const straceWorks = spawnSync("strace", ["-f", "-qq", "-o", "/dev/null", "true"]).status === 0
if (!straceWorks) console.log("durable: the system-call order checks are skipped: strace is missing or cannot trace here")

interface Call {
  readonly name: string
  readonly args: string
  /** line of the trace where the call started and where it returned */
  readonly start: number
  readonly end: number
}

/**
 * The calls of an `strace -f -y` trace, in order. A call another thread interrupted is one call:
 * it starts at its `<unfinished ...>` line and ends at its `resumed` line.
 */
const parseTrace = (text: string): Array<Call> => {
  const out: Array<Call> = []
  const open = new Map<string, { name: string; args: string; start: number }>()
  text.split("\n").forEach((line, i) => {
    const m = /^(\d+)\s+(.*)$/.exec(line)
    if (!m) return
    const [, pid, rest] = m as unknown as [string, string, string]
    const unfinished = /^(\w+)\((.*) <unfinished \.\.\.>$/.exec(rest)
    if (unfinished) return void open.set(pid, { name: unfinished[1]!, args: unfinished[2]!, start: i })
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest)
    if (resumed) {
      const o = open.get(pid)
      open.delete(pid)
      if (o) out.push({ name: o.name, args: o.args + resumed[2]!, start: o.start, end: i })
      return
    }
    const call = /^(\w+)\((.*)$/.exec(rest)
    if (call) out.push({ name: call[1]!, args: call[2]!, start: i, end: i })
  })
  return out.filter((c) => / = 0$/.test(c.args))
}

/** The path arguments of a call (quoted strings and the paths strace -y prints for descriptors). */
const pathsOf = (c: Call): Array<string> => [...c.args.matchAll(/"([^"]*)"|<([^>]*)>/g)].map((m) => m[1] ?? m[2]!)

/** Where a link or rename put its file. */
const targetOf = (c: Call): string => pathsOf(c).filter((p) => !p.startsWith("AT_FDCWD")).pop() ?? ""

/** The file a fsync, fdatasync or syncfs was called on. */
const fdPathOf = (c: Call): string => /<([^>]*)>/.exec(c.args)?.[1] ?? ""

const isSync = (c: Call) => c.name === "fsync" || c.name === "fdatasync"

/**
 * Whether `file` (a path ending as given) is on the disk once `before` starts, by something that
 * started after `after` returned: a syncfs of the gitdir's filesystem, or a fsync of the file itself.
 */
const madeDurable = (calls: ReadonlyArray<Call>, gitdir: string, file: string, after: number, before: number): boolean =>
  calls.some(
    (c) =>
      c.start > after &&
      c.end < before &&
      ((c.name === "syncfs" && (fdPathOf(c) + "/").startsWith(gitdir + "/")) || (isSync(c) && fdPathOf(c).endsWith(file)))
  )

const stagingIdsOf = (h: HostDirs): Map<string, string> => {
  const out = new Map<string, string>()
  for (const line of read(path.join(h.gitdir, ".git", "sharebox", "journal")).split("\n")) {
    if (!line) continue
    const e = JSON.parse(line.split("\t")[0]!)
    if (e.op === "write" && e.content?.kind === "staged") out.set(e.path, e.content.id)
  }
  return out
}

describe.skipIf(!straceWorks)("the order of a replay's writes to the disk", () => {
  const w = new World("sharebox-durable")
  let A: HostDirs

  beforeAll(() => {
    A = w.host("A")
    w.mount(A, "writeback=off")
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("fsync() of a file in the mount forces its staging file, the staging folder and the journal; fsync() of a folder forces the journal", async () => {
    fs.mkdirSync(path.join(A.mnt, "synced"))
    const [pid] = daemonPids(A.gitdir)
    expect(pid).toBeDefined()
    const trace = path.join(w.root, "fsync.trace")
    const strace = spawn("strace", ["-f", "-y", "-e", "signal=none", "-e", "trace=fsync,fdatasync,syncfs", "-o", trace, "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    strace.stderr!.on("data", (d) => (err += d))
    const exited = new Promise((r) => strace.once("close", r))
    const stop = async () => {
      strace.kill("SIGINT")
      await exited
    }
    try {
      expect(await eventually(() => /attached/.test(err), 10_000, 20), err).toBe(true)
      const fd = fs.openSync(path.join(A.mnt, "synced", "f.txt"), "w")
      fs.writeSync(fd, "forced to the disk\n")
      fs.fsyncSync(fd)
      const dir = fs.openSync(path.join(A.mnt, "synced"), "r")
      fs.renameSync(path.join(A.mnt, "synced", "f.txt"), path.join(A.mnt, "synced", "g.txt"))
      fs.fsyncSync(dir)
      await stop()
      fs.closeSync(dir)
      fs.closeSync(fd)
    } finally {
      await stop()
    }
    const calls = parseTrace(read(trace))
    const id = stagingIdsOf(A).get("synced/f.txt")!
    const staging = path.join(A.gitdir, ".git", "sharebox", "staging")
    const journal = path.join(A.gitdir, ".git", "sharebox", "journal")
    const synced = (file: string) => calls.filter((c) => isSync(c) && fdPathOf(c) === file)
    expect(synced(path.join(staging, id)), read(trace)).not.toHaveLength(0)
    expect(synced(staging), read(trace)).not.toHaveLength(0)
    // once for the file, once more for the folder (after the rename was journalled)
    expect(synced(journal).length, read(trace)).toBeGreaterThanOrEqual(2)
  })

  it("a replay puts annex objects, commit and cursor on the disk before the journal forgets its events, then the journal's rename", async () => {
    fs.mkdirSync(path.join(A.mnt, "many"))
    for (let i = 0; i < 300; i++) write(path.join(A.mnt, "many", `f${i}.txt`), `file ${i}\n`)
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    const trace = path.join(w.root, "replay.trace")
    const r = await execAsync("strace", ["-f", "-y", "-qq", "-e", "signal=none", "-e", "trace=link,linkat,rename,renameat,renameat2,fsync,fdatasync,syncfs", "-o", trace, BIN, "replay", A.gitdir])
    expect(r.code, r.stderr).toBe(0)
    expect(git(A.gitdir, ["ls-files"]).stdout).toContain("many/f299.txt")
    const calls = parseTrace(read(trace))
    const dump = () => calls.map((c) => `${c.name}(${pathsOf(c).join(", ")})`).join("\n")
    const renamed = (suffix: string) => calls.filter((c) => c.name.startsWith("rename") && targetOf(c).endsWith(suffix))
    const journalRename = renamed("/.git/sharebox/journal")
    const cursorRename = renamed("/.git/sharebox/cursor")
    const refRename = renamed("refs/heads/main")
    expect(journalRename, dump()).toHaveLength(1)
    expect(cursorRename, dump()).toHaveLength(1)
    expect(refRename, dump()).toHaveLength(1)
    const forget = journalRename[0]!.start
    const objects = calls.filter((c) => c.name.startsWith("link") && targetOf(c).includes("/.git/annex/objects/"))
    expect(objects.length).toBeGreaterThanOrEqual(300)
    // each object, and the folder holding it, before the branch or the cursor moves
    const firstMove = Math.min(refRename[0]!.start, cursorRename[0]!.start, forget)
    for (const o of objects) {
      const file = targetOf(o)
      expect(madeDurable(calls, A.gitdir, file, o.end, firstMove), `${file} not on the disk before the branch moved\n${dump()}`).toBe(true)
      expect(madeDurable(calls, A.gitdir, path.dirname(file), o.end, firstMove), `${path.dirname(file)} not on the disk before the branch moved\n${dump()}`).toBe(true)
    }
    // the branch and the cursor (a rename: its folder), before the journal is replaced
    expect(madeDurable(calls, A.gitdir, "refs/heads", refRename[0]!.end, forget), `the branch is not on the disk before the journal is rewritten\n${dump()}`).toBe(true)
    expect(madeDurable(calls, A.gitdir, "/.git/sharebox", cursorRename[0]!.end, forget), `the cursor is not on the disk before the journal is rewritten\n${dump()}`).toBe(true)
    // and the journal's own rename
    expect(madeDurable(calls, A.gitdir, "/.git/sharebox", journalRename[0]!.end, Infinity), `the journal's rename is never made durable\n${dump()}`).toBe(true)
    w.mount(A, "writeback=off")
    expect(read(path.join(A.mnt, "many", "f123.txt"))).toBe("file 123\n")
  })
})

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex")
const keyOf = (content: string) => `SHA256E-s${Buffer.byteLength(content)}--${sha256(content)}.txt`

/** Waits (checking every few milliseconds, so a short step is not missed) until `f` holds or `ms` pass. */
const waitFor = async (f: () => boolean, ms: number): Promise<boolean> => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (f()) return true
    await sleep(3)
  }
  return false
}

describe("kill -9 of the daemon in the middle of a big write-back replay", () => {
  const w = new World("sharebox-durable-kill")
  let A: HostDirs
  /** path -> the content last closed there */
  const expected = new Map<string, string>()

  beforeAll(() => {
    A = w.host("A")
  }, 60_000)

  afterAll(async () => {
    delete process.env.SHAREBOX_QUIET_MS
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  const state = (f: string) => path.join(A.gitdir, ".git", "sharebox", f)
  const cursorText = () => (fs.existsSync(state("cursor")) ? read(state("cursor")) : "")

  /** files written per round: enough that the replay takes long enough to be caught at each point */
  const FILES = scaled(800, 1500)
  // each point is reached by one round; a point the replay passed too fast to catch is a kill a little later
  const points: Array<[string, (first: string, cursor: string) => boolean]> = [
    ["while content goes into the annex", (first) => fs.existsSync(path.join(A.gitdir, objectPathOf(keyOf(first))))],
    ["between the record of the replay and the cursor", () => fs.existsSync(state("replaying.json"))],
    ["after the cursor moved, while the journal and staging are cleaned up", (_, cursor) => cursorText() !== cursor]
  ]

  for (const [round, [what, reached]] of points.entries()) {
    it(`killed ${what}: every closed file is there after a remount, and sync, fsck and git status are clean`, async () => {
      process.env.SHAREBOX_QUIET_MS = "300"
      w.mount(A)
      delete process.env.SHAREBOX_QUIET_MS
      const dir = `r${round}`
      fs.mkdirSync(path.join(A.mnt, dir))
      const first = `round ${round} file 0\n`
      for (let i = 0; i < FILES; i++) {
        const p = `${dir}/f${i}.txt`
        const content = `round ${round} file ${i}\n`
        write(path.join(A.mnt, p), content)
        expected.set(p, content)
      }
      // a new version of files of earlier rounds
      for (const p of [...expected.keys()].filter((p) => !p.startsWith(dir)).slice(0, 50)) {
        const content = `${expected.get(p)}edited in round ${round}\n`
        write(path.join(A.mnt, p), content)
        expected.set(p, content)
      }
      const cursor = cursorText()
      const caught = await waitFor(() => reached(first, cursor), 60_000)
      if (!caught) console.log(`durable: round ${round} did not catch the replay ${what}; killed after it`)
      const [pid] = daemonPids(A.gitdir)
      process.kill(pid!, "SIGKILL")
      expect(await eventually(() => daemonPids(A.gitdir).length === 0, 10_000, 20)).toBe(true)
      // over the stale mount, without write-back: what the journal and the commits hold, as they are
      w.mount(A, "writeback=off")
      const wrong = [...expected].filter(([p, c]) => {
        try {
          return read(path.join(A.mnt, p)) !== c
        } catch {
          return true
        }
      })
      expect(wrong.map(([p]) => p).slice(0, 10)).toEqual([])
      const s = await execAsync(BIN, ["sync", A.mnt])
      expect(s.code, s.stderr).toBe(0)
      const committed = new Set(git(A.gitdir, ["ls-files"]).stdout.split("\n"))
      expect([...expected.keys()].filter((p) => !committed.has(p)).slice(0, 10)).toEqual([])
      for (const p of [`${dir}/f0.txt`, `${dir}/f${FILES - 1}.txt`]) expect(read(path.join(A.mnt, p))).toBe(expected.get(p))
      w.unmount(A)
      expect(await w.settled(A)).toBe(true)
      expect(isMounted(A.mnt)).toBe(false)
      expect(w.contractProblems(A)).toEqual([])
      expect(sharebox(["replay", A.gitdir]).code).toBe(0)
      expect(fs.readdirSync(state("staging"))).toEqual([])
    }, 240_000)
  }
})
