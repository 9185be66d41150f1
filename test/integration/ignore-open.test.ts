/**
 * `.shareboxignore` and files open for writing: a file that crosses between the shared tree and
 * this host's folder while a program writes it must not leave that program writing into a copy
 * that is then thrown away. A move the rules ask for waits for the last close; a rename across the
 * boundary of a file open for writing is refused with EXDEV (the caller copies, as across disks).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, read, sleep, useWorld } from "./harness.js"

const at = (h: HostDirs, p: string) => path.join(h.mnt, p)
const put = (h: HostDirs, p: string, s: string) => {
  fs.mkdirSync(path.dirname(at(h, p)), { recursive: true })
  fs.writeFileSync(at(h, p), s)
}
const localStore = (h: HostDirs, p: string) => path.join(h.gitdir, ".git", "sharebox", "local", p)
/** The rules hold for MOVE_QUIET_MS (src/fuse/crossing.ts) before shared paths move. */
const moved = () => sleep(4000)

/** Renames `from` to `to`; false when refused with EXDEV (anything else fails the test). */
const renameOrExdev = (from: string, to: string): boolean => {
  try {
    fs.renameSync(from, to)
    return true
  } catch (e: unknown) {
    expect((e as { code?: string }).code).toBe("EXDEV")
    return false
  }
}

describe(".shareboxignore: files open for writing across the boundary", () => {
  const w = useWorld("sharebox-ignore-open")
  let A: HostDirs

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
    put(A, ".shareboxignore", "*.swp\n*.tmp\n")
  })

  it("a shared file open for writing when a rule starts to ignore it keeps every write", async () => {
    put(A, "logs/app.log", "first\n")
    const fd = fs.openSync(at(A, "logs/app.log"), "a")
    fs.writeSync(fd, "second\n")
    put(A, ".shareboxignore", "*.swp\n*.tmp\n*.log\n")
    await moved()
    fs.writeSync(fd, "third\n")
    fs.closeSync(fd)
    await moved()
    expect(read(at(A, "logs/app.log"))).toBe("first\nsecond\nthird\n")
    expect(read(localStore(A, "logs/app.log"))).toBe("first\nsecond\nthird\n")
  })

  it("a file of this host's open for writing when its rule is removed keeps every write", async () => {
    const fd = fs.openSync(at(A, "x.tmp"), "w")
    fs.writeSync(fd, "one\n")
    // a file the binding created is taken in before the next request the daemon answers
    expect(fs.readdirSync(A.mnt)).toContain("x.tmp")
    expect(fs.existsSync(localStore(A, "x.tmp"))).toBe(true)
    put(A, ".shareboxignore", "*.swp\n*.log\n")
    await moved()
    fs.writeSync(fd, "two\n")
    fs.closeSync(fd)
    await moved()
    expect(read(at(A, "x.tmp"))).toBe("one\ntwo\n")
    expect(fs.existsSync(localStore(A, "x.tmp"))).toBe(false)
  })

  it("a rename across the boundary of a file open for writing loses no write", () => {
    put(A, "r.txt", "a\n")
    const fd = fs.openSync(at(A, "r.txt"), "a")
    fs.writeSync(fd, "b\n")
    const shared = renameOrExdev(at(A, "r.txt"), at(A, "r.swp"))
    fs.writeSync(fd, "c\n")
    fs.closeSync(fd)
    expect(read(at(A, shared ? "r.swp" : "r.txt"))).toBe("a\nb\nc\n")

    const fd2 = fs.openSync(at(A, "s.swp"), "w")
    fs.writeSync(fd2, "1\n")
    const here = renameOrExdev(at(A, "s.swp"), at(A, "s.txt"))
    fs.writeSync(fd2, "2\n")
    fs.closeSync(fd2)
    expect(read(at(A, here ? "s.txt" : "s.swp"))).toBe("1\n2\n")
  })

  it("rmdir of a shared folder that shows files of this host's is refused, as for any folder not empty", () => {
    put(A, "proj/a.swp", "kept here\n")
    expect(fs.readdirSync(at(A, "proj"))).toEqual(["a.swp"])
    expect(() => fs.rmdirSync(at(A, "proj"))).toThrow(/ENOTEMPTY/)
    expect(read(at(A, "proj/a.swp"))).toBe("kept here\n")
  })
})

/**
 * A shared path and a path of this host's of the same name: a peer without the rule yet (or a
 * plain git-annex peer) shared a name this host keeps here. The shared one shows; when a rule
 * change moves shared paths here, this host's own file must not be overwritten by it.
 */
describe(".shareboxignore: a shared path moving here where this host has its own", () => {
  const w = useWorld("sharebox-ignore-own")
  let A: HostDirs

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
    put(A, ".shareboxignore", "*.swp\n")
  })

  it("keeps this host's own file", async () => {
    put(A, "x.dat", "shared\n")
    put(A, "d/y.dat", "shared too\n")
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    // the state a peer's share of the same name leaves
    fs.mkdirSync(localStore(A, "d"), { recursive: true })
    fs.writeFileSync(localStore(A, "x.dat"), "A's own\n")
    fs.writeFileSync(localStore(A, "d/y.dat"), "A's own too\n")
    w.mount(A)
    put(A, ".shareboxignore", "*.swp\n*.dat\nd/\n")
    await moved()
    expect(read(localStore(A, "x.dat"))).toBe("A's own\n")
    expect(read(localStore(A, "d/y.dat"))).toBe("A's own too\n")
  })
})
