/**
 * Faults of the processes sharebox drives: a git or git-annex child killed with SIGKILL in the
 * middle of its work (a fetch, a read-tree, a get), and the daemon told to stop (SIGTERM) while
 * files are being written. Afterwards nothing acknowledged is lost, the next sync or open works,
 * and the gitdir passes `git annex fsck` with a clean `git status` (checked at cleanup).
 *
 * The children are killed for real, mid-way: the daemon runs with a `git` first on its PATH that
 * runs the real git under `timeout -s KILL`, for the first command of a kind the test arms. timeout
 * kills its whole process group, so git-annex and its copies die with the git that started them.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, daemonPids, eventually, exec, git, read, sharebox, sleep, write } from "./harness.js"

const ok = (r: { code: number; stderr: string }, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0)

const REAL_GIT = exec("bash", ["-c", "command -v git"]).stdout.trim()

/** A `git` that kills the first command of each armed kind after the armed delay (seconds). */
const killerGit = (dir: string): { bin: string; arm: (kind: string, seconds: number) => void; armed: (kind: string) => boolean } => {
  const bin = path.join(dir, "bin")
  const arms = path.join(dir, "arms")
  fs.mkdirSync(bin, { recursive: true })
  fs.mkdirSync(arms, { recursive: true })
  fs.writeFileSync(
    path.join(bin, "git"),
    `#!/bin/bash
for a in "$@"; do
  case "$a" in read-tree|fetch|get|fast-import) kind=$a; break ;; esac
done
if [ -n "$kind" ] && mv "${arms}/$kind" "${arms}/$kind.taken" 2>/dev/null; then
  exec timeout -s KILL "$(cat "${arms}/$kind.taken")" "${REAL_GIT}" "$@"
fi
exec "${REAL_GIT}" "$@"
`,
    { mode: 0o755 }
  )
  return {
    bin,
    arm: (kind, seconds) => fs.writeFileSync(path.join(arms, kind), String(seconds)),
    armed: (kind) => fs.existsSync(path.join(arms, kind))
  }
}

describe("git and git-annex children killed mid-way", () => {
  let w: World
  let A: HostDirs
  let B: HostDirs
  let killer: ReturnType<typeof killerGit>
  const big = randomBytes(8 * 1024 * 1024)

  beforeAll(() => {
    w = new World("sharebox-faults")
    killer = killerGit(path.join(w.root, "killer"))
    A = w.host("A")
    B = w.host("B")
    const env = { PATH: `${killer.bin}:${process.env.PATH}` }
    ok(sharebox([A.mnt, "-o", `gitdir=${A.gitdir},name=A`], { env }), "mount A")
    w.mount(B)
    // enough files that read-tree and fetch take longer than the delays below (B's sync, before
    // the hosts know each other, pushes none of it to A: A's first fetch brings it all)
    fs.mkdirSync(path.join(B.mnt, "many"))
    for (let i = 0; i < 2000; i++) fs.writeFileSync(path.join(B.mnt, "many", `f${i}.txt`), `file ${i}\n`)
    write(path.join(B.mnt, "big.bin"), "")
    fs.writeFileSync(path.join(B.mnt, "big.bin"), big)
    ok(w.sync(B), "sync B")
    w.connectAll()
  }, 180_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 120_000)

  it("a fetch killed mid-way: the peer is reported, and the next sync brings everything", () => {
    killer.arm("fetch", 0.01)
    const first = w.sync(A)
    expect(killer.armed("fetch")).toBe(false)
    expect(first.code, `${first.stderr}\n${first.stdout}`).not.toBe(0)
    ok(w.sync(A), "second sync")
    expect(fs.readdirSync(path.join(A.mnt, "many"))).toHaveLength(2000)
  }, 120_000)

  it("a read-tree killed mid-way: the work tree catches up, the view is whole", async () => {
    for (let i = 0; i < 2000; i++) fs.writeFileSync(path.join(B.mnt, "many", `g${i}.txt`), `more ${i}\n`)
    ok(w.sync(B), "sync B")
    killer.arm("read-tree", 0.01)
    const r = w.sync(A)
    expect(killer.armed("read-tree")).toBe(false)
    expect(r.code, r.stderr).toBe(0)
    expect(fs.readdirSync(path.join(A.mnt, "many"))).toHaveLength(4000)
    // the gitdir's index and work tree follow (checked again by the contracts at cleanup)
    expect(await eventually(() => git(A.gitdir, ["status", "--porcelain"]).stdout.trim() === "", 30_000, 500), git(A.gitdir, ["status", "--porcelain"]).stdout.slice(0, 500)).toBe(true)
  }, 120_000)

  it("a git annex get killed mid-way: that open fails with EIO, the next one reads the whole file", () => {
    killer.arm("get", 0.05)
    const file = path.join(A.mnt, "big.bin")
    let failed = false
    try {
      fs.readFileSync(file)
    } catch (e: any) {
      failed = true
      expect(e.code).toBe("EIO")
    }
    expect(killer.armed("get")).toBe(false)
    expect(failed).toBe(true)
    expect(fs.readFileSync(file).equals(big)).toBe(true)
  }, 120_000)
})

describe("SIGTERM while files are being written", () => {
  let w: World
  let A: HostDirs

  beforeAll(() => {
    w = new World("sharebox-sigterm")
    A = w.host("A")
    w.mount(A)
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("every file whose close returned is there after the next mount", async () => {
    // a writer that reports each file once its close() returned
    const script = `
      const fs = require("fs"), path = require("path")
      for (let i = 0; i < 100000; i++) {
        const f = path.join(process.argv[1], "w" + i + ".txt")
        try { fs.writeFileSync(f, "content " + i + "\\n".repeat(1 + (i % 50))) } catch { process.exit(0) }
        process.stdout.write(i + "\\n")
      }`
    // into a folder of the mount: once it is unmounted, opens fail instead of landing underneath
    fs.mkdirSync(path.join(A.mnt, "sub"))
    const writer = spawn(process.execPath, ["-e", script, path.join(A.mnt, "sub")], { stdio: ["ignore", "pipe", "ignore"] })
    let out = ""
    writer.stdout.on("data", (d) => (out += d))
    await eventually(() => out.split("\n").length > 300, 20_000, 20)
    const [pid] = daemonPids(A.gitdir)
    expect(pid).toBeDefined()
    process.kill(pid!, "SIGTERM")
    await new Promise((r) => writer.on("close", r))
    expect(await w.settled(A, 30_000)).toBe(true)
    const done = out.split("\n").filter(Boolean).map(Number)
    expect(done.length).toBeGreaterThan(300)
    w.mount(A)
    for (const i of done) expect(read(path.join(A.mnt, "sub", `w${i}.txt`))).toBe(`content ${i}` + "\n".repeat(1 + (i % 50)))
    await sleep(10)
  }, 120_000)
})
