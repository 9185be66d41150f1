/**
 * The long-lived `git cat-file` reader (src/effects/catfile.ts) on a real repository: answers in
 * the order asked across calls, objects that are not there, a blob bigger than any pipe buffer
 * read and streamed byte for byte, refs that move after it started, a process killed in the middle
 * of an answer (started again, asked again), idling and close() leaving no process behind.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { CatFile } from "../../src/effects/catfile.js"
import { Git } from "../../src/effects/git.js"
import { gitEnv } from "../../src/effects/gitenv.js"
import { exec } from "./harness.js"

const ok = (r: { code: number; stderr: string }, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0)
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("the long-lived cat-file reader", () => {
  let root: string
  let repo: string
  const small: Array<{ oid: string; text: string }> = []
  let big: Buffer
  let bigOid: string
  /** the pids of this repository's cat-file --batch-command processes */
  const readers = () =>
    exec("pgrep", ["-f", `${repo} cat-file --batch-command`])
      .stdout.split("\n")
      .filter(Boolean)

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "sharebox-catfile-"))
    repo = path.join(root, "repo")
    ok(exec("git", ["init", "-q", "-b", "main", repo]), "init")
    for (const [k, v] of [["user.name", "t"], ["user.email", "t@t"]]) ok(exec("git", ["-C", repo, "config", k!, v!]), "config")
    for (let i = 0; i < 300; i++) {
      const text = `small ${i}\n${"y".repeat(i)}`
      fs.writeFileSync(path.join(repo, `s${i}`), text)
      small.push({ oid: "", text })
    }
    big = crypto.randomBytes(3 * 1024 * 1024 + 17)
    fs.writeFileSync(path.join(repo, "big"), big)
    ok(exec("git", ["-C", repo, "add", "."]), "add")
    ok(exec("git", ["-C", repo, "commit", "-q", "-m", "one"]), "commit")
    small.forEach((s, i) => (s.oid = exec("git", ["-C", repo, "rev-parse", `HEAD:s${i}`]).stdout.trim()))
    bigOid = exec("git", ["-C", repo, "rev-parse", "HEAD:big"]).stdout.trim()
  }, 60_000)

  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true })
  })

  it("answers calls made at once each in its own order, with undefined for what is not there", async () => {
    const cat = new CatFile(repo, () => gitEnv())
    const missing = "0".repeat(40)
    const calls = [0, 1, 2, 3].map((c) => {
      const names = small.filter((_, i) => i % 4 === c).map((s) => s.oid)
      names.splice(5, 0, missing, "HEAD:no such file", "not a\nname", "")
      return cat.contents(names)
    })
    const infos = cat.info([bigOid, missing, small[7]!.oid, "HEAD"])
    const answers = await Promise.all(calls)
    answers.forEach((got, c) => {
      const want = small.filter((_, i) => i % 4 === c).map((s) => s.text)
      want.splice(5, 0, undefined as never, undefined as never, undefined as never, undefined as never)
      expect(got.map((b) => b?.toString("utf8"))).toEqual(want)
    })
    const [bigInfo, none, seven, head] = await infos
    expect(bigInfo).toEqual({ oid: bigOid, type: "blob", size: big.length })
    expect(none).toBeUndefined()
    expect(seven).toEqual({ oid: small[7]!.oid, type: "blob", size: Buffer.byteLength(small[7]!.text) })
    expect(head?.type).toBe("commit")
    expect(readers()).toHaveLength(1)
    await cat.close()
    expect(readers()).toEqual([])
  })

  it("reads a blob bigger than any pipe buffer whole, and streams it to a file byte for byte", async () => {
    const git = new Git(repo)
    const [got] = await git.readObjects([bigOid])
    expect(got!.equals(big)).toBe(true)
    // through the reader itself (Git sends a blob this big to a process of its own)
    const cat = new CatFile(repo, () => gitEnv())
    const file = path.join(root, "big.out")
    const fd = fs.openSync(file, "w")
    const [before, found, after] = await Promise.all([cat.contents([small[1]!.oid]), cat.toFile(bigOid, fd), cat.contents([small[2]!.oid])])
    fs.closeSync(fd)
    expect(found).toBe(true)
    expect(fs.readFileSync(file).equals(big)).toBe(true)
    expect(before[0]!.toString()).toBe(small[1]!.text)
    expect(after[0]!.toString()).toBe(small[2]!.text)
    const fd2 = fs.openSync(path.join(root, "none.out"), "w")
    expect(await cat.toFile("1".repeat(40), fd2)).toBe(false)
    fs.closeSync(fd2)
    await cat.close()
    // Git.blobToFile, small and big: the files hold the blobs' exact bytes
    for (const [oid, want] of [[small[9]!.oid, Buffer.from(small[9]!.text)], [bigOid, big]] as const) {
      const out = path.join(root, `blob-${oid}`)
      await git.blobToFile(oid, out)
      expect(fs.readFileSync(out).equals(want)).toBe(true)
    }
    await expect(git.blobToFile("2".repeat(40), path.join(root, "nothing"))).rejects.toThrow(/Not a valid object/)
    expect(fs.readdirSync(root).filter((f) => f.endsWith(".tmp"))).toEqual([])
    await git.close()
    expect(readers()).toEqual([])
  })

  it("sees a branch that moved, and refs packed, after it started", async () => {
    const git = new Git(repo)
    const first = await git.revParse("main")
    expect(first).toBe(exec("git", ["-C", repo, "rev-parse", "main"]).stdout.trim())
    expect(await git.revParse("no-such-branch")).toBeUndefined()
    fs.writeFileSync(path.join(repo, "s0"), "changed\n")
    ok(exec("git", ["-C", repo, "commit", "-q", "-am", "two"]), "commit")
    const second = await git.revParse("main")
    expect(second).not.toBe(first)
    expect(second).toBe(exec("git", ["-C", repo, "rev-parse", "main"]).stdout.trim())
    ok(exec("git", ["-C", repo, "branch", "other", first!]), "branch")
    ok(exec("git", ["-C", repo, "pack-refs", "--all"]), "pack-refs")
    expect(await git.revParse("other")).toBe(first)
    expect((await git.blobSizes([bigOid, "3".repeat(40)])).get(bigOid)).toBe(big.length)
    expect(readers()).toHaveLength(1)
    await git.close()
  })

  it("a process killed in the middle of an answer is started again and asked again", async () => {
    const cat = new CatFile(repo, () => gitEnv())
    await cat.contents([small[0]!.oid]) // started
    const [pid] = readers()
    // forty copies of a 3 MiB blob: the kill lands while they are being read
    const reading = cat.contents(Array.from({ length: 40 }, () => bigOid))
    await pause(20)
    process.kill(Number(pid), "SIGKILL")
    const got = await reading
    expect(got.every((b) => b!.equals(big))).toBe(true)
    const now = readers()
    expect(now).toHaveLength(1)
    expect(now[0]).not.toBe(pid)
    await cat.close()
    expect(readers()).toEqual([])
    await expect(cat.contents([small[0]!.oid])).rejects.toThrow(/closed/)
  })

  it("lets its process go after idling, and starts another when asked again", async () => {
    const cat = new CatFile(repo, () => gitEnv(), 0.3)
    expect((await cat.contents([small[3]!.oid]))[0]!.toString()).toBe(small[3]!.text)
    expect(readers()).toHaveLength(1)
    await pause(1000)
    expect(readers()).toEqual([])
    expect((await cat.contents([small[4]!.oid]))[0]!.toString()).toBe(small[4]!.text)
    expect(readers()).toHaveLength(1)
    await cat.close()
    expect(readers()).toEqual([])
  })
})
