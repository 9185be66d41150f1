/**
 * Reads and writes of open files are served by the FUSE threads themselves (the binding's fast
 * path, packages/fuse-native/src/fastpath.c), not by the daemon's JavaScript handlers. These tests hold the
 * daemon to what it must still know about such writes: the size while the file is open, the
 * version at close, truncation and times set on an open file, several descriptors on one file.
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, git, sharebox } from "./harness.js"

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex")
const MiB = 1 << 20

describe("reads and writes of open files", () => {
  const w = new World("sharebox-io")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    ;[A, B] = w.pair(["writeback=off"])
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("a file being written shows its growing size to stat, and its content to another reader, before close", () => {
    const file = path.join(A.mnt, "growing.bin")
    const data = randomBytes(3 * MiB + 12345)
    const fd = fs.openSync(file, "w")
    try {
      fs.writeSync(fd, data, 0, MiB, 0)
      expect(fs.statSync(file).size).toBe(MiB)
      fs.writeSync(fd, data, MiB, data.length - MiB, MiB)
      expect(fs.statSync(file).size).toBe(data.length)
      expect(sha(fs.readFileSync(file))).toBe(sha(data))
    } finally {
      fs.closeSync(fd)
    }
    expect(fs.statSync(file).size).toBe(data.length)
    expect(sha(fs.readFileSync(file))).toBe(sha(data))
  })

  it("a closed file reaches history with its full content, and a peer reads the same bytes", () => {
    const data = randomBytes(5 * MiB + 1)
    fs.writeFileSync(path.join(A.mnt, "big.bin"), data)
    expect(sharebox(["replay", A.mnt]).code).toBe(0)
    const key = git(A.gitdir, ["annex", "lookupkey", "big.bin"]).stdout.trim()
    expect(key).toBe(`SHA256E-s${data.length}--${sha(data)}.bin`)
    const s = w.sync(B)
    expect(s.code, s.stderr).toBe(0)
    expect(fs.statSync(path.join(B.mnt, "big.bin")).size).toBe(data.length)
    expect(sha(fs.readFileSync(path.join(B.mnt, "big.bin")))).toBe(sha(data))
  })

  it("a write in the middle of an existing file changes only those bytes, and the old version stays in history", () => {
    const file = path.join(A.mnt, "patched.bin")
    const before = randomBytes(2 * MiB)
    fs.writeFileSync(file, before)
    expect(sharebox(["replay", A.mnt]).code).toBe(0)
    const patch = randomBytes(200_000)
    const fd = fs.openSync(file, "r+")
    fs.writeSync(fd, patch, 0, patch.length, 700_000)
    fs.closeSync(fd)
    const after = Buffer.from(before)
    patch.copy(after, 700_000)
    expect(fs.statSync(file).size).toBe(before.length)
    expect(sha(fs.readFileSync(file))).toBe(sha(after))
    expect(sharebox(["replay", A.mnt]).code).toBe(0)
    const versions = sharebox(["versions", "--json", file])
    expect(versions.code, versions.stderr).toBe(0)
    const keys = versions.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l).key as string)
    expect(keys).toContain(`SHA256E-s${before.length}--${sha(before)}.bin`)
    expect(keys).toContain(`SHA256E-s${after.length}--${sha(after)}.bin`)
  })

  it("a write past the end leaves a hole of zeros", () => {
    const file = path.join(A.mnt, "sparse.bin")
    const fd = fs.openSync(file, "w")
    fs.writeSync(fd, Buffer.from("end"), 0, 3, 4 * MiB)
    expect(fs.fstatSync(fd).size).toBe(4 * MiB + 3)
    fs.closeSync(fd)
    const got = fs.readFileSync(file)
    expect(got.length).toBe(4 * MiB + 3)
    expect(got.subarray(0, 4 * MiB).every((b) => b === 0)).toBe(true)
    expect(got.subarray(4 * MiB).toString()).toBe("end")
  })

  it("ftruncate after writes on the same descriptor gives the truncated size, not the furthest write", () => {
    const file = path.join(A.mnt, "cut.bin")
    const data = randomBytes(MiB)
    const fd = fs.openSync(file, "w")
    fs.writeSync(fd, data, 0, data.length, 0)
    fs.ftruncateSync(fd, 1000)
    fs.closeSync(fd)
    expect(fs.statSync(file).size).toBe(1000)
    expect(sha(fs.readFileSync(file))).toBe(sha(data.subarray(0, 1000)))
    expect(sharebox(["replay", A.mnt]).code).toBe(0)
    expect(git(A.gitdir, ["annex", "lookupkey", "cut.bin"]).stdout.trim()).toBe(`SHA256E-s1000--${sha(data.subarray(0, 1000))}.bin`)
  })

  it("a modification time set on an open file after its writes is the one kept", () => {
    const file = path.join(A.mnt, "dated.txt")
    const fd = fs.openSync(file, "w")
    fs.writeSync(fd, "dated\n")
    const when = new Date("2020-02-02T02:02:02.000Z")
    fs.futimesSync(fd, when, when)
    expect(fs.statSync(file).mtimeMs).toBe(when.getTime())
    fs.closeSync(fd)
    expect(fs.statSync(file).mtimeMs).toBe(when.getTime())
  })

  it("two descriptors on one file see each other's writes, and their closes make one version", () => {
    const file = path.join(A.mnt, "shared.txt")
    const w1 = fs.openSync(file, "w")
    const w2 = fs.openSync(file, "r+")
    fs.writeSync(w1, "first half|", 0)
    fs.writeSync(w2, "second half", 11)
    const buf = Buffer.alloc(64)
    const n = fs.readSync(w2, buf, 0, 64, 0)
    expect(buf.subarray(0, n).toString()).toBe("first half|second half")
    fs.closeSync(w1)
    fs.closeSync(w2)
    expect(fs.readFileSync(file, "utf8")).toBe("first half|second half")
    expect(sharebox(["replay", A.mnt]).code).toBe(0)
    const versions = sharebox(["versions", "--json", file])
    expect(versions.stdout.split("\n").filter(Boolean)).toHaveLength(1)
  })

  it("thousands of opens and closes in a row keep working (handle numbers are reused)", () => {
    const file = path.join(A.mnt, "reopened.txt")
    fs.writeFileSync(file, "x")
    for (let i = 0; i < 3000; i++) {
      const fd = fs.openSync(file, i % 2 ? "r" : "r+")
      fs.closeSync(fd)
    }
    fs.appendFileSync(file, "y")
    expect(fs.readFileSync(file, "utf8")).toBe("xy")
  })

  it("stats of hundreds of files at once, content absent and then known absent: each gets its own size", async () => {
    // the binding fills reused stat arrays (packages/fuse-native/index.js): every answer must be whole.
    // On B the content is absent: the first round's getattrs wait for presence checks, the second
    // round's are answered at once
    const dir = path.join(A.mnt, "many-sizes")
    fs.mkdirSync(dir)
    const n = 600
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dir, `f${i}`), Buffer.alloc(i + 1, 97))
    expect(sharebox(["replay", A.mnt]).code).toBe(0)
    const s = w.sync(B)
    expect(s.code, s.stderr).toBe(0)
    for (let round = 0; round < 2; round++) {
      const stats = await Promise.all(Array.from({ length: n }, (_, i) => fs.promises.stat(path.join(B.mnt, "many-sizes", `f${i}`))))
      expect(stats.map((st) => st.size)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
    }
  }, 60_000)
})
