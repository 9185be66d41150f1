/**
 * Thin wrappers around git that take the repository explicitly. Paths always follow `--` or travel
 * on stdin; nothing goes through a shell.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as fsSync from "node:fs"
import { keyOfAnnexLink } from "../domain/key.js"
import { DIR_MARKER, baseName } from "../domain/paths.js"
import { type LoadedTree, MAX_LINK_BYTES, MAX_MARKER_BYTES, SMALL_BLOB, StoredTreeBuilder, treeFromStored } from "../domain/storage.js"
import { saneTime } from "../domain/time.js"
import { CommandFailed, CommandTimedOut } from "./errors.js"
import { BatchParser, LsTreeParser } from "./gitstream.js"
import { run, stdoutOf, type RunOptions, type RunResult } from "./proc.js"
import { clearStaleGitLocks } from "./gitlocks.js"

/** git's own identity settings for commits sharebox makes. */
const IDENTITY = ["-c", "user.name=sharebox", "-c", "user.email=sharebox@localhost"]

/**
 * The environment of git processes. glibc gives the top of the heap back to the kernel whenever
 * 128 KiB of it is free; git deflates every object with a fresh zlib stream (a quarter of a MiB,
 * allocated and freed), so `fast-import` of 10,000 small blobs made 55,000 `brk` calls, each
 * freshly faulted page zeroed again: 1.7 s where 0.36 s does (docs/benchmarks.md). A higher trim
 * threshold keeps that memory in the process, which exits soon after. The caller's own
 * `GLIBC_TUNABLES` go after it, so a trim threshold set there wins.
 */
export const gitEnv = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => {
  const keep = "glibc.malloc.trim_threshold=67108864"
  return { ...base, GLIBC_TUNABLES: base.GLIBC_TUNABLES ? `${keep}:${base.GLIBC_TUNABLES}` : keep }
}

/** How long a command that writes the index waits for another git command to let go of it. */
export const INDEX_LOCK_WAIT_MS = 3000

