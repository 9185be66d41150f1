/**
 * Files removed while open (unlink, or a rename over them): POSIX keeps them alive for whoever
 * holds them open, nameless. The mount must too, and no trace of them may show, be journalled,
 * committed or synced: no `.fuse_hidden*` name (libfuse's way of keeping such files, which the
 * mount turns off with its `hard_remove` option).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, eventually, git, read, sharebox, statusValue, useWorld, write } from "./harness.js"

const hidden = (names: ReadonlyArray<string>) => names.filter((n) => n.includes(".fuse_hidden"))

describe("a file removed while it is open", () => {
  const w = useWorld("sharebox-unlinked")
  let A: HostDirs
  let B: HostDirs
  const at = (p: string) => path.join(A.mnt, p)

  beforeAll(() => {
    ;[A, B] = w.pair()
  }, 60_000)

  /** What shows anywhere: the mounts, A's log, and both hosts' committed trees. */
  const traces = (): Array<string> => {
    const listed = [...fs.readdirSync(A.mnt), ...fs.readdirSync(B.mnt)]
    const committed = [...git(A.gitdir, ["ls-files"]).stdout.split("\n"), ...git(B.gitdir, ["ls-files"]).stdout.split("\n")]
    const log = sharebox(["log", A.mnt]).stdout.split("\n")
    return [...hidden(listed), ...hidden(committed), ...hidden(log)]
  }

  const syncBoth = () => {
    for (const h of [A, B, A]) {
      const s = sharebox(["sync", h.mnt])
      expect(s.code, s.stderr).toBe(0)
    }
  }

  it("written, unlinked, written again: the writer keeps its bytes, fstat works, and nothing of it syncs", () => {
    const fd = fs.openSync(at("draft.txt"), "w+")
    fs.writeSync(fd, "hello")
    fs.unlinkSync(at("draft.txt"))
    expect(fs.existsSync(at("draft.txt"))).toBe(false)
    fs.writeSync(fd, " world")
    fs.fsyncSync(fd)
    const st = fs.fstatSync(fd)
    expect(st.size).toBe(11)
    expect(st.nlink).toBe(0)
    const back = Buffer.alloc(32)
    expect(back.toString("utf8", 0, fs.readSync(fd, back, 0, 32, 0))).toBe("hello world")
    fs.ftruncateSync(fd, 5)
    expect(fs.fstatSync(fd).size).toBe(5)
    syncBoth()
    expect(traces()).toEqual([])
    fs.closeSync(fd)
    syncBoth()
    expect(traces()).toEqual([])
    expect(fs.existsSync(path.join(B.mnt, "draft.txt"))).toBe(false)
  })

  it("read while unlinked, and while renamed over: the reader keeps the old bytes", async () => {
    write(at("kept.txt"), "old kept\n")
    write(at("over.txt"), "old over\n")
    syncBoth()
    const kept = fs.openSync(at("kept.txt"), "r")
    const over = fs.openSync(at("over.txt"), "r")
    fs.unlinkSync(at("kept.txt"))
    write(at("new.txt"), "the new one\n")
    fs.renameSync(at("new.txt"), at("over.txt"))
    syncBoth()
    const buf = Buffer.alloc(64)
    expect(buf.toString("utf8", 0, fs.readSync(kept, buf, 0, 64, 0))).toBe("old kept\n")
    expect(buf.toString("utf8", 0, fs.readSync(over, buf, 0, 64, 0))).toBe("old over\n")
    expect(fs.fstatSync(kept).size).toBe(9)
    expect(traces()).toEqual([])
    expect(read(path.join(B.mnt, "over.txt"))).toBe("the new one\n")
    expect(fs.existsSync(path.join(B.mnt, "kept.txt"))).toBe(false)
    fs.closeSync(kept)
    fs.closeSync(over)
    expect(await eventually(() => statusValue(A, "open files") === "0", 5_000, 20)).toBe(true)
    expect(traces()).toEqual([])
  })

  it("a folder whose last file was removed while open lists nothing, and is removed once the file is closed", async () => {
    fs.mkdirSync(at("tmpdir"))
    const fd = fs.openSync(at("tmpdir/scratch"), "w")
    fs.writeSync(fd, "scratch")
    fs.unlinkSync(at("tmpdir/scratch"))
    expect(fs.readdirSync(at("tmpdir"))).toEqual([])
    // libfuse could no longer name the open file: ENOTEMPTY, as in every libfuse file system
    expect(() => fs.rmdirSync(at("tmpdir"))).toThrow(/ENOTEMPTY/)
    fs.writeSync(fd, " more")
    expect(fs.fstatSync(fd).size).toBe(12)
    syncBoth()
    expect(traces()).toEqual([])
    fs.closeSync(fd)
    expect(await eventually(() => statusValue(A, "open files") === "0", 5_000, 20)).toBe(true)
    fs.rmdirSync(at("tmpdir"))
    syncBoth()
    expect(fs.existsSync(at("tmpdir"))).toBe(false)
    expect(fs.existsSync(path.join(B.mnt, "tmpdir"))).toBe(false)
    expect(traces()).toEqual([])
  })

  it("a folder holding a file removed while open cannot be renamed over until it is closed", () => {
    fs.mkdirSync(at("held"))
    fs.mkdirSync(at("other"))
    const fd = fs.openSync(at("held/f"), "w")
    fs.writeSync(fd, "held")
    fs.unlinkSync(at("held/f"))
    expect(() => fs.renameSync(at("other"), at("held"))).toThrow(/ENOTEMPTY/)
    fs.writeSync(fd, " on")
    expect(fs.fstatSync(fd).size).toBe(7)
    fs.closeSync(fd)
    fs.renameSync(at("other"), at("held"))
    expect(fs.readdirSync(at("held"))).toEqual([])
    syncBoth()
    expect(traces()).toEqual([])
  })

  it("names of libfuse's form are reserved: no file is made or renamed to one", () => {
    write(at("plain.txt"), "plain\n")
    expect(() => fs.writeFileSync(at(".fuse_hidden0000000a00000001"), "x")).toThrow(/EPERM/)
    expect(() => fs.renameSync(at("plain.txt"), at(".fuse_hidden0000000a00000002"))).toThrow(/EPERM/)
    expect(read(at("plain.txt"))).toBe("plain\n")
  })
})
