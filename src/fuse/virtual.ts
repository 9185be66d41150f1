/**
 * `.sharebox/` at the mount root: virtual, read-only, never synced.
 *   gitdir      the absolute path of the gitdir (how commands find it from a mountpoint)
 *   status      a short human-readable status
 *   conflicts   one line per open conflict: PATH<TAB>COPY
 *   history/    the tree of every path that ever had content, deleted ones included; each file is a
 *               directory holding one read-only file per version, named to sort oldest first
 *   at/         the whole tree at any past moment (at.ts)
 */
import * as fs from "node:fs"
import { keySize } from "../domain/key.js"
import { VIRTUAL_ROOT, ancestorsOf, baseName, joinPath, parentOf } from "../domain/paths.js"
import { versionFileName } from "../domain/retention.js"
import type { FileNode } from "../domain/tree.js"
import { AtDir } from "./at.js"
import { E } from "./errno.js"
import type { Answer, Outcome, Owner, Stat } from "./native.js"
import type { Content, HistoryVersion, HostStatus, PastStates, Versions } from "./ports.js"

const HISTORY = "history"
const AT = "at"

/** The history as directories: dir -> names, and version file -> version. */
interface HistoryIndex {
  readonly head: string | undefined
  readonly dirs: Map<string, Set<string>>
  readonly files: Map<string, { readonly path: string; readonly version: HistoryVersion }>
}

const buildIndex = (head: string | undefined, history: ReadonlyMap<string, ReadonlyArray<HistoryVersion>>): HistoryIndex => {
  const dirs = new Map<string, Set<string>>([["", new Set()]])
  const files = new Map<string, { path: string; version: HistoryVersion }>()
  const addDir = (d: string) => {
    if (dirs.has(d)) return
    dirs.set(d, new Set())
    addDir(parentOf(d))
    dirs.get(parentOf(d))!.add(baseName(d))
  }
  for (const [path, versions] of history) {
    const withContent = versions.filter((v) => !v.deleted)
    if (withContent.length === 0) continue
    for (const a of ancestorsOf(path)) addDir(a)
    addDir(path)
    for (const v of withContent) {
      const name = versionFileName(v, baseName(path))
      dirs.get(path)!.add(name)
      files.set(joinPath(path, name), { path, version: v })
    }
  }
  return { head, dirs, files }
}

/** What the virtual folder shows, and how it opens a file. */
export interface VirtualSources {
  readonly status: HostStatus
  readonly versions: Versions
  readonly past: PastStates
  readonly content: Content
  /** how the kernel's passthrough of reads is doing */
  readonly kernelReads: () => string
  /** how many new files the binding created since mount */
  readonly createdInBinding: () => number
  /** the requests served since mount, other than this folder's (the write-back waits while they come) */
  readonly served: () => number
  /** how many paths are kept on this host only (.shareboxignore) */
  readonly ignoredHere: () => number
  /** registers an open file descriptor as a FUSE handle */
  readonly register: (fd: number) => number
  /** whose the files are, as the tree's show it */
  readonly owner: Owner
}

export class VirtualDir {
  readonly name = VIRTUAL_ROOT
  private readonly started = new Date()
  private index: HistoryIndex | undefined
  private readonly at: AtDir

  constructor(private readonly from: VirtualSources) {
    this.at = new AtDir({
      past: from.past,
      content: from.content,
      register: from.register,
      owner: from.owner,
      now: Date.now,
      offsetAt: (ms) => -new Date(ms).getTimezoneOffset()
    })
  }

  owns(p: string): boolean {
    return p === VIRTUAL_ROOT || p.startsWith(VIRTUAL_ROOT + "/")
  }

  private files(): Record<string, () => string> {
    const { status: h, kernelReads, createdInBinding, served, ignoredHere } = this.from
    return {
      gitdir: () => h.gitdir + "\n",
      status: () =>
        [
          `gitdir: ${h.gitdir}`,
          `pending: ${h.pending.length}`,
          `open files: ${h.sessions.size}`,
          `files created by the binding since mount: ${createdInBinding()}`,
          `requests served since mount: ${served()}`,
          `reads by the kernel (passthrough): ${kernelReads()}`,
          `last sync: ${h.lastSync ? new Date(h.lastSync.time).toISOString() : "never"}`,
          `conflicts: ${h.openConflicts().length}`,
          `ignored: ${ignoredHere()}`,
          ""
        ].join("\n"),
      conflicts: () => h.openConflicts().map((c) => `${c.path}\t${c.copy}\n`).join("")
    }
  }

  private content(p: string): Buffer | undefined {
    const f = this.files()[p.slice(VIRTUAL_ROOT.length + 1)]
    return f ? Buffer.from(f(), "utf8") : undefined
  }

  /** Path inside history/ ("" for history/ itself), or undefined when p is not under it. */
  private historyPath(p: string): string | undefined {
    return this.pathIn(HISTORY, p)
  }

