/**
 * A pending write whose staging file is gone (removed by hand, lost to a disk fault): replay drops
 * that write, says so once by path, and replays everything else; the file is then as if that write
 * never happened (its committed version, or nothing). Every later replay and sync is clean.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, git, read, sharebox, write } from "./harness.js"

const stateOf = (h: HostDirs, f: string) => path.join(h.gitdir, ".git", "sharebox", f)

/** path -> staging id of the pending write events in the journal */
const stagedIds = (h: HostDirs): Map<string, string> => {
  const out = new Map<string, string>()
  for (const line of read(stateOf(h, "journal")).split("\n")) {
    if (!line) continue
    const e = JSON.parse(line.split("\t")[0]!)
    if (e.op === "write" && e.content?.kind === "staged") out.set(e.path, e.content.id)
  }
  return out
}

const linesNaming = (text: string, name: string): Array<string> => text.split("\n").filter((l) => l.includes(name))

const shown = (h: HostDirs, p: string): string | undefined => {
  try {
    return read(path.join(h.mnt, p))
  } catch {
    return undefined
  }
}

describe("a pending write whose staging file is gone", () => {
  const w = new World("sharebox-lost")
  let A: HostDirs

  beforeAll(() => {
    A = w.host("A")
    w.mount(A, "writeback=off")
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("sync commits the other writes, names the lost ones once, and the files are as before those writes", () => {
    write(path.join(A.mnt, "edited.txt"), "committed version\n")
    expect(w.sync(A).code).toBe(0)
    write(path.join(A.mnt, "one.txt"), "one\n")
    write(path.join(A.mnt, "edited.txt"), "edit whose content is lost\n")
    write(path.join(A.mnt, "two.txt"), "two\n")
    write(path.join(A.mnt, "gone.txt"), "new file whose content is lost\n")
    const ids = stagedIds(A)
    for (const p of ["edited.txt", "gone.txt"]) fs.rmSync(stateOf(A, path.join("staging", ids.get(p)!)))
    const logBefore = read(stateOf(A, "daemon.log"))

    const s = w.sync(A)
    expect(s.code, s.stderr).toBe(0)
    for (const p of ["edited.txt", "gone.txt"]) {
      expect(linesNaming(s.stderr, p), s.stderr).toHaveLength(1)
      expect(linesNaming(read(stateOf(A, "daemon.log")).slice(logBefore.length), p)).toHaveLength(1)
    }
    expect(linesNaming(s.stderr, "edited.txt")[0]).toMatch(/lost/)
    expect(s.stderr).not.toMatch(/^\s+at /m)

    const files = git(A.gitdir, ["ls-files"]).stdout.split("\n")
    expect(files).toEqual(expect.arrayContaining(["one.txt", "two.txt", "edited.txt"]))
    expect(files).not.toContain("gone.txt")
    expect(shown(A, "one.txt")).toBe("one\n")
    expect(shown(A, "two.txt")).toBe("two\n")
    expect(shown(A, "edited.txt")).toBe("committed version\n")
    expect(shown(A, "gone.txt")).toBeUndefined()
    expect(git(A.gitdir, ["show", "HEAD:edited.txt"]).code).toBe(0)

    // nothing pending, and nothing said again
    const again = w.sync(A)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toBe("")
    const log = sharebox(["log", "--json", A.mnt])
    expect(log.stdout.split("\n").filter((l) => l.includes('"journal"'))).toEqual([])
    expect(w.contractProblems(A)).toEqual([])
  })

  it("the same through `sharebox replay` of a gitdir no daemon serves", async () => {
    write(path.join(A.mnt, "three.txt"), "three\n")
    write(path.join(A.mnt, "lost-too.txt"), "lost too\n")
    const id = stagedIds(A).get("lost-too.txt")!
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    fs.rmSync(stateOf(A, path.join("staging", id)))
    const r = sharebox(["replay", A.gitdir])
    expect(r.code, r.stderr).toBe(0)
    expect(linesNaming(r.stderr, "lost-too.txt"), r.stderr).toHaveLength(1)
    expect(git(A.gitdir, ["ls-files"]).stdout.split("\n")).toContain("three.txt")
    const again = sharebox(["replay", A.gitdir])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toBe("")
    expect(w.contractProblems(A)).toEqual([])
    w.mount(A, "writeback=off")
    expect(shown(A, "three.txt")).toBe("three\n")
    expect(shown(A, "lost-too.txt")).toBeUndefined()
  })
})
