/**
 * Lookups of names that do not exist are answered by the FUSE binding itself, from a table of the
 * view's names the daemon keeps there (packages/fuse-native/src/names.c, src/fuse/mount.ts): every new
 * file starts with such a lookup. These tests hold the table to its one promise: a name that exists
 * is always found, however it came to exist, the moment it does.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, eventually, read, sharebox } from "./harness.js"

const missing = (p: string | Buffer): boolean => {
  try {
    fs.lstatSync(p)
    return false
  } catch (e: any) {
    if (e.code !== "ENOENT") throw e
    return true
  }
}

describe("lookups answered by the binding", () => {
  const w = new World("sharebox-lookups")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    ;[A, B] = w.pair()
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("a name is found the moment it is made, whichever way it is made; a removed one is not", () => {
    const at = (p: string) => path.join(A.mnt, p)
    expect(missing(at("made/deep/er"))).toBe(true)
    fs.mkdirSync(at("made/deep/er"), { recursive: true })
    expect(fs.statSync(at("made/deep/er")).isDirectory()).toBe(true)
    for (let i = 0; i < 200; i++) {
      const f = at(`made/deep/er/f${i}.txt`)
      expect(missing(f)).toBe(true)
      fs.writeFileSync(f, `${i}\n`)
      expect(fs.statSync(f).size).toBe(`${i}\n`.length)
    }
    fs.symlinkSync("deep/er/f1.txt", at("made/link"))
    expect(fs.lstatSync(at("made/link")).isSymbolicLink()).toBe(true)
    expect(read(at("made/link"))).toBe("1\n")
    fs.closeSync(fs.openSync(at("made/touched"), "w"))
    expect(fs.statSync(at("made/touched")).size).toBe(0)

    fs.renameSync(at("made/deep"), at("made/moved"))
    expect(missing(at("made/deep/er/f7.txt"))).toBe(true)
    expect(read(at("made/moved/er/f7.txt"))).toBe("7\n")
    fs.renameSync(at("made/moved/er/f7.txt"), at("made/seven.txt"))
    expect(read(at("made/seven.txt"))).toBe("7\n")

    fs.unlinkSync(at("made/seven.txt"))
    expect(missing(at("made/seven.txt"))).toBe(true)
    fs.writeFileSync(at("made/seven.txt"), "again\n")
    expect(read(at("made/seven.txt"))).toBe("again\n")
  })

  it("names in the virtual folder, names that are not UTF-8 and names in other scripts are found", () => {
    expect(fs.statSync(path.join(A.mnt, ".sharebox", "status")).isFile()).toBe(true)
    expect(missing(path.join(A.mnt, ".sharebox", "no-such-thing"))).toBe(true)
    const latin1 = Buffer.concat([Buffer.from(`${A.mnt}/caf`), Buffer.from([0xe9]), Buffer.from(".txt")])
    fs.writeFileSync(latin1, "latin-1\n")
    expect(fs.readFileSync(latin1, "utf8")).toBe("latin-1\n")
    const other = path.join(A.mnt, "日本語 ファイル.txt")
    expect(missing(other)).toBe(true)
    fs.writeFileSync(other, "utf-8\n")
    expect(read(other)).toBe("utf-8\n")
  })

  it("names a peer made are found once a sync or the peer's push brings them, and so are those after a remount", async () => {
    fs.mkdirSync(path.join(B.mnt, "from-b"))
    fs.writeFileSync(path.join(B.mnt, "from-b", "pushed.txt"), "pushed\n")
    expect(missing(path.join(A.mnt, "from-b", "pushed.txt"))).toBe(true)
    const b = w.sync(B) // pushes into A's gitdir, and A's daemon merges the push
    expect(b.code, b.stderr).toBe(0)
    expect(await eventually(() => !missing(path.join(A.mnt, "from-b", "pushed.txt")))).toBe(true)
    expect(read(path.join(A.mnt, "from-b", "pushed.txt"))).toBe("pushed\n")

    fs.writeFileSync(path.join(B.mnt, "from-b", "fetched.txt"), "fetched\n")
    expect(sharebox(["replay", B.mnt]).code).toBe(0) // committed on B, not pushed
    expect(missing(path.join(A.mnt, "from-b", "fetched.txt"))).toBe(true)
    const a = w.sync(A) // fetches B's branch and merges it
    expect(a.code, a.stderr).toBe(0)
    expect(read(path.join(A.mnt, "from-b", "fetched.txt"))).toBe("fetched\n")

    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    w.mount(A)
    expect(read(path.join(A.mnt, "made", "moved", "er", "f3.txt"))).toBe("3\n")
    expect(read(path.join(A.mnt, "from-b", "fetched.txt"))).toBe("fetched\n")
    expect(missing(path.join(A.mnt, "made", "deep"))).toBe(true)
  }, 60_000)
})
