/**
 * Paths crossing between the shared tree and this host's own folder (local.ts), so that no content
 * is lost on any host when a rule or a name changes (docs/layout.md, "Paths kept on this host"):
 *
 * - the rules are read from the view's `.shareboxignore` files when the view is replaced or one of
 *   them is written, renamed or removed here, and compiled once;
 * - a shared path that a new rule ignores is copied here and removed from the shared tree (its
 *   history stays); a host that sees a peer remove a path its rules ignore keeps its own copy of
 *   the content it had;
 * - a path of this host's that no rule ignores any more becomes a shared file again (a write);
 * - a rename from an ignored name to a shared one is a write of the content; the other way, a
 *   removal and a copy here.
 */
import * as fs from "node:fs"
import { type RuleFile, MAX_IGNORE_BYTES, compileRules, ruleFileDir } from "../domain/ignore.js"
import { keySize } from "../domain/key.js"
import { joinPath, parentOf } from "../domain/paths.js"
import { KEPT_MODE, type Node, type Tree, dirMode, fileMode } from "../domain/tree.js"
import type { FuseContext } from "./context.js"
import * as directories from "./directories.js"
import { E } from "./errno.js"
import { type LocalStore, sysErrno } from "./local.js"

/** An answer that may be a promise, awaited. */
const settled = async (a: number | Promise<number>): Promise<number> => a

/** How long rules must hold before the paths they change move (see moveSoon). */
export const MOVE_QUIET_MS = 1500

const sizeOf = (n: Node): number => (n.type !== "file" ? 0 : n.content.kind === "key" ? keySize(n.content.key) : n.content.size)

export class Crossing {
  private loading: Promise<void> = Promise.resolve()
  private moveTimer: NodeJS.Timeout | undefined
  private rulesText = ""
  private readonly warned = new Set<string>()
  /** the rule files' texts as last read, by folder */
  private texts = new Map<string, string>()
  /** the texts of committed rule files, by path, with the key or blob they were read from */
  private readonly committed = new Map<string, { id: string; text: string }>()
  /** a move waits for a file open for writing: the last close moves it (released) */
  private deferred = false

  constructor(
    private readonly cx: FuseContext,
    private readonly local: LocalStore,
    private readonly log: (line: string) => void,
    /** -o ro: nothing is recorded, so shared paths stay where they are */
    private readonly readonly = false
  ) {}

  /**
   * A rule file was written, renamed or removed here: its rules hold from the next call on (a
   * written file's text is in its staging file, read at once), and the moves follow.
   */
  ruleChanged(p: string): void {
    const dir = ruleFileDir(p)
    if (dir === undefined) return
    const n = this.cx.views.view.get(p)
    if (!n || n.type !== "file") this.texts.delete(dir)
    else {
      const s = this.cx.staging.sessionByPath.get(p)
      const id = s ? s.id : n.content.kind === "staged" ? n.content.id : undefined
      const text = id === undefined ? undefined : this.readNow(this.cx.staging.stagingFile(id))
      if (text !== undefined) this.texts.set(dir, text)
    }
    this.local.rules = compileRules([...this.texts].map(([d, text]) => ({ dir: d, text })))
    void this.reload()
  }

  private readNow(file: string): string | undefined {
    try {
      const fd = fs.openSync(file, "r")
      try {
        const buf = Buffer.alloc(MAX_IGNORE_BYTES + 1)
        const got = fs.readSync(fd, buf, 0, buf.length, 0)
        // bytes that are not UTF-8 read as U+FFFD, which no name holds: such a rule matches nothing
        return buf.subarray(0, got).toString("utf8")
      } finally {
        fs.closeSync(fd)
      }
    } catch {
      return undefined
    }
  }

  /** Reads the rules again (after the current load), then moves what they move. */
  reload(before?: Tree): Promise<void> {
    this.loading = this.loading.then(
      () => this.load(before),
      () => this.load(before)
    )
    return this.loading.catch((e: unknown) => this.log(`.shareboxignore: ${(e as Error)?.message ?? String(e)}`))
  }

