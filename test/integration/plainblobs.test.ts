/**
 * Files a plain git-annex peer keeps in git itself (not annexed: `annex.largefiles`, small files,
 * a plain `git add`) read back byte for byte: through the mount, from `.sharebox/history`, and
 * after `sharebox restore`. They were once decoded as latin1 and written back as UTF-8, so binary
 * files and any non-ASCII text came out with other bytes, and an edit saved the damage for good.
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, eventually, exec, execAsync, plainPeer, sharebox, useWorld, write } from "./harness.js"

const sha = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex")

describe("files a plain git-annex peer keeps in git", () => {
  const w = useWorld("sharebox-plainblobs")
  let A: HostDirs
  let P: string
  const binary = randomBytes(1024)
  // every byte value, so any decoding round trip shows
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  const text = Buffer.from("héllo wörld ✓ 日本語\n", "utf8")

  const pgit = (...args: Array<string>) => {
    const r = exec("git", ["-C", P, ...args])
    expect(r.code, `git ${args.join(" ")} in the plain peer: ${r.stderr}`).toBe(0)
    return r
  }

  beforeAll(async () => {
    A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "seed.txt"), "seed\n")
    expect(sharebox(["sync", A.mnt]).code).toBe(0)
    P = plainPeer(path.join(w.root, "plain"), "plain", { clone: A.gitdir })
    fs.writeFileSync(path.join(P, "binary.dat"), binary)
    fs.writeFileSync(path.join(P, "allbytes.bin"), allBytes)
    fs.writeFileSync(path.join(P, "utf8.txt"), text)
    pgit("-c", "annex.largefiles=nothing", "add", "binary.dat", "allbytes.bin", "utf8.txt")
    pgit("commit", "-q", "-m", "non-annexed files")
    // really in git, not annexed: the blobs hold the bytes themselves
    expect(exec("git", ["-C", P, "cat-file", "-s", "HEAD:binary.dat"]).stdout.trim()).toBe("1024")
    const r = await execAsync("git", ["-C", P, "annex", "sync", "--no-content"])
    expect(r.code, r.stderr).toBe(0)
    // the daemon merges the push on its own (the watcher); under CI's parallel load (the lock test's
    // racing processes beside it) it once took longer than 15 s here, so the bound is generous
    expect(await eventually(() => fs.existsSync(path.join(A.mnt, "utf8.txt")), 45_000)).toBe(true)
  }, 90_000)

  it("read through the mount, byte for byte", () => {
    expect(sha(fs.readFileSync(path.join(A.mnt, "binary.dat")))).toBe(sha(binary))
    expect(sha(fs.readFileSync(path.join(A.mnt, "allbytes.bin")))).toBe(sha(allBytes))
    expect(fs.readFileSync(path.join(A.mnt, "utf8.txt"))).toEqual(text)
    expect(fs.statSync(path.join(A.mnt, "binary.dat")).size).toBe(1024)
  })

  it("read from .sharebox/history, byte for byte", () => {
    for (const [name, bytes] of [["binary.dat", binary], ["utf8.txt", text]] as const) {
      const dir = path.join(A.mnt, ".sharebox", "history", name)
      const versions = fs.readdirSync(dir)
      expect(versions).toHaveLength(1)
      expect(sha(fs.readFileSync(path.join(dir, versions[0]!)))).toBe(sha(bytes))
    }
  })

  it("an edit through the mount keeps the bytes it did not change", () => {
    fs.appendFileSync(path.join(A.mnt, "utf8.txt"), "more\n")
    expect(fs.readFileSync(path.join(A.mnt, "utf8.txt"))).toEqual(Buffer.concat([text, Buffer.from("more\n")]))
  })

  it("sharebox restore brings a deleted one back byte for byte, and the peer gets the same bytes", async () => {
    fs.rmSync(path.join(A.mnt, "binary.dat"))
    const r = sharebox(["restore", path.join(A.mnt, "binary.dat")])
    expect(r.code, r.stderr).toBe(0)
    expect(sha(fs.readFileSync(path.join(A.mnt, "binary.dat")))).toBe(sha(binary))
    expect(sharebox(["sync", A.mnt]).code).toBe(0)
    const pull = await execAsync("git", ["-C", P, "annex", "sync"])
    expect(pull.code, pull.stderr).toBe(0)
    pgit("annex", "get", "--quiet", ".")
    expect(sha(fs.readFileSync(path.join(P, "binary.dat")))).toBe(sha(binary))
  })
})