  /** Path inside `.sharebox/DIR/` ("" for the folder itself), or undefined when p is not under it. */
  private pathIn(dir: string, p: string): string | undefined {
    const prefix = `${VIRTUAL_ROOT}/${dir}`
    if (p === prefix) return ""
    return p.startsWith(prefix + "/") ? p.slice(prefix.length + 1) : undefined
  }

  private async historyIndex(): Promise<HistoryIndex> {
    const { versions } = this.from
    if (!this.index || this.index.head !== versions.head) {
      const head = versions.head
      this.index = buildIndex(head, await versions.history())
    }
    return this.index
  }

  private common() {
    const { uid, gid } = this.from.owner
    return { uid, gid, mtime: this.started, atime: this.started, ctime: this.started }
  }

  /** Read-only, less the mount's umask, as the tree's modes. */
  private mode(type: "dir" | "file"): number {
    return (type === "dir" ? 0o40555 : 0o100444) & ~this.from.owner.umask
  }

  getattr(p: string): Answer<Stat> {
    const common = this.common()
    if (p === VIRTUAL_ROOT) return { ...common, mode: this.mode("dir"), nlink: 2, size: 4096 }
    const ap = this.pathIn(AT, p)
    if (ap !== undefined) return this.at.getattr(ap, () => ({ ...common, mode: this.mode("dir"), nlink: 2, size: 4096 }))
    const hp = this.historyPath(p)
    if (hp !== undefined) {
      return this.historyIndex().then(
        (ix): Outcome<Stat> => {
          if (ix.dirs.has(hp)) return { ...common, mode: this.mode("dir"), nlink: 2, size: 4096 }
          const f = ix.files.get(hp)
          if (!f) return E.ENOENT
          const v = f.version
          const size = v.key ? keySize(v.key) : v.size
          const present = v.key ? this.from.content.isPresent(v.key) : true
          const t = new Date(v.time)
          return { ...common, mtime: t, atime: t, ctime: t, mode: this.mode("file"), nlink: 1, size, blocks: present ? Math.ceil(size / 512) : 0 }
        },
        () => E.EIO
      )
    }
    const c = this.content(p)
    if (!c) return E.ENOENT
    return { ...common, mtime: new Date(), mode: this.mode("file"), nlink: 1, size: c.length }
  }

  readdir(p: string): Answer<ReadonlyArray<string>> {
    if (p === VIRTUAL_ROOT) return [...Object.keys(this.files()), HISTORY, AT]
    const ap = this.pathIn(AT, p)
    if (ap !== undefined) return this.at.readdir(ap)
    const hp = this.historyPath(p)
    if (hp === undefined) return E.ENOTDIR
    return this.historyIndex().then(
      (ix) => {
        const d = ix.dirs.get(hp)
        if (!d) return ix.files.has(hp) ? E.ENOTDIR : E.ENOENT
        return [...d].sort()
      },
      () => E.EIO
    )
  }

  /** A handle (0 for the status files, read from memory), or an errno. */
  open(p: string, flags: number, writes: boolean): Answer<number> {
    const ap = this.pathIn(AT, p)
    if (ap !== undefined) return this.at.open(ap, writes)
    if ((flags & 3) !== 0) return E.EACCES
    const hp = this.historyPath(p)
    if (hp !== undefined) {
      return this.historyIndex().then(
        async (ix) => {
          const f = ix.files.get(hp)
          if (!f) return ix.dirs.has(hp) ? E.EISDIR : E.ENOENT
          const v = f.version
          const node: FileNode = {
            type: "file",
            content: v.key ? { kind: "key", key: v.key } : { kind: "blob", oid: v.oid!, size: v.size },
            executable: false,
            mtime: v.time
          }
          try {
            const file = await this.from.content.contentFile(f.path, node)
            return await new Promise<number>((resolve) => fs.open(file, "r", (err, fd) => resolve(err ? E.EIO : this.from.register(fd))))
          } catch {
            return E.EIO
          }
        },
        () => E.EIO
      )
    }
    if (!this.content(p)) return p === VIRTUAL_ROOT ? E.EISDIR : E.ENOENT
    return 0
  }

  /** A symlink's target (only `at/` holds symlinks), or an errno. */
  readlink(p: string): Answer<string> {
    const ap = this.pathIn(AT, p)
    if (ap !== undefined) return this.at.readlink(ap)
    return this.getattr(p) === E.ENOENT ? E.ENOENT : E.EINVAL
  }

  /** The byte count, or an errno. */
  read(p: string, buf: Buffer, len: number, pos: number): number {
    const c = this.content(p)
    if (!c) return E.ENOENT
    if (pos >= c.length) return 0
    return c.copy(buf, 0, pos, Math.min(c.length, pos + len))
  }
}