  private async load(before: Tree | undefined): Promise<void> {
    const view = this.cx.views.view
    const files: Array<RuleFile> = []
    for (const [p, n] of view.entries()) {
      const dir = ruleFileDir(p)
      if (dir === undefined || n.type !== "file") continue
      // a rule file open for writing holds what it held until it is closed (ruleChanged)
      const open = this.cx.staging.sessionByPath.has(p) && this.texts.has(dir)
      const text = open ? this.texts.get(dir) : await this.readRules(p, n)
      if (text !== undefined) files.push({ dir, text })
    }
    files.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0))
    const key = JSON.stringify(files)
    const changed = key !== this.rulesText
    if (changed) {
      this.rulesText = key
      this.texts = new Map(files.map((f) => [f.dir, f.text]))
      this.local.rules = compileRules(files)
      for (const r of this.local.rules.refused) this.warnOnce(`${joinPath(r.dir, ".shareboxignore")} is not used: ${r.reason}`)
      this.moveSoon()
    }
    if (before && !this.local.rules.empty) await this.keepRemoved(before)
  }

  /**
   * Moves what the rules changed, once they have held for MOVE_QUIET_MS: an editor's save (an
   * empty file, then its text) must not share a whole ignored folder for a moment.
   */
  private moveSoon(): void {
    if (this.readonly) return
    if (this.moveTimer) clearTimeout(this.moveTimer)
    this.moveTimer = setTimeout(() => {
      this.moveTimer = undefined
      this.loading = this.loading.then(() => this.move()).catch((e: unknown) => this.log(`.shareboxignore: ${(e as Error)?.message ?? String(e)}`))
    }, MOVE_QUIET_MS)
    this.moveTimer.unref()
  }

  private async move(): Promise<void> {
    this.deferred = false
    await this.exportIgnored()
    await this.importUnignored()
  }

  /** A file open for writing was closed: the moves that waited for it are made. */
  released(): void {
    // a move already waiting is not put off again: a program closing files all the time would hold it back
    if (this.deferred && !this.moveTimer) this.moveSoon()
  }

  /** Shared `p`, or a file below it, is open for writing. */
  writingShared(p: string): boolean {
    for (const q of this.cx.staging.sessionByPath.keys()) if (q === p || q.startsWith(p + "/")) return true
    return false
  }

  /** This host's `p`, or a file below it, is open for writing (the descriptors' paths, renames and all). */
  writingHere(p: string): boolean {
    const writers = this.cx.handles.localWriters()
    if (writers.length === 0) return false
    let real: string
    try {
      real = fs.realpathSync(this.local.file(p))
    } catch {
      return false
    }
    for (const fd of writers) {
      let at: string
      try {
        at = fs.readlinkSync(`/proc/self/fd/${fd}`)
      } catch {
        continue
      }
      if (at === real || at.startsWith(real + "/")) return true
    }
    return false
  }

  /** Ends the moves not begun (the mount is going). */
  close(): void {
    if (this.moveTimer) clearTimeout(this.moveTimer)
  }

  private warnOnce(line: string): void {
    if (this.warned.has(line)) return
    this.warned.add(line)
    this.log(line)
  }

  /** A rule file's text, at most MAX_IGNORE_BYTES and one more (a bigger one is refused unread). */
  private async readRules(p: string, n: Node & { type: "file" }): Promise<string | undefined> {
    if (sizeOf(n) > MAX_IGNORE_BYTES) return "#".repeat(MAX_IGNORE_BYTES + 1)
    // a committed version's text does not change: read once (every replaced view asks again)
    const id = n.content.kind === "key" ? n.content.key : n.content.kind === "blob" ? n.content.oid : undefined
    const cached = id === undefined ? undefined : this.committed.get(p)
    if (cached && cached.id === id) return cached.text
    const text = await this.readContent(p, n)
    if (id !== undefined && text !== undefined) this.committed.set(p, { id, text })
    return text
  }

  private async readContent(p: string, n: Node & { type: "file" }): Promise<string | undefined> {
    try {
      const s = this.cx.staging.sessionByPath.get(p)
      const file = s ? this.cx.staging.stagingFile(s.id) : await this.cx.content.contentFile(p, n)
      const text = this.readNow(file)
      if (text === undefined) throw new Error(`cannot read ${file}`)
      return text
    } catch (e: unknown) {
      this.warnOnce(`${p}: its rules are not read (${(e as Error)?.message ?? String(e)})`)
      return undefined
    }
  }

  /** Shared paths the rules now ignore: the topmost of each kept here and removed from the tree. */
  private async exportIgnored(): Promise<void> {
    const view = this.cx.views.view
    const ignored = new Set<string>()
    for (const [p, n] of view.entries()) if (this.local.ignored(p, n.type === "dir")) ignored.add(p)
    for (const p of [...ignored].sort()) {
      if (ignored.has(parentOf(p)) || !this.cx.views.view.has(p)) continue
      if (this.writingShared(p)) {
        this.deferred = true
        continue
      }
      const own = this.ownBelow(p)
      if (own !== undefined) {
        this.warnOnce(`${p} is ignored but stays shared: this host keeps its own ${own} (in ${this.local.root}), which it would replace`)
        continue
      }
      const r = await this.toLocal(p, p)
      if (r !== 0) this.log(`${p} is ignored but stays shared: it could not be kept here (errno ${-r})`)
    }
  }

  /** A path of this host's own at shared `p` or below it, other than a folder matching a shared folder. */
  private ownBelow(p: string): string | undefined {
    const view = this.cx.views.view
    // a path kept here has its folders here too: nothing here at p, nothing below it
    if (!this.local.paths().has(p)) return undefined
    if (!(view.isDir(p) && this.local.isDir(p))) return p
    for (const c of view.list(p)) {
      const own = this.ownBelow(joinPath(p, c))
      if (own !== undefined) return own
    }
    return undefined
  }

  /** Paths of this host's that no rule ignores now, under a shared folder: shared again. */
  private async importUnignored(): Promise<void> {
    for (const p of [...this.local.paths()].sort()) {
      if (!this.local.serves(p)) continue
      const parent = parentOf(p)
      if (parent !== "" && !this.cx.views.view.isDir(parent)) continue
      if (this.local.ignored(p, this.local.isDir(p))) continue
      if (this.writingHere(p)) {
        this.deferred = true
        continue
      }
      const r = await this.toShared(p, p)
      if (r !== 0) this.log(`${p} is no longer ignored but stays on this host: it could not be shared (errno ${-r})`)
    }
  }

  /**
   * A peer removed paths the rules ignore (it moved them to its own folder, as this host does):
   * the content this host has of them is kept here.
   */
  private async keepRemoved(before: Tree): Promise<void> {
    const view = this.cx.views.view
    const gone: Array<[string, Node]> = []
    for (const [p, n] of before.entries()) {
      if (!view.has(p) && !this.local.paths().has(p) && this.local.ignored(p, n.type === "dir")) gone.push([p, n])
    }
    gone.sort((a, b) => (a[0] < b[0] ? -1 : 1))
    for (const [p, n] of gone) {
      if (!this.local.contained(p)) {
        this.log(`${p}: removed by a peer and ignored here, but not kept: a symlink in ${this.local.root} is in its way`)
        continue
      }
      try {
        if (n.type === "dir") {
          if (this.local.mkdir(p, dirMode(n)) !== 0 && !this.local.isDir(p)) continue
        } else if (n.type === "symlink") this.local.symlink(n.target, p)
        else {
          if (n.content.kind === "key" && !this.cx.content.isPresent(n.content.key)) continue // never here: nothing to keep
          if (n.content.kind === "staged") continue
          await this.copyFile(await this.cx.content.contentFile(p, n), p, fileMode(n), n.mtime)
        }
      } catch (e: unknown) {
        this.log(`${p}: removed by a peer and ignored here, but not kept (${(e as Error)?.message ?? String(e)})`)
      }
    }
  }

  private async copyFile(src: string, to: string, mode: number, mtime: number): Promise<void> {
    this.local.parents(to)
    const dest = this.local.file(to)
    await fs.promises.copyFile(src, dest, fs.constants.COPYFILE_FICLONE)
    await fs.promises.chmod(dest, mode & KEPT_MODE)
    await fs.promises.utimes(dest, mtime / 1000, mtime / 1000)
    this.local.added(to)
  }

  /** Shared `from` becomes this host's `to`: copied here, then removed from the tree. */
  async toLocal(from: string, to: string): Promise<number> {
    try {
      await this.copyOut(from, to)
    } catch (e: unknown) {
      return sysErrno(e)
    }
    return this.removeShared(from)
  }

  private async copyOut(from: string, to: string): Promise<void> {
    const n = this.cx.views.view.get(from)
    if (!n) return
    if (n.type === "dir") {
      const made = this.local.mkdir(to, dirMode(n))
      if (made !== 0 && !this.local.isDir(to)) throw Object.assign(new Error(`mkdir ${to}`), { code: "EIO" })
      for (const c of [...this.cx.views.view.list(from)]) await this.copyOut(joinPath(from, c), joinPath(to, c))
    } else if (n.type === "symlink") {
      if (this.local.symlink(n.target, to) !== 0) throw Object.assign(new Error(`symlink ${to}`), { code: "EIO" })
    } else {
      const s = this.cx.staging.sessionByPath.get(from)
      if (s) this.cx.staging.pullWrites(s)
      const src = s ? this.cx.staging.stagingFile(s.id) : await this.cx.content.contentFile(from, n)
      await this.copyFile(src, to, fileMode(n), n.mtime)
    }
  }

  private async removeShared(p: string): Promise<number> {
    const n = this.cx.views.view.get(p)
    if (!n) return 0
    if (n.type !== "dir") return settled(directories.unlink(this.cx, p))
    for (const c of [...this.cx.views.view.list(p)]) {
      const r = await this.removeShared(joinPath(p, c))
      if (r !== 0) return r
    }
    return settled(directories.rmdir(this.cx, p))
  }

  /** This host's `from` becomes shared `to`: written to the tree, then removed here. What the rules still ignore below a folder stays here. */
  async toShared(from: string, to: string): Promise<number> {
    let st: fs.Stats
    try {
      st = fs.lstatSync(this.local.file(from))
    } catch (e: unknown) {
      return sysErrno(e)
    }
    if (st.isDirectory()) {
      if (!this.cx.views.view.isDir(to)) {
        const r = await settled(directories.mkdir(this.cx, to, st.mode & KEPT_MODE))
        if (r !== 0) return r
      }
      for (const c of this.local.list(from)) {
        const f = joinPath(from, c)
        const t = joinPath(to, c)
        const isDir = this.local.isDir(f)
        const r = this.local.ignored(t, isDir) ? (f === t ? 0 : this.local.rename(f, t)) : await this.toShared(f, t)
        if (r !== 0) return r
      }
      if (this.local.list(from).length === 0) this.local.rmdir(from)
      return 0
    }
    if (st.isSymbolicLink()) {
      const r = await settled(directories.symlink(this.cx, fs.readlinkSync(this.local.file(from)), to))
      return r === 0 ? this.local.unlink(from) : r
    }
    if (!st.isFile()) return E.EPERM
    const s = await this.cx.staging.openSession(to, true, st.mode & KEPT_MODE)
    try {
      await fs.promises.copyFile(this.local.file(from), this.cx.staging.stagingFile(s.id))
      this.cx.staging.touchSession(s, st.size)
      s.mtime = Math.trunc(st.mtimeMs)
      await this.cx.staging.flushSession(s)
    } finally {
      await this.cx.staging.releaseSession(s)
    }
    this.cx.times.created(to)
    return this.local.unlink(from)
  }
}
