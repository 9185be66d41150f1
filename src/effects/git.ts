/**
 * Thin wrappers around git that take the repository explicitly. Paths always follow `--` or travel
 * on stdin; nothing goes through a shell.
 */
import { spawn } from "node:child_process"
import * as fsSync from "node:fs"
import { DIR_MARKER, baseName } from "../domain/paths.js"
import { type LoadedTree, treeFromStored } from "../domain/storage.js"
import { saneTime } from "../domain/time.js"
import { CommandFailed, CommandTimedOut } from "./errors.js"
import { CatFile } from "./catfile.js"
import { loadTree } from "./loadtree.js"
import { run, stdoutOf, type RunOptions, type RunResult } from "./proc.js"
import { clearStaleGitLocks } from "./gitlocks.js"
import { gitEnv } from "./gitenv.js"

/** git's own identity settings for commits sharebox makes. */
const IDENTITY = ["-c", "user.name=sharebox", "-c", "user.email=sharebox@localhost"]

export { gitEnv }

/** How long a command that writes the index waits for another git command to let go of it. */
export const INDEX_LOCK_WAIT_MS = 3000

/** A blob bigger than this is written to a file by a process of its own (see `blobToFile`). */
const BIG_BLOB = 1 << 20

export class Git {
  /** The long-lived `cat-file` of this repository (catfile.ts), started on first read. */
  private readonly cat: CatFile

  constructor(readonly top: string) {
    this.cat = new CatFile(top, () => gitEnv())
  }

  /** Where the lock files a killed git child left are reported (see `afterKilled`). */
  warn: (line: string) => void = () => {}

  async run(args: ReadonlyArray<string>, opts: RunOptions = {}): Promise<RunResult> {
    try {
      const r = await run("git", ["-C", this.top, ...IDENTITY, ...args], { ...opts, env: gitEnv(opts.env) })
      if (r.code === null) await this.afterKilled(args)
      return r
    } catch (e) {
      if (e instanceof CommandTimedOut) await this.afterKilled(args)
      throw e
    }
  }

  async check(args: ReadonlyArray<string>, opts: RunOptions = {}): Promise<string> {
    return stdoutOf("git", ["-C", this.top, ...IDENTITY, ...args], await this.run(args, opts))
  }

  /**
   * A git child died by a signal (killed on its own, or by a timeout here): the lock files it held
   * would stop every later command that takes them, so the abandoned ones go.
   */
  private async afterKilled(args: ReadonlyArray<string>): Promise<void> {
    const what = args.find((a) => !a.startsWith("-") && !a.includes("=")) ?? "git"
    await clearStaleGitLocks(this.top, this.warn, `was killed (git ${what})`)
  }

  async revParse(rev: string): Promise<string | undefined> {
    return (await this.cat.info([rev + "^{commit}"]))[0]?.oid
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
    // a peer sets any date: one no Date can hold counts as the epoch
    return saneTime(Number((await this.check(["show", "-s", "--format=%ct", oid, "--"])).trim()) * 1000, 0)
  }

  /**
   * Reads objects by name (an id, or `REV^{tree}` and the like), in the order asked; undefined for
   * one that is not there. Each is a buffer of its own.
   */
  readObjects(names: ReadonlyArray<string>): Promise<Array<Buffer | undefined>> {
    return this.cat.contents(names)
  }

  /** The sizes of objects by id; an object that is not there is left out. */
  async blobSizes(oids: ReadonlyArray<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    ;(await this.cat.info(oids)).forEach((info, i) => info && out.set(oids[i]!, info.size))
    return out
  }

