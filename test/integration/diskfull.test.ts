/**
 * A full disk under the gitdir (a real, small tmpfs): the writer whose data does not fit gets
 * ENOSPC, nothing else is damaged, and once space returns every close that returned success is
 * there, replays and syncs work, and the repository contracts hold.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, exec, git, sharebox } from "./harness.js"

const ok = (r: { code: number; stderr: string }, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0)
const MiB = 1024 * 1024

/** Writes `data` to `file`; returns the errno code it failed with, or undefined. */
const tryWrite = (file: string, data: Buffer, flag = "w"): string | undefined => {
  try {
    fs.writeFileSync(file, data, { flag })
    return undefined
  } catch (e: any) {
    return e.code
  }
}

const root = process.getuid?.() === 0

describe.runIf(root)("a full disk under the gitdir", () => {
  let w: World
  let A: HostDirs
  let disk: string
  const first = randomBytes(24 * MiB)
  const small = Array.from({ length: 20 }, (_, i) => randomBytes(1000 + i))

  beforeAll(() => {
    w = new World("sharebox-diskfull")
    disk = path.join(w.root, "disk")
    fs.mkdirSync(disk)
    ok(exec("mount", ["-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", disk]), "mount tmpfs")
    A = { name: "A", gitdir: path.join(disk, "git"), mnt: path.join(w.root, "mnt") }
    fs.mkdirSync(A.gitdir)
    fs.mkdirSync(A.mnt)
    // whatever else lives on that disk: deleting it is how space comes back
    fs.writeFileSync(path.join(disk, "filler"), Buffer.alloc(12 * MiB))
    w.hosts.push(A)
    w.mount(A, "writeback=off")
  }, 60_000)

  afterAll(async () => {
    w.unmount(A)
    await w.settled(A)
    const problems = w.contractProblems(A)
    exec("umount", ["-l", disk])
    problems.push(...(await w.cleanup()))
    expect(problems).toEqual([])
  }, 60_000)

  it("the writer that does not fit gets ENOSPC; what was closed before stays whole", () => {
    expect(tryWrite(path.join(A.mnt, "first.bin"), first)).toBeUndefined()
    small.forEach((b, i) => expect(tryWrite(path.join(A.mnt, `small${i}.txt`), b)).toBeUndefined())
    // the rest of the disk and more
    expect(tryWrite(path.join(A.mnt, "toobig.bin"), randomBytes(48 * MiB))).toBe("ENOSPC")
    expect(fs.readFileSync(path.join(A.mnt, "first.bin")).equals(first)).toBe(true)
    small.forEach((b, i) => expect(fs.readFileSync(path.join(A.mnt, `small${i}.txt`)).equals(b)).toBe(true))
  })

  it("an edit that needs a copy of a file the disk cannot hold fails with ENOSPC, and the file is unchanged", () => {
    // the copy-on-write copy of first.bin (24 MiB) does not fit beside what toobig.bin left
    expect(tryWrite(path.join(A.mnt, "first.bin"), Buffer.from("more"), "a")).toBe("ENOSPC")
    expect(fs.readFileSync(path.join(A.mnt, "first.bin")).equals(first)).toBe(true)
  })

  it("once space returns, every closed file replays and stays, and the gitdir is sound", () => {
    fs.rmSync(path.join(disk, "filler"))
    if (fs.existsSync(path.join(A.mnt, "toobig.bin"))) fs.rmSync(path.join(A.mnt, "toobig.bin"))
    ok(sharebox(["replay", A.mnt]), "replay")
    expect(fs.readFileSync(path.join(A.mnt, "first.bin")).equals(first)).toBe(true)
    small.forEach((b, i) => expect(fs.readFileSync(path.join(A.mnt, `small${i}.txt`)).equals(b)).toBe(true))
    expect(git(A.gitdir, ["ls-tree", "--name-only", "main"]).stdout).toContain("small19.txt")
    expect(git(A.gitdir, ["ls-tree", "--name-only", "main"]).stdout).not.toContain("toobig.bin")
  })
})
