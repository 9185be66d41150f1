/**
 * New files closed in bursts (most of them created by the binding on the FUSE thread, then adopted
 * by the daemon): close(2) waits for the FLUSH, which the daemon answers once the write is in the
 * journal. A shell loop's files are all journalled and replayed with their content; a file
 * rewritten at once many times (its handle's slot reused) ends with its last content; a kill -9 or
 * an unmount right after a burst of closes loses nothing close(2) returned for; a file kept on this
 * host only (.shareboxignore) still works.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { type HostDirs, bindingCreates, createdByBinding, daemonPids, eventually, exec, execAsync, git, read, sharebox, statusValue, useWorld } from "./harness.js"

/** `python3 -c script` with ARG (JSON) on stdin; what it prints. */
const py = async (script: string, arg: unknown): Promise<string> => {
  const input = JSON.stringify(arg)
  const r = await execAsync("bash", ["-c", `python3 -c "$0" <<'ARG'\n${input}\nARG`, "import json, os, sys\nARG = json.loads(sys.stdin.read())\n" + script])
  if (r.code !== 0) throw new Error(`python3 failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

/** writes each [path, content] as a new file, one close after another */
const BURST = `
for p, c in ARG:
    fd = os.open(p, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    os.write(fd, c.encode())
    os.close(fd)
`

/** The paths of `files` whose content under `root` is not theirs. */
const wrongIn = (root: string, files: ReadonlyArray<readonly [string, string]>): Array<string> =>
  files
    .filter(([p, c]) => {
      try {
        return read(path.join(root, p)) !== c
      } catch {
        return true
      }
    })
    .map(([p]) => p)

describe("bursts of closes of new files", () => {
  const w = useWorld("sharebox-closes", 120_000)
  let A: HostDirs

  it("a shell loop's 2,000 files are all journalled (sharebox log) and replayed with their content", async () => {
    A = w.host("A")
    w.mount(A, "writeback=off")
    expect(await bindingCreates(A)).toBe(true)
    fs.mkdirSync(path.join(A.mnt, "loop"))
    const r = exec("bash", ["-c", 'cd "$0" && for i in $(seq 2000); do echo $i > f$i; done', path.join(A.mnt, "loop")])
    expect(r.code, r.stderr).toBe(0)
    const files = Array.from({ length: 2000 }, (_, i) => [`loop/f${i + 1}`, `${i + 1}\n`] as const)
    expect(wrongIn(A.mnt, files).slice(0, 10)).toEqual([])
    const log = sharebox(["log", "--json", A.mnt])
    expect(log.code, log.stderr).toBe(0)
    for (const [p] of [files[0]!, files[999]!, files[1999]!]) expect(log.stdout).toContain(p)
    const replay = sharebox(["replay", A.mnt])
    expect(replay.code, replay.stderr).toBe(0)
    const committed = new Set(git(A.gitdir, ["ls-files", "loop"]).stdout.split("\n").filter(Boolean))
    expect(files.filter(([p]) => !committed.has(p)).slice(0, 10)).toEqual([])
    expect(statusValue(A, "pending"), "nothing left in the journal").toBe("0")
    expect(statusValue(A, "open files"), "no session left open").toBe("0")
    expect(wrongIn(A.mnt, files).slice(0, 10)).toEqual([])
  }, 240_000)

  it("files created, written, closed and at once opened and written again (a file 300 times, 300 new files rewritten, 1,200 new files appended to by four processes) end with their last content", async () => {
    const script = `
def put(name, text, flags):
    fd = os.open(name, flags | os.O_TRUNC | os.O_WRONLY, 0o644)
    os.write(fd, text.encode())
    os.close(fd)
    with open(name) as f:
        got = f.read()
    if got != text:
        print("%s: %r, not %r" % (name, got, text))
        sys.exit(0)

def append(name, text, flags):
    fd = os.open(name, flags | os.O_WRONLY | os.O_APPEND, 0o644)
    os.write(fd, text.encode())
    os.close(fd)

again, anew, worker = ARG
for i in range(300):
    if worker == 0:
        put(again, "version %d\\n" % i, os.O_CREAT)
        put(anew + str(i), "new %d\\n" % i, os.O_CREAT | os.O_EXCL)
        put(anew + str(i), "rewritten %d\\n" % i, 0)
    # opened again the moment it is closed: nothing in between to take the release first
    name = "%s-w%d-%d" % (anew, worker, i)
    append(name, "first\\n", os.O_CREAT | os.O_EXCL)
    append(name, "second\\n", 0)
print("ok")
`
    const outs = await Promise.all([0, 1, 2, 3].map((k) => py(script, [path.join(A.mnt, "again.txt"), path.join(A.mnt, "anew"), k])))
    expect(outs.map((o) => o.trim())).toEqual(["ok", "ok", "ok", "ok"])
    const appended = [0, 1, 2, 3].flatMap((k) => Array.from({ length: 300 }, (_, i) => [`anew-w${k}-${i}`, "first\nsecond\n"] as const))
    expect(wrongIn(A.mnt, appended).slice(0, 10)).toEqual([])
    const replay = sharebox(["replay", A.mnt])
    expect(replay.code, replay.stderr).toBe(0)
    expect(read(path.join(A.mnt, "again.txt"))).toBe("version 299\n")
    const files = Array.from({ length: 300 }, (_, i) => [`anew${i}`, `rewritten ${i}\n`] as const)
    expect(wrongIn(A.mnt, files).slice(0, 10)).toEqual([])
    expect(wrongIn(A.mnt, appended).slice(0, 10)).toEqual([])
    expect(statusValue(A, "open files")).toBe("0")
  }, 120_000)

  it("a kill -9 of the daemon right after a burst of 500 closes loses none of them", async () => {
    const files = Array.from({ length: 500 }, (_, i) => [`killed/f${i}`, `killed ${i}\n`] as const)
    fs.mkdirSync(path.join(A.mnt, "killed"))
    // nothing read through the mount between the last close and the kill (a request takes the queue)
    await py(BURST, files.map(([p, c]) => [path.join(A.mnt, p), c]))
    const [pid] = daemonPids(A.gitdir)
    process.kill(pid!, "SIGKILL")
    expect(await eventually(() => daemonPids(A.gitdir).length === 0, 10_000, 20)).toBe(true)
    w.mount(A, "writeback=off")
    expect(wrongIn(A.mnt, files).slice(0, 10)).toEqual([])
    const replay = sharebox(["replay", A.mnt])
    expect(replay.code, replay.stderr).toBe(0)
    const committed = new Set(git(A.gitdir, ["ls-files", "killed"]).stdout.split("\n").filter(Boolean))
    expect(files.filter(([p]) => !committed.has(p)).slice(0, 10)).toEqual([])
  }, 120_000)

  it("an unmount right after a burst of 500 closes loses none of them, and leaves no staging file behind", async () => {
    // no probe here (bindingCreates): a file created and removed before a replay leaves its staging
    // file until the next mount's clean-up, with or without the binding
    const files = Array.from({ length: 500 }, (_, i) => [`unmounted/f${i}`, `unmounted ${i}\n`] as const)
    fs.mkdirSync(path.join(A.mnt, "unmounted"))
    await py(BURST, files.map(([p, c]) => [path.join(A.mnt, p), c]))
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    // writeback=off: the journal holds them; the command replays it
    expect(sharebox(["replay", A.gitdir]).code).toBe(0)
    const committed = new Set(git(A.gitdir, ["ls-files", "unmounted"]).stdout.split("\n").filter(Boolean))
    expect(files.filter(([p]) => !committed.has(p)).slice(0, 10)).toEqual([])
    expect(fs.readdirSync(path.join(A.gitdir, ".git", "sharebox", "staging"))).toEqual([])
    w.mount(A, "writeback=off")
    expect(wrongIn(A.mnt, files).slice(0, 10)).toEqual([])
  }, 120_000)

  it("a file kept on this host only (.shareboxignore), created by the binding and closed, is written, read and rewritten as on a plain folder", async () => {
    expect(await bindingCreates(A)).toBe(true)
    fs.writeFileSync(path.join(A.mnt, ".shareboxignore"), "*.tmp\n")
    const created = createdByBinding(A)
    const out = await py(
      `
p = ARG
for i in range(50):
    fd = os.open(p + str(i % 5) + ".tmp", os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    os.write(fd, ("local %d\\n" % i).encode())
    os.close(fd)
print(json.dumps([open(p + str(k) + ".tmp").read() for k in range(5)]))
`,
      path.join(A.mnt, "kept")
    )
    expect(JSON.parse(out)).toEqual(["local 45\n", "local 46\n", "local 47\n", "local 48\n", "local 49\n"])
    expect(createdByBinding(A) - created, "created by the binding").toBeGreaterThanOrEqual(5)
    for (let k = 0; k < 5; k++) expect(read(path.join(A.gitdir, ".git", "sharebox", "local", `kept${k}.tmp`))).toBe(`local ${45 + k}\n`)
    const replay = sharebox(["replay", A.mnt])
    expect(replay.code, replay.stderr).toBe(0)
    expect(git(A.gitdir, ["ls-files"]).stdout).not.toMatch(/kept\d\.tmp/)
    expect(statusValue(A, "ignored")).toBe("5")
  }, 120_000)
})
