/**
 * Paths kept on this host only (`.shareboxignore`, src/domain/ignore.ts): a real folder of this
 * host's (`.git/sharebox/local/`, docs/layout.md) that the mount serves for them as a plain
 * directory would. Nothing here reaches the journal, the view, git or a peer.
 *
 * The folder mirrors the mount's paths: `node_modules/x.js` is `local/node_modules/x.js`. A folder
 * of the view holding local files has a folder of the same name here (a shadow: the view's shows).
 * Every call is synchronous (these are the hot paths of the files they serve), and the compiled
 * rules are kept until a rule file changes (crossing.ts reloads them).
 */
import * as fs from "node:fs"
import { constants } from "node:os"
import * as path from "node:path"
import { type IgnoreRules, compileRules } from "../domain/ignore.js"
import { parentOf } from "../domain/paths.js"
import type { Tree } from "../domain/tree.js"
import { inodeOf } from "./attributes.js"
import { E } from "./errno.js"
import type { Stat } from "./native.js"

const UTIME_OMIT = 0xfffffffffffff
const UTIME_NOW = 0xffffffffffffe
const O_ACCMODE = 3
const O_TRUNC = 0o1000

/** A failed system call's errno, negated. */
export const sysErrno = (e: unknown): number => {
  const code = (e as { code?: string } | undefined)?.code
  const n = code ? (constants.errno as Record<string, number | undefined>)[code] : undefined
  return n ? -n : E.EIO
}

/** Runs `f`, answering its failure's errno. */
const sys = <T>(f: () => T): T | number => {
  try {
    return f()
  } catch (e: unknown) {
    return sysErrno(e)
  }
}

export class LocalStore {
  /** the rules in force; none until the first load */
  rules: IgnoreRules = compileRules([])
  /** every path the folder holds (shadow folders too), for the names table and the status */
  private readonly known = new Set<string>()
  /** told of each path made here, so the binding's lookups ask for it (mount.ts) */
  names: { add(p: string): void } = { add: () => undefined }