export class Git {
  constructor(readonly top: string) {}

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
    // a peer sets any date: one no Date can hold counts as the epoch
    return saneTime(Number((await this.check(["show", "-s", "--format=%ct", oid, "--"])).trim()) * 1000, 0)
  }

  /**
   * Reads objects by name (an id, or `REV^{tree}` and the like), in one process, in the order
   * asked; undefined for one that is not there. Each is copied out of the process's output.
   */
  async readObjects(names: ReadonlyArray<string>): Promise<Array<Buffer | undefined>> {
    const out: Array<Buffer | undefined> = []
    if (names.length === 0) return out
    const parser = new BatchParser((_, data) => out.push(data && Buffer.from(data)))
    const cat = this.plumbing(["cat-file", "--batch", "--buffer"], (d) => parser.push(d))
    cat.child.stdin.end(names.join("\n") + "\n")
    await cat.done
    if (parser.partial || out.length !== names.length) {
      throw new CommandFailed({ command: "git", args: ["cat-file", "--batch"], exitCode: 0, stderr: `answered ${out.length} of ${names.length} objects` })
    }
    return out
  }

  /** The sizes of objects by id, in one process; an object that is not there is left out. */
  async blobSizes(oids: ReadonlyArray<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    if (oids.length === 0) return out
    const text = await this.check(["cat-file", "--batch-check=%(objectname) %(objectsize)"], { input: oids.join("\n") + "\n" })
    for (const line of text.split("\n")) {
      const [oid, size] = line.split(" ")
      if (oid && size && /^\d+$/.test(size)) out.set(oid, Number(size))
    }
    return out
  }

  /** Reads blobs by id, in one process. */
  async readBlobs(oids: ReadonlyArray<string>): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>()
    ;(await this.readObjects(oids)).forEach((data, i) => data && out.set(oids[i]!, data))
    return out
  }

  /**
   * Writes one blob, byte for byte, to `file` (created 0600, fsynced, then renamed into place):
   * git's output goes straight to the file, so a blob of any size costs no memory here and its
   * bytes never pass through a string decoding.
   */
  async blobToFile(oid: string, file: string): Promise<void> {
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    const fd = fsSync.openSync(tmp, "w", 0o600)
    try {
      const err: Array<Buffer> = []
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn("git", ["-C", this.top, "cat-file", "blob", oid], { stdio: ["ignore", fd, "pipe"], env: gitEnv() })
        child.stderr!.on("data", (d: Buffer) => err.push(d))
        child.on("error", (e) => reject(new CommandFailed({ command: "git", args: ["cat-file", "blob", oid], exitCode: null, stderr: e.message })))
        child.on("close", resolve)
      })
      if (code !== 0) throw new CommandFailed({ command: "git", args: ["cat-file", "blob", oid], exitCode: code, stderr: Buffer.concat(err).toString("utf8") })
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

  /**
   * The tree stored in a commit. `ls-tree` and `cat-file --batch` run side by side: each chunk of
   * the listing asks at once for the blobs it needs (symlinks, markers, small files), both outputs
   * are parsed as they arrive, and the tree is built meanwhile (entries handed on in listing order
   * as soon as they are complete), so nothing is held whole and little is left once git is done.
   *
   * From the second chunk on the blobs are asked of two `cat-file` processes, chunk by chunk in
   * turn: cat-file writes each blob with two `write` calls of its own, and with one reader woken for
   * every one of them the pipe, not git, set the pace (100,000 symlinks: 1.5 s, 1.0 s with two).
   */
  async loadTree(commit: string | undefined): Promise<LoadedTree> {
    if (!commit) return treeFromStored([], 0)
    const time = this.commitTime(commit)
    time.catch(() => undefined) // awaited at the end
    const builder = new StoredTreeBuilder()
    type Entry = { path: string; mode: string; oid: string; size: number; data: string | undefined; linkKey: string | undefined; waiting: boolean; rawPath?: Uint8Array }
    const listed: Array<Entry | undefined> = []
    let next = 0 // the first entry not yet handed to the builder
    const handOn = () => {
      for (let e = listed[next]; e && !e.waiting; e = listed[next]) {
        builder.add(e)
        listed[next++] = undefined
      }
    }
    const readers: Array<{ asked: Array<number>; answered: number; parser: BatchParser; proc: ReturnType<Git["plumbing"]> }> = []
    const reader = () => {
      const r = { asked: [] as Array<number>, answered: 0 } as (typeof readers)[number]
      r.parser = new BatchParser((_, data) => {
        const e = listed[r.asked[r.answered++]!]!
        if (data && e.mode === "120000") {
          const target = data.toString("utf8")
          const key = keyOfAnnexLink(target)
          // the key decoded again on its own (it ends the target): see RawEntry.linkKey
          const own = key && data.toString("utf8", data.length - Buffer.byteLength(key))
          if (own && own === key) e.linkKey = own
          else e.data = target
        } else if (data) e.data = data.toString("utf8")
        e.waiting = false
        handOn()
      })
      r.proc = this.plumbing(["cat-file", "--batch", "--buffer"], (d) => r.parser.push(d))
      readers.push(r)
      return r
    }
    let chunks = 0
    let wanted: Array<string> = []
    let asking: Array<number> = []
    const listing = new LsTreeParser((e) => {
      // directory markers are read whatever their size: a directory of a few dozen files has a
      // marker over SMALL_BLOB, and without it every file there loses its mtime and writer
      if (e.rawPath) return void listed.push({ path: e.path, mode: e.mode, oid: e.oid, size: e.size, data: undefined, linkKey: undefined, waiting: false, rawPath: e.rawPath })
      // a symlink target past PATH_MAX is no link anything follows: not read (a peer may make it 1 GB)
      const waiting = (e.mode === "120000" && e.size <= MAX_LINK_BYTES) || e.size <= SMALL_BLOB || (baseName(e.path) === DIR_MARKER && e.size <= MAX_MARKER_BYTES)
      listed.push({ path: e.path, mode: e.mode, oid: e.oid, size: e.size, data: undefined, linkKey: undefined, waiting })
      if (waiting) {
        asking.push(listed.length - 1)
        wanted.push(e.oid)
      }
    })
    const ls = this.plumbing(["ls-tree", "-r", "-l", "-z", "--full-tree", commit], (d) => {
      listing.push(d)
      if (wanted.length) {
        const r = readers[chunks++ % 2] ?? reader()
        for (const i of asking) r.asked.push(i)
        r.proc.child.stdin.write(wanted.join("\n") + "\n")
      }
      wanted = []
      asking = []
      handOn()
    })
    const stopReaders = async () => {
      for (const r of readers) r.proc.child.kill()
      await Promise.all(readers.map((r) => r.proc.done.catch(() => undefined)))
    }
    try {
      await ls.done
      if (listing.partial) throw new CommandFailed({ command: "git", args: ["ls-tree", commit], exitCode: 0, stderr: "its output ended in the middle of a record" })
    } catch (e) {
      await stopReaders()
      throw e
    }
    for (const r of readers) r.proc.child.stdin.end()
    try {
      await Promise.all(readers.map((r) => r.proc.done))
    } catch (e) {
      await stopReaders()
      throw e
    }
    for (const r of readers) {
      if (r.parser.partial || r.answered !== r.asked.length) {
        throw new CommandFailed({ command: "git", args: ["cat-file", "--batch"], exitCode: 0, stderr: `answered ${r.answered} of ${r.asked.length} objects` })
      }
    }
    handOn()
    if (next !== listed.length) throw new CommandFailed({ command: "git", args: ["cat-file", "--batch"], exitCode: 0, stderr: "an object asked for was never answered" })
    return builder.finish(await time)
  }

  /**
   * A plumbing process whose output goes to `onData` chunk by chunk. `done` fails with its stderr
   * on a non-zero exit, or with what `onData` threw (the process is killed then).
   */
  private plumbing(args: ReadonlyArray<string>, onData: (chunk: Buffer) => void): { child: ChildProcessWithoutNullStreams; done: Promise<void> } {
    const child = spawn("git", ["-C", this.top, ...args], { stdio: ["pipe", "pipe", "pipe"], env: gitEnv() })
    const err: Array<Buffer> = []
    let failed: unknown
    child.stdout.on("data", (d: Buffer) => {
      if (failed !== undefined) return
      try {
        onData(d)
      } catch (e) {
        failed = e
        child.kill()
      }
    })
    child.stderr.on("data", (d: Buffer) => err.push(d))
    child.stdin.on("error", () => {})
    const done = new Promise<void>((resolve, reject) => {
      child.on("error", (e) => reject(new CommandFailed({ command: "git", args, exitCode: null, stderr: e.message })))
      child.on("close", (code) => {
        if (failed !== undefined) reject(failed)
        else if (code === 0) resolve()
        else reject(new CommandFailed({ command: "git", args, exitCode: code, stderr: Buffer.concat(err).toString("utf8") }))
      })
    })
    done.catch(() => undefined) // awaited by the caller, maybe only after another process
    return { child, done }
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
    // restages such files itself; read-tree runs no hooks, so do what `git checkout` would.
    // A change of only symlinks (locked files, links) and directory markers needs none of it, nor
    // git-annex's filter (markers are never pointers): read-tree checks and writes only the paths
    // that change, and each git-annex process costs its start-up and a scan of the index.
    const plain = await this.changesOnlyLinksAndMarkers(from, to)
    const readTree = plain ? ["-c", "filter.annex.process=", "-c", "filter.annex.smudge=", "-c", "filter.annex.clean=", "read-tree"] : ["read-tree"]
    if (from) {
      if (!plain) await this.run(["annex", "restage"])
      await this.checkIndex([...readTree, "-m", "-u", from, to])
    } else await this.checkIndex([...readTree, "-u", "--reset", to])
    if (!plain) {
      await this.run(["annex", "smudge", "--update"])
      await this.run(["annex", "restage"])
    }
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
