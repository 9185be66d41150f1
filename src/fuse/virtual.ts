/**
 * `.sharebox/` at the mount root: virtual, read-only, never synced.
 *   gitdir      the absolute path of the gitdir (how commands find it from a mountpoint)
 *   status      a short human-readable status
 *   conflicts   one line per open conflict: PATH<TAB>COPY
 *   history/    the tree of every path that ever had content, deleted ones included; each file is a
 *               directory holding one read-only file per version, named to sort oldest first
 */
import * as fs from "node:fs"
import { keySize } from "../domain/key.js"
import { VIRTUAL_ROOT, ancestorsOf, baseName, joinPath, parentOf } from "../domain/paths.js"
import { versionFileName } from "../domain/retention.js"
import type { FileNode } from "../domain/tree.js"
import type { History, PathVersion } from "../effects/history.js"
import type { HostServices } from "../effects/hostlayer.js"
import { E } from "./errno.js"

type Cb = (err: number, ...rest: Array<any>) => void

const HISTORY = "history"

/** The history as directories: dir -> names, and version file -> version. */
interface HistoryIndex {
  readonly head: string | undefined
  readonly dirs: Map<string, Set<string>>
  readonly files: Map<string, { readonly path: string; readonly version: PathVersion }>
}

const buildIndex = (head: string | undefined, history: History): HistoryIndex => {
  const dirs = new Map<string, Set<string>>([["", new Set()]])
  const files = new Map<string, { path: string; version: PathVersion }>()
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

export class VirtualDir {
  readonly name = VIRTUAL_ROOT
  private readonly started = new Date()
  private index: HistoryIndex | undefined

  constructor(
    private readonly host: HostServices,
    /** how the kernel's passthrough of reads is doing */
    private readonly kernelReads: () => string,
    /** registers an open file descriptor as a FUSE handle */
    private readonly register: (fd: number) => number
  ) {}

  owns(p: string): boolean {
    return p === VIRTUAL_ROOT || p.startsWith(VIRTUAL_ROOT + "/")
  }

  private files(): Record<string, () => string> {
    const h = this.host
    return {
      gitdir: () => h.repo.gitdir + "\n",
      status: () =>
        [
          `gitdir: ${h.repo.gitdir}`,
          `pending: ${h.views.pending.length}`,
          `open files: ${h.staging.sessions.size}`,
          `files created by the binding since mount: ${h.staging.createdInBinding}`,
          `reads by the kernel (passthrough): ${this.kernelReads()}`,
          `last sync: ${h.syncer.lastSync ? new Date(h.syncer.lastSync.time).toISOString() : "never"}`,
          `conflicts: ${h.syncer.openConflicts().length}`,
          ""
        ].join("\n"),
      conflicts: () => h.syncer.openConflicts().map((c) => `${c.path}\t${c.copy}\n`).join("")
    }
  }

  private content(p: string): Buffer | undefined {
    const f = this.files()[p.slice(VIRTUAL_ROOT.length + 1)]
    return f ? Buffer.from(f(), "utf8") : undefined
  }

  /** Path inside history/ ("" for history/ itself), or undefined when p is not under it. */
  private historyPath(p: string): string | undefined {
    const prefix = `${VIRTUAL_ROOT}/${HISTORY}`
    if (p === prefix) return ""
    return p.startsWith(prefix + "/") ? p.slice(prefix.length + 1) : undefined
  }

  private async historyIndex(): Promise<HistoryIndex> {
    if (!this.index || this.index.head !== this.host.views.head) {
      const head = this.host.views.head
      this.index = buildIndex(head, await this.host.versions.history())
    }
    return this.index
  }

  private common() {
    return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, mtime: this.started, atime: this.started, ctime: this.started }
  }

  getattr(p: string, cb: Cb): void {
    const common = this.common()
    if (p === VIRTUAL_ROOT) return cb(0, { ...common, mode: 0o40555, nlink: 2, size: 4096 })
    const hp = this.historyPath(p)
    if (hp !== undefined) {
      this.historyIndex().then(
        async (ix) => {
          if (ix.dirs.has(hp)) return cb(0, { ...common, mode: 0o40555, nlink: 2, size: 4096 })
          const f = ix.files.get(hp)
          if (!f) return cb(E.ENOENT)
          const v = f.version
          const size = v.key ? keySize(v.key) : v.size
          const present = v.key ? this.host.presence.isPresent(v.key) : true
          const t = new Date(v.time)
          cb(0, { ...common, mtime: t, atime: t, ctime: t, mode: 0o100444, nlink: 1, size, blocks: present ? Math.ceil(size / 512) : 0 })
        },
        () => cb(E.EIO)
      )
      return
    }
    const c = this.content(p)
    if (!c) return cb(E.ENOENT)
    cb(0, { ...common, mtime: new Date(), mode: 0o100444, nlink: 1, size: c.length })
  }

  readdir(p: string, cb: Cb): void {
    if (p === VIRTUAL_ROOT) return cb(0, [...Object.keys(this.files()), HISTORY])
    const hp = this.historyPath(p)
    if (hp === undefined) return cb(E.ENOTDIR)
    this.historyIndex().then(
      (ix) => {
        const d = ix.dirs.get(hp)
        if (!d) return cb(ix.files.has(hp) ? E.ENOTDIR : E.ENOENT)
        cb(0, [...d].sort())
      },
      () => cb(E.EIO)
    )
  }

  open(p: string, flags: number, cb: Cb): void {
    if ((flags & 3) !== 0) return cb(E.EACCES)
    const hp = this.historyPath(p)
    if (hp !== undefined) {
      this.historyIndex().then(
        async (ix) => {
          const f = ix.files.get(hp)
          if (!f) return cb(ix.dirs.has(hp) ? E.EISDIR : E.ENOENT)
          const v = f.version
          const node: FileNode = {
            type: "file",
            content: v.key ? { kind: "key", key: v.key } : { kind: "blob", oid: v.oid!, size: v.size },
            executable: false,
            mtime: v.time
          }
          try {
            const file = await this.host.presence.contentFile(f.path, node)
            fs.open(file, "r", (err, fd) => (err ? cb(E.EIO) : cb(0, this.register(fd))))
          } catch {
            cb(E.EIO)
          }
        },
        () => cb(E.EIO)
      )
      return
    }
    if (!this.content(p)) return cb(p === VIRTUAL_ROOT ? E.EISDIR : E.ENOENT)
    cb(0, 0)
  }

  read(p: string, buf: Buffer, len: number, pos: number, cb: Cb): void {
    const c = this.content(p)
    if (!c) return cb(E.ENOENT)
    if (pos >= c.length) return cb(0)
    cb(c.copy(buf, 0, pos, Math.min(c.length, pos + len)))
  }
}