  constructor(
    readonly root: string,
    private readonly view: () => Tree
  ) {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 })
    this.walk("")
  }

  private walk(dir: string): void {
    let entries: Array<fs.Dirent>
    try {
      entries = fs.readdirSync(this.file(dir), { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = dir === "" ? e.name : `${dir}/${e.name}`
      this.known.add(p)
      if (e.isDirectory()) this.walk(p)
    }
  }

  /** The real file of mount path `p`. */
  file(p: string): string {
    return p === "" ? this.root : path.join(this.root, p)
  }

  /**
   * Whether `p` stays inside this folder: neither it nor a folder above it here is a symlink. The
   * daemon's own writes (keeping what a peer removed) were resolved by no kernel lookup, and must
   * not follow a link a user made here out of the folder.
   */
  contained(p: string): boolean {
    const parts = p.split("/")
    let at = this.root
    for (const part of parts) {
      at = path.join(at, part)
      try {
        if (fs.lstatSync(at).isSymbolicLink()) return false
      } catch {
        return true // not there: it will be made a folder or a file here
      }
    }
    return true
  }

  /** Every path held here. */
  paths(): ReadonlySet<string> {
    return this.known
  }

  /** How many paths are kept here, shadow folders left out. */
  count(): number {
    const view = this.view()
    let n = 0
    for (const p of this.known) if (!view.isDir(p)) n++
    return n
  }

  ignored(p: string, isDir: boolean): boolean {
    return !this.rules.empty && this.rules.test(p, isDir)
  }

  /** The path exists here and not in the view: every operation on it is served here. */
  serves(p: string): boolean {
    return this.known.has(p) && !this.view().has(p)
  }

  /** A new name at `p` is made here: it is ignored, or its folder is one of this host's only. */
  takesNew(p: string, isDir: boolean): boolean {
    if (this.view().has(p)) return false
    if (this.ignored(p, isDir)) return true
    const parent = parentOf(p)
    return parent !== "" && this.serves(parent)
  }

  /** Notes a path made here (and its shadow folders). */
  added(p: string): void {
    for (let q = p; q !== "" && !this.known.has(q); q = parentOf(q)) {
      this.known.add(q)
      this.names.add(q)
    }
  }

  /** Forgets `p` (an empty folder or not one). */
  removed(p: string): void {
    this.known.delete(p)
    this.prune(parentOf(p))
  }

  /** Forgets `p` and everything below it: one pass over the paths, for renames of folders. */
  private removedTree(p: string): void {
    const prefix = p + "/"
    for (const q of this.known) if (q.startsWith(prefix)) this.known.delete(q)
    this.removed(p)
  }

  /** Removes empty shadow folders above a removal (a folder of this host's own stays). */
  private prune(dir: string): void {
    for (let d = dir; d !== "" && this.view().isDir(d) && this.known.has(d); d = parentOf(d)) {
      try {
        fs.rmdirSync(this.file(d))
      } catch {
        return
      }
      this.known.delete(d)
    }
  }

  /** Makes the folders above `p` here, shadows of the view's. */
  parents(p: string): void {
    const parent = parentOf(p)
    if (parent === "" || this.known.has(parent)) return
    fs.mkdirSync(this.file(parent), { recursive: true, mode: 0o755 })
    this.added(parent)
  }

  stat(p: string, owner: { uid: number; gid: number; umask: number }): Stat | number {
    return sys(() => {
      const s = fs.lstatSync(this.file(p))
      return {
        mode: s.mode & ~owner.umask,
        uid: owner.uid,
        gid: owner.gid,
        size: s.size,
        blocks: s.blocks,
        blksize: 4096,
        nlink: s.isDirectory() ? 2 : 1,
        ino: inodeOf(p),
        atime: s.atimeMs,
        mtime: s.mtimeMs,
        ctime: s.ctimeMs
      }
    })
  }

  isDir(p: string): boolean {
    try {
      return fs.lstatSync(this.file(p)).isDirectory()
    } catch {
      return false
    }
  }

  /** The names in folder `p` here (none when there is no such folder). */
  list(p: string): Array<string> {
    try {
      return fs.readdirSync(this.file(p))
    } catch {
      return []
    }
  }

  readlink(p: string): string | number {
    return sys(() => fs.readlinkSync(this.file(p)))
  }

  /** A descriptor of `p` opened as asked (access mode and O_TRUNC), or an errno. */
  open(p: string, flags: number): number {
    return sys(() => fs.openSync(this.file(p), flags & (O_ACCMODE | O_TRUNC)))
  }

  create(p: string, mode: number): number {
    return sys(() => {
      this.parents(p)
      const fd = fs.openSync(this.file(p), fs.constants.O_CREAT | fs.constants.O_RDWR, mode & 0o1777)
      this.added(p)
      return fd
    })
  }

  /** Takes in a file the binding created in the staging folder: it moves here, its descriptor with it. */
  adopt(p: string, staged: string, fd: number, mode: number): void {
    this.parents(p)
    fs.renameSync(staged, this.file(p))
    fs.fchmodSync(fd, mode & 0o1777)
    this.added(p)
  }

  truncate(p: string, size: number): number {
    return sys(() => fs.truncateSync(this.file(p), size)) ?? 0
  }

  mkdir(p: string, mode: number): number {
    return (
      sys(() => {
        this.parents(p)
        fs.mkdirSync(this.file(p), mode & 0o1777)
        this.added(p)
      }) ?? 0
    )
  }

  rmdir(p: string): number {
    const r = sys(() => fs.rmdirSync(this.file(p)))
    if (r === undefined) this.removed(p)
    return r ?? 0
  }

  unlink(p: string): number {
    const r = sys(() => fs.unlinkSync(this.file(p)))
    if (r === undefined) this.removed(p)
    return r ?? 0
  }

  symlink(target: string, p: string): number {
    return (
      sys(() => {
        this.parents(p)
        fs.symlinkSync(target, this.file(p))
        this.added(p)
      }) ?? 0
    )
  }

  /** A rename within this host's folder. */
  rename(from: string, to: string): number {
    const r = sys(() => {
      this.parents(to)
      fs.renameSync(this.file(from), this.file(to))
    })
    if (r !== undefined) return r
    const moved = [...this.known].filter((q) => q === from || q.startsWith(from + "/"))
    this.removedTree(from)
    this.removedTree(to)
    for (const q of moved) this.added(to + q.slice(from.length))
    return 0
  }

  chmod(p: string, mode: number): number {
    return sys(() => fs.chmodSync(this.file(p), mode & 0o1777)) ?? 0
  }

  utimens(p: string, atime: number, mtime: number): number {
    if (atime === UTIME_OMIT && mtime === UTIME_OMIT) return 0
    return (
      sys(() => {
        const f = this.file(p)
        const s = fs.lstatSync(f)
        const now = Date.now()
        const at = atime === UTIME_OMIT ? s.atimeMs : atime === UTIME_NOW ? now : atime
        const mt = mtime === UTIME_OMIT ? s.mtimeMs : mtime === UTIME_NOW ? now : mtime
        fs.lutimesSync(f, at / 1000, mt / 1000)
      }) ?? 0
    )
  }
}
