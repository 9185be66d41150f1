/**
 * `.sharebox/` at the mount root: virtual, read-only, never synced.
 *   gitdir     the absolute path of the gitdir (how commands find it from a mountpoint)
 *   status     a short human-readable status
 *   conflicts  one line per conflict this daemon has seen: PATH<TAB>COPY
 */
import { VIRTUAL_ROOT } from "../domain/paths.js"
import type { Host } from "../effects/host.js"
import { E } from "./errno.js"

type Cb = (err: number, ...rest: Array<any>) => void

export class VirtualDir {
  readonly name = VIRTUAL_ROOT
  private readonly started = new Date()

  constructor(private readonly host: Host) {}

  owns(p: string): boolean {
    return p === VIRTUAL_ROOT || p.startsWith(VIRTUAL_ROOT + "/")
  }

  private files(): Record<string, () => string> {
    const h = this.host
    return {
      gitdir: () => h.gitdir + "\n",
      status: () =>
        [
          `gitdir: ${h.gitdir}`,
          `pending: ${h.pending.length}`,
          `open files: ${h.sessions.size}`,
          `last sync: ${h.lastSync ? new Date(h.lastSync.time).toISOString() : "never"}`,
          `conflicts: ${h.conflicts.length}`,
          ""
        ].join("\n"),
      conflicts: () => h.conflicts.map((c) => `${c.path}\t${c.copy}\n`).join("")
    }
  }

  private content(p: string): Buffer | undefined {
    const f = this.files()[p.slice(VIRTUAL_ROOT.length + 1)]
    return f ? Buffer.from(f(), "utf8") : undefined
  }

  getattr(p: string, cb: Cb): void {
    const common = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, mtime: this.started, atime: this.started, ctime: this.started }
    if (p === VIRTUAL_ROOT) return cb(0, { ...common, mode: 0o40555, nlink: 2, size: 4096 })
    const c = this.content(p)
    if (!c) return cb(E.ENOENT)
    cb(0, { ...common, mtime: new Date(), mode: 0o100444, nlink: 1, size: c.length })
  }

  readdir(p: string, cb: Cb): void {
    if (p !== VIRTUAL_ROOT) return cb(E.ENOTDIR)
    cb(0, Object.keys(this.files()))
  }

  open(p: string, flags: number, cb: Cb): void {
    if (!this.content(p)) return cb(p === VIRTUAL_ROOT ? E.EISDIR : E.ENOENT)
    if ((flags & 3) !== 0) return cb(E.EACCES)
    cb(0, 0)
  }

  read(p: string, buf: Buffer, len: number, pos: number, cb: Cb): void {
    const c = this.content(p)
    if (!c) return cb(E.ENOENT)
    if (pos >= c.length) return cb(0)
    cb(c.copy(buf, 0, pos, Math.min(c.length, pos + len)))
  }
}