  /** Reads blobs by id. */
  async readBlobs(oids: ReadonlyArray<string>): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>()
    ;(await this.readObjects(oids)).forEach((data, i) => data && out.set(oids[i]!, data))
    return out
  }

  /**
   * Writes one blob, byte for byte, to `file` (created 0600, fsynced, then renamed into place);
   * its bytes never pass through a string decoding. A small one comes through the long-lived
   * reader; one over BIG_BLOB from a `cat-file` of its own writing straight to the file: it costs
   * no memory or event-loop time here, and does not hold up every other read behind it (the
   * start-up of a process is little beside copying a MiB).
   */
  async blobToFile(oid: string, file: string): Promise<void> {
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    const fd = fsSync.openSync(tmp, "w", 0o600)
    try {
      const [info] = await this.cat.info([oid])
      const missing = () => new CommandFailed({ command: "git", args: ["cat-file", "blob", oid], exitCode: 128, stderr: `fatal: Not a valid object name ${oid}` })
      if (!info || info.type !== "blob") throw missing()
      if (info.size > BIG_BLOB) await this.bigBlobToFile(oid, fd)
      else if (!(await this.cat.toFile(oid, fd))) throw missing()
      fsSync.fsyncSync(fd)
      fsSync.closeSync(fd)
      fsSync.renameSync(tmp, file)
    } catch (e) {
      try {
        fsSync.closeSync(fd)
      } catch {}
      fsSync.rmSync(tmp, { force: true })
      throw e
    }
  }

  private async bigBlobToFile(oid: string, fd: number): Promise<void> {
    const err: Array<Buffer> = []
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn("git", ["-C", this.top, "cat-file", "blob", oid], { stdio: ["ignore", fd, "pipe"], env: gitEnv() })
      child.stderr!.on("data", (d: Buffer) => err.push(d))
      child.on("error", (e) => reject(new CommandFailed({ command: "git", args: ["cat-file", "blob", oid], exitCode: null, stderr: e.message })))
      child.on("close", resolve)
    })
    if (code !== 0) throw new CommandFailed({ command: "git", args: ["cat-file", "blob", oid], exitCode: code, stderr: Buffer.concat(err).toString("utf8") })
  }

  /** Ends the long-lived reader; the Git is not to be read from after. */
  async close(): Promise<void> {
    await this.cat.close()
  }

  /** The tree stored in a commit (loadtree.ts). */
  loadTree(commit: string | undefined): Promise<LoadedTree> {
    return commit ? loadTree(this.top, commit, this.commitTime(commit)) : Promise.resolve(treeFromStored([], 0))
  }

  /** Feeds a fast-import stream; refs move only forward unless the stream says otherwise. */
  async fastImport(stream: Buffer): Promise<void> {
    await this.check(["fast-import", "--quiet", "--done"], { input: stream })
  }

  /**
   * Makes the index and work tree match `to` (coming from `from`). `settled` runs the refresh once
   * this repository's long-lived git-annex processes wrote what they hold, and keeps new ones from
   * starting meanwhile (Annex.settled).
   */
  async checkout(from: string | undefined, to: string, settled: <A>(f: () => Promise<A>) => Promise<A> = (f) => f()): Promise<void> {
    // An executable file is an unlocked annexed file: read-tree writes its pointer through
    // git-annex's smudge filter and the content replaces it later (annex.thin: a hard link to the
    // object), so the index keeps the pointer's size and the file reads as modified: `git status`
    // is not clean and the next `read-tree -m` refuses ("not uptodate. Cannot merge"). git-annex
    // restages such files itself; read-tree runs no hooks, so do what `git checkout` would.
    // A change of only symlinks (locked files, links) and directory markers needs none of it, nor
    // git-annex's filter (markers are never pointers): read-tree checks and writes only the paths
    // that change, and each git-annex process costs its start-up and a scan of the index.
    // Restaging is `update-index --refresh --stdin` of the files git-annex filled: it stages what
    // the clean filter makes of each, the same pointer only if git-annex's keys database knows the
    // file's inode. A batch `get` still running has not written that yet, so it is ended first, and
    // none starts until the refresh is done: else a file whose key sharebox named (SHA256E without
    // the extension, say after `rsync`'s temporary name) was staged under the key git-annex names
    // it, and `git status` was not clean.
    const plain = await this.changesOnlyLinksAndMarkers(from, to)
    const readTree = plain ? ["-c", "filter.annex.process=", "-c", "filter.annex.smudge=", "-c", "filter.annex.clean=", "read-tree"] : ["read-tree"]
    const refresh = async () => {
      if (from) {
        if (!plain) await this.run(["annex", "restage"])
        await this.checkIndex([...readTree, "-m", "-u", from, to])
      } else await this.checkIndex([...readTree, "-u", "--reset", to])
      if (!plain) {
        await this.run(["annex", "smudge", "--update"])
        await this.run(["annex", "restage"])
      }
    }
    await (plain ? refresh() : settled(refresh))
  }

  /**
   * Runs a command that writes the index, waiting while another git command holds the index lock:
   * git takes it without waiting and fails at once ("index.lock': File exists"), and a `git status`
   * in the gitdir (a shell prompt, a user looking) holds it while it refreshes the index.
   */
  async checkIndex(args: ReadonlyArray<string>): Promise<string> {
    const until = Date.now() + INDEX_LOCK_WAIT_MS
    for (let pause = 20; ; pause = Math.min(pause * 2, 320)) {
      const r = await this.run(args)
      if (r.code === 0) return r.stdout
      const locked = /index\.lock'?: File exists/.test(r.stderr)
      if (!locked || Date.now() + pause > until) {
        const stderr = locked ? `another git command has held .git/index.lock for ${INDEX_LOCK_WAIT_MS / 1000} s` : r.stderr || r.stdout
        throw new CommandFailed({ command: "git", args: ["-C", this.top, ...args], exitCode: r.code, stderr })
      }
      await new Promise((resolve) => setTimeout(resolve, pause))
    }
  }

  /**
   * Whether every path that differs between two commits (from nothing: every path of `to`) is, on
   * both sides, a symlink, a directory marker or nothing: no regular file that could be (or have
   * been) a git-annex pointer, whatever its mode (a plain git-annex peer may unlock with 100644).
   */
  private async changesOnlyLinksAndMarkers(from: string | undefined, to: string): Promise<boolean> {
    const plainMode = (mode: string, p: string) => mode === "000000" || mode === "120000" || (mode === "100644" && baseName(p) === DIR_MARKER)
    if (!from) {
      const r = await this.run(["ls-tree", "-r", "-z", "--full-tree", to])
      if (r.code !== 0) return false
      return r.stdout.split("\0").every((rec) => !rec || plainMode(rec.slice(0, 6), rec.slice(rec.indexOf("\t") + 1)))
    }
    const r = await this.run(["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", from, to])
    if (r.code !== 0) return false
    const recs = r.stdout.split("\0")
    for (let i = 0; i + 1 < recs.length; i += 2) {
      const m = /^:(\d{6}) (\d{6}) /.exec(recs[i]!)
      if (!m || !plainMode(m[1]!, recs[i + 1]!) || !plainMode(m[2]!, recs[i + 1]!)) return false
    }
    return true
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
export const quotePath = (p: string | Uint8Array): string => {
  let out = '"'
  for (const byte of typeof p === "string" ? Buffer.from(p, "utf8") : p) {
    if (byte === 0x22) out += '\\"'
    else if (byte === 0x5c) out += "\\\\"
    else if (byte === 0x0a) out += "\\n"
    else if (byte < 0x20 || byte >= 0x7f) out += "\\" + byte.toString(8).padStart(3, "0")
    else out += String.fromCharCode(byte)
  }
  return out + '"'
}
