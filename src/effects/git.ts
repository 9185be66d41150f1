/**
 * Thin wrappers around git that take the repository explicitly. Paths always follow `--` or travel
 * on stdin; nothing goes through a shell.
 */
import { spawn } from "node:child_process"
import { DIR_MARKER, baseName } from "../domain/paths.js"
import { type RawEntry, SMALL_BLOB, treeFromStored } from "../domain/storage.js"
import type { Tree } from "../domain/tree.js"
import { CommandFailed } from "./errors.js"
import { check, run, type RunOptions } from "./proc.js"

/** git's own identity settings for commits sharebox makes. */
const IDENTITY = ["-c", "user.name=sharebox", "-c", "user.email=sharebox@localhost"]

export class Git {
  constructor(readonly top: string) {}

  run(args: ReadonlyArray<string>, opts: RunOptions = {}) {
    return run("git", ["-C", this.top, ...IDENTITY, ...args], opts)
  }

  check(args: ReadonlyArray<string>, opts: RunOptions = {}): Promise<string> {
    return check("git", ["-C", this.top, ...IDENTITY, ...args], opts)
  }

  async revParse(rev: string): Promise<string | undefined> {
    const r = await this.run(["rev-parse", "--verify", "-q", rev + "^{commit}"])
    return r.code === 0 ? r.stdout.trim() : undefined
  }

  headOid(): Promise<string | undefined> {
    return this.revParse("HEAD")
  }

  /** The branch HEAD points at (`main` for repositories sharebox creates). */
  async branch(): Promise<string> {
    const r = await this.run(["symbolic-ref", "--short", "-q", "HEAD"])
    if (r.code !== 0) throw new CommandFailed({ command: "git", args: ["symbolic-ref", "HEAD"], exitCode: r.code, stderr: "HEAD is detached; check out a branch in the gitdir" })
    return r.stdout.trim()
  }

  async commitTime(oid: string): Promise<number> {
    return Number((await this.check(["show", "-s", "--format=%ct", oid])).trim()) * 1000
  }

  /** Reads blobs by id, in one process. */
  readBlobs(oids: ReadonlyArray<string>): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>()
    if (oids.length === 0) return Promise.resolve(out)
    return new Promise((resolve, reject) => {
      const child = spawn("git", ["-C", this.top, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] })
      const chunks: Array<Buffer> = []
      child.stdout.on("data", (d: Buffer) => chunks.push(d))
      child.on("error", reject)
      child.on("close", (code) => {
        if (code !== 0) return reject(new CommandFailed({ command: "git", args: ["cat-file", "--batch"], exitCode: code, stderr: "" }))
        const buf = Buffer.concat(chunks)
        let at = 0
        while (at < buf.length) {
          const nl = buf.indexOf(10, at)
          const header = buf.subarray(at, nl).toString("utf8").split(" ")
          at = nl + 1
          if (header[1] === "missing") continue
          const size = Number(header[2])
          out.set(header[0]!, buf.subarray(at, at + size))
          at += size + 1
        }
        resolve(out)
      })
      child.stdin.end(oids.join("\n") + "\n")
    })
  }

  /** The tree stored in a commit. */
  async loadTree(commit: string | undefined): Promise<{ tree: Tree; skipped: Array<string> }> {
    if (!commit) return treeFromStored([], 0)
    const listing = await this.check(["ls-tree", "-r", "-l", "-z", "--full-tree", commit], { env: { ...process.env } })
    const raw: Array<{ path: string; mode: string; oid: string; size: number }> = []
    for (const rec of listing.split("\0")) {
      if (!rec) continue
      const tab = rec.indexOf("\t")
      const [mode, , oid, size] = rec.slice(0, tab).split(/ +/)
      raw.push({ path: rec.slice(tab + 1), mode: mode!, oid: oid!, size: size === "-" ? 0 : Number(size) })
    }
    // directory markers are read whatever their size: a directory of a few dozen files has a
    // marker over SMALL_BLOB, and without it every file there loses its mtime and writer
    const wanted = [...new Set(raw.filter((e) => e.mode === "120000" || e.size <= SMALL_BLOB || baseName(e.path) === DIR_MARKER).map((e) => e.oid))]
    const blobs = await this.readBlobs(wanted)
    const entries: Array<RawEntry> = raw.map((e) => {
      const b = blobs.get(e.oid)
      return b ? { ...e, data: b.toString("utf8") } : e
    })
    return treeFromStored(entries, await this.commitTime(commit))
  }

  /** Feeds a fast-import stream; refs move only forward unless the stream says otherwise. */
  async fastImport(stream: Buffer): Promise<void> {
    await this.check(["fast-import", "--quiet", "--done"], { input: stream })
  }

  /** Makes the index and work tree match `to` (coming from `from`). */
  async checkout(from: string | undefined, to: string): Promise<void> {
    // An executable file is an unlocked annexed file: read-tree writes its pointer through
    // git-annex's smudge filter and the content replaces it later (annex.thin: a hard link to the
    // object), so the index keeps the pointer's size and the file reads as modified: `git status`
    // is not clean and the next `read-tree -m` refuses ("not uptodate. Cannot merge"). git-annex
    // restages such files itself; read-tree runs no hooks, so do what `git checkout` would. Only
    // for a change that has an unlocked file on either side: read-tree checks and writes only the
    // paths that change, and each of these git-annex commands costs a process and a scan.
    const unlocked = from ? await this.changesUnlocked(from, to) : true
    if (from) {
      if (unlocked) await this.run(["annex", "restage"])
      await this.check(["read-tree", "-m", "-u", from, to])
    } else await this.check(["read-tree", "-u", "--reset", to])
    if (unlocked) {
      await this.run(["annex", "smudge", "--update"])
      await this.run(["annex", "restage"])
    }
  }

  /** Whether a file of mode 100755 (an unlocked annexed file) is added, changed or removed between two commits. */
  private async changesUnlocked(from: string, to: string): Promise<boolean> {
    const r = await this.run(["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", from, to])
    if (r.code !== 0) return true
    return /(?:^|\0):\d{6} 100755 |(?:^|\0):100755 /.test(r.stdout)
  }

  async mergeBase(a: string, b: string): Promise<string | undefined> {
    const r = await this.run(["merge-base", a, b])
    return r.code === 0 ? r.stdout.trim() : undefined
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    return (await this.run(["merge-base", "--is-ancestor", a, b])).code === 0
  }

  async remotes(): Promise<Array<{ name: string; url: string }>> {
    const r = await this.run(["config", "--get-regexp", "^remote\\..*\\.url$"])
    const out: Array<{ name: string; url: string }> = []
    for (const line of r.stdout.split("\n")) {
      const m = /^remote\.(.+)\.url (.*)$/.exec(line)
      if (m) out.push({ name: m[1]!, url: m[2]! })
    }
    return out
  }

  async config(key: string): Promise<string | undefined> {
    const r = await this.run(["config", "--get", key])
    return r.code === 0 ? r.stdout.trim() : undefined
  }
}

/** C-style quoting for fast-import paths; the result is pure ASCII (other bytes become octal escapes). */
export const quotePath = (p: string): string => {
  let out = '"'
  for (const byte of Buffer.from(p, "utf8")) {
    if (byte === 0x22) out += '\\"'
    else if (byte === 0x5c) out += "\\\\"
    else if (byte === 0x0a) out += "\\n"
    else if (byte < 0x20 || byte >= 0x7f) out += "\\" + byte.toString(8).padStart(3, "0")
    else out += String.fromCharCode(byte)
  }
  return out + '"'
}
