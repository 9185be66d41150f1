/**
 * The long-lived git-annex batch processes (src/effects/annexbatch.ts), on real repositories: many
 * keys through one process, answered in order; a process that stalls (a peer that never answers)
 * is killed with its process group after its stall bound, not after a minute, and the next request
 * starts afresh; a closed process has written what it held when close() settles; an idle one ends
 * by itself and writes it then; no get starts while a checkout's refresh runs.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Annex } from "../../src/effects/annex.js"
import { AnnexBatch } from "../../src/effects/annexbatch.js"
import { CommandTimedOut } from "../../src/effects/errors.js"
import { exec } from "./harness.js"

const ok = (r: { code: number; stderr: string }, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0)

describe("git-annex batch processes", () => {
  let root: string
  let a: string
  let b: string
  const keys: Array<string> = []

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "sharebox-annexbatch-"))
    a = path.join(root, "a")
    b = path.join(root, "b")
    ok(exec("git", ["init", "-q", "-b", "main", a]), "init")
    for (const [k, v] of [["user.name", "t"], ["user.email", "t@t"]]) ok(exec("git", ["-C", a, "config", k!, v!]), "config")
    ok(exec("git", ["-C", a, "annex", "init", "--quiet", "a"]), "annex init")
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(a, `f${i}`), `content ${i}\n`)
    ok(exec("git", ["-C", a, "annex", "add", "--quiet", "."]), "annex add")
    ok(exec("git", ["-C", a, "commit", "-q", "-m", "files"]), "commit")
    for (let i = 0; i < 50; i++) keys.push(exec("git", ["-C", a, "annex", "lookupkey", `f${i}`]).stdout.trim())
    ok(exec("git", ["clone", "-q", a, b]), "clone")
    for (const [k, v] of [["user.name", "t"], ["user.email", "t@t"]]) ok(exec("git", ["-C", b, "config", k!, v!]), "config")
    ok(exec("git", ["-C", b, "annex", "init", "--quiet", "b"]), "annex init")
  }, 60_000)

  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true })
  })

  it("fifty keys asked at once through one process are answered in order, each fetched", async () => {
    const batch = new AnnexBatch(b, ["get", "--json-progress"], () => process.env, 30)
    const answers = await Promise.all(keys.map((k) => batch.request(k)))
    batch.close()
    answers.forEach((ans) => expect(ans !== "nothing to do" && ans.success).toBe(true))
    for (let i = 0; i < 50; i++) expect(fs.readFileSync(path.join(b, `f${i}`), "utf8")).toBe(`content ${i}\n`)
    // asked again: nothing to do, said as such
    const again = new AnnexBatch(b, ["get"], () => process.env, 30)
    expect(await again.request(keys[0]!)).toBe("nothing to do")
    again.close()
  })

  it("a peer that never answers: the request fails after the stall bound, and nothing of it is left running", async () => {
    const c = path.join(root, "c")
    ok(exec("git", ["clone", "-q", a, c]), "clone")
    for (const [k, v] of [["user.name", "t"], ["user.email", "t@t"]]) ok(exec("git", ["-C", c, "config", k!, v!]), "config")
    ok(exec("git", ["-C", c, "annex", "init", "--quiet", "c"]), "annex init")
    // the only copy is behind "ssh", which here connects and then says nothing, for ever
    const uuid = exec("git", ["-C", a, "config", "annex.uuid"]).stdout.trim()
    ok(exec("git", ["-C", c, "remote", "set-url", "origin", "ssh://sharebox-test.invalid/x"]), "set-url")
    ok(exec("git", ["-C", c, "config", "remote.origin.annex-uuid", uuid]), "annex-uuid")
    const marker = `sharebox-stall-${process.pid}`
    const env = () => ({ ...process.env, GIT_ANNEX_USE_GIT_SSH: "1", GIT_SSH_COMMAND: `sh -c "sleep 600" ${marker}` })
    const batch = new AnnexBatch(c, ["get", "--json-progress"], env, 2)
    const started = Date.now()
    const outcome = await batch.request(keys[0]!).then(
      () => "answered",
      (e) => e
    )
    const took = Date.now() - started
    expect(outcome).toBeInstanceOf(CommandTimedOut)
    expect(took).toBeGreaterThanOrEqual(1900)
    expect(took).toBeLessThan(10_000)
    await new Promise((r) => setTimeout(r, 300))
    expect(exec("pgrep", ["-f", marker]).stdout.trim()).toBe("")
    // the next request starts a new process (and stalls the same way: nothing was kept)
    const next = await batch.request(keys[1]!).then(
      () => "answered",
      (e) => e
    )
    expect(next).toBeInstanceOf(CommandTimedOut)
    batch.close(true)
  }, 30_000)

  /**
   * A get that fills an unlocked file (annex.thin: a hard link) tells git-annex's keys database the
   * file's inode only when its process exits. `git annex restage` before that takes the file for a
   * modified one and stages the key git-annex's clean filter makes of it, which differs from the
   * one in HEAD when that key has no extension (sharebox names a key after the name a file was
   * written under). Git.checkout waits for `close()` before it refreshes.
   */
  /**
   * A repository `d` with two unlocked (executable) files whose keys are named as sharebox names
   * them, the second with no extension (a file written under `rsync`'s temporary name), and its
   * clone `e` with annex.thin and no content yet. Returns e and the two keys.
   */
  const unlockedPair = (name: string): { e: string; first: string; key: string } => {
    const d = path.join(root, `${name}-d`)
    const e = path.join(root, `${name}-e`)
    ok(exec("git", ["init", "-q", "-b", "main", d]), "init")
    for (const [k, v] of [["user.name", "t"], ["user.email", "t@t"]]) ok(exec("git", ["-C", d, "config", k!, v!]), "config")
    ok(exec("git", ["-C", d, "annex", "init", "--quiet", "d"]), "annex init")
    /** an unlocked file whose key is named as sharebox names it after the name it was written under */
    const unlocked = (name: string, text: string, ext: string) => {
      const key = `SHA256E-s${text.length}--${createHash("sha256").update(text).digest("hex")}${ext}`
      fs.writeFileSync(path.join(root, "content"), text)
      ok(exec("git", ["-C", d, "annex", "setkey", key, path.join(root, "content")]), "setkey")
      const blob = exec("git", ["-C", d, "hash-object", "-w", "--stdin"], { input: `/annex/objects/${key}\n` }).stdout.trim()
      ok(exec("git", ["-C", d, "update-index", "--add", "--cacheinfo", `100755,${blob},${name}`]), "stage the pointer")
      return key
    }
    const first = unlocked("s.sh", "script\n", ".sh")
    const key = unlocked("r2.txt", "r2\n", "")
    ok(exec("git", ["-C", d, "commit", "-q", "-m", "unlocked files"]), "commit")
    ok(exec("git", ["clone", "-q", d, e]), "clone")
    for (const [k, v] of [["user.name", "t"], ["user.email", "t@t"]]) ok(exec("git", ["-C", e, "config", k!, v!]), "config")
    ok(exec("git", ["-C", e, "annex", "init", "--quiet", "e"]), "annex init")
    ok(exec("git", ["-C", e, "config", "annex.thin", "true"]), "annex.thin")
    return { e, first, key }
  }

  it("once close() settles, what its get filled is known: git annex restage stages HEAD's pointer again", async () => {
    const { e, first, key } = unlockedPair("close")
    const batch = new AnnexBatch(e, ["get", "--json-progress"], () => process.env, 30)
    // the last key a process fetched is the one whose inode it holds back
    for (const k of [first, key]) {
      const answer = await batch.request(k)
      expect(answer !== "nothing to do" && answer.success).toBe(true)
    }
    expect(fs.readFileSync(path.join(e, "r2.txt"), "utf8")).toBe("r2\n")
    await batch.close()
    ok(exec("git", ["-C", e, "annex", "restage"]), "restage")
    expect(exec("git", ["-C", e, "rev-parse", ":r2.txt"]).stdout).toBe(exec("git", ["-C", e, "rev-parse", "HEAD:r2.txt"]).stdout)
    expect(exec("git", ["-C", e, "status", "--porcelain"]).stdout).toBe("")
  }, 60_000)

  const until = async (what: string, test: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms
    while (!test()) {
      if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  it("a process with nothing to do ends by itself, and what it filled is known then: git status is clean without a close()", async () => {
    const { e, first, key } = unlockedPair("idle")
    const batch = new AnnexBatch(e, ["get", "--json-progress"], () => process.env, 30, 2_000)
    for (const k of [first, key]) {
      const answer = await batch.request(k)
      expect(answer !== "nothing to do" && answer.success).toBe(true)
    }
    // while it runs, git takes the file it filled last for a modified one (what the idle end is for)
    expect(batch.running).toBe(1)
    expect(exec("git", ["-C", e, "status", "--porcelain"]).stdout).toContain(" M r2.txt\n")
    await until("the idle process exits", () => batch.running === 0)
    expect(exec("git", ["-C", e, "status", "--porcelain"]).stdout).toBe("")
    // the next request starts a new process, which is answered and ends in its turn
    expect(await batch.request(key)).toBe("nothing to do")
    expect(batch.running).toBe(1)
    await until("the second idle process exits", () => batch.running === 0)
  }, 60_000)

  it("a request that comes while an idle process ends is answered by a new one", async () => {
    const batch = new AnnexBatch(b, ["get"], () => process.env, 30, 1)
    for (let i = 0; i < 20; i++) {
      expect(await batch.request(keys[i % keys.length]!)).toBe("nothing to do")
      // the idle end (after 1 ms) races the next request
      await new Promise((r) => setTimeout(r, i % 3))
    }
    await batch.close()
    expect(batch.running).toBe(0)
  }, 60_000)

  it("a get asked while a checkout's refresh runs starts only after it (Annex.settled)", async () => {
    const { e, key } = unlockedPair("gate")
    const annex = new Annex(e)
    const order: Array<string> = []
    let fetched: Promise<unknown> | undefined
    await annex.settled(async () => {
      order.push("refresh begins")
      fetched = annex.get(key).then((r) => order.push(`get ${r.ok ? "done" : r.message}`))
      await new Promise((r) => setTimeout(r, 1_500))
      // git-annex would have fetched a 3-byte file from a local clone well within this
      expect(fs.readFileSync(path.join(e, "r2.txt"), "utf8")).not.toBe("r2\n")
      order.push("refresh ends")
    })
    await fetched
    expect(order).toEqual(["refresh begins", "refresh ends", "get done"])
    expect(fs.readFileSync(path.join(e, "r2.txt"), "utf8")).toBe("r2\n")
    await annex.close()
  }, 60_000)
})
