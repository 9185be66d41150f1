/**
 * The times a mount shows that git does not keep, all owned here: every path's atime and ctime,
 * and folders' mtimes. They live in the daemon's memory: never journalled, synced or committed,
 * and gone at a remount, where every path starts again with atime = ctime = mtime. A file's or a
 * symlink's mtime is not here: it is its view node's, journalled (writes, utimens) and synced.
 *
 * - ctime moves to now on every change POSIX names: content written (a write session's
 *   `writtenAt`, shown while it is open and kept here at flush and release), chmod, utimens, a
 *   rename (of the node renamed), a name made or removed; and when a peer's change reaches the
 *   view (`viewReplaced`), for each path it changed.
 * - A folder's mtime and ctime move when a name is made, removed or renamed in it, here or by a
 *   peer, and utimens sets its mtime. A folder starts, the first time it is shown, at the newest
 *   mtime of the files and symlinks in it, or the mount's start when it has none.
 * - atime: utimens sets it, and reads move it as the mount's policy says (domain/times.ts). Reads
 *   of an open file are served by the binding on its own threads, or by the kernel, without the
 *   daemon seeing them: the read is counted at the open for reading (and at readdir, readlink and
 *   the reads the handlers serve themselves). An open that reads nothing counts as a read.
 *
 * getattr asks `of` on every stat: one Map lookup.
 */
import { type AtimePolicy, type Times, atimeAfterRead } from "../domain/times.js"
import { joinPath, parentOf } from "../domain/paths.js"
import { type Node, type Tree, fileMode, sameNode } from "../domain/tree.js"
import type { ViewSource, WriteSession } from "./ports.js"

/** What differs from the defaults (atime = ctime = mtime, a folder's mtime as it first shows). */
interface Local {
  atime?: number
  ctime?: number
  /** folders only */
  mtime?: number
}

/**
 * Whether a path's node changed for its owner to see: `sameNode`, except that a replay turning
 * staged content into a key is no change.
 */
const changedNode = (a: Node, b: Node): boolean => {
  if (sameNode(a, b)) return false
  if (a.type !== "file" || b.type !== "file" || (a.content.kind !== "staged" && b.content.kind !== "staged")) return true
  return a.mtime !== b.mtime || fileMode(a) !== fileMode(b)
}

export class LocalTimes {
  private readonly local = new Map<string, Local>()
  /** when this mount started: an empty folder's first mtime */
  private readonly since: number

  constructor(
    private readonly views: ViewSource,
    readonly policy: AtimePolicy,
    readonly now: () => number = Date.now
  ) {
    this.since = now()
  }

  /** What stat shows of `p` (node `n`); `s` is its write session, newer than the node. */
  of(p: string, n: Node, s?: WriteSession): Times {
    const l = this.local.get(p)
    const mtime = n.type !== "dir" ? (s ? s.mtime : n.mtime) : (l?.mtime ?? this.firstMtime(p))
    const ctime = l?.ctime ?? mtime
    return { atime: l?.atime ?? mtime, mtime, ctime: s !== undefined && s.writtenAt > ctime ? s.writtenAt : ctime }
  }

  /** A read of `p`: an open for reading, readdir, readlink. */
  read(p: string, n: Node, s?: WriteSession): void {
    if (this.policy === "noatime") return
    const t = this.of(p, n, s)
    const atime = atimeAfterRead(this.policy, t, this.now())
    if (atime !== t.atime) this.pin(p, n, s).atime = atime
  }

  /**
   * `p`'s times as they show now, kept: before a change that moves its mtime (utimens, a write
   * session opening) would drag the defaults along.
   */
  pin(p: string, n: Node, s?: WriteSession): Local {
    const l = this.local.get(p)
    const t = this.of(p, n, s)
    if (l) {
      l.atime ??= t.atime
      l.ctime ??= t.ctime
      return l
    }
    const made: Local = n.type === "dir" ? { atime: t.atime, ctime: t.ctime, mtime: t.mtime } : { atime: t.atime, ctime: t.ctime }
    this.local.set(p, made)
    return made
  }

  /**
   * utimens, once done at `now`: `atime` and a folder's `mtime` where given (else left as they
   * are); the ctime is `now`.
   */
  set(p: string, n: Node, atime: number | undefined, folderMtime: number | undefined, now = this.now()): void {
    const l = this.pin(p, n)
    if (atime !== undefined) l.atime = atime
    if (folderMtime !== undefined && n.type === "dir") l.mtime = folderMtime
    l.ctime = now
  }

  /** `p`'s status changed (chmod, truncate): its ctime is now. */
  changed(p: string): void {
    const n = this.views.view.get(p)
    if (n) this.pin(p, n).ctime = this.now()
  }

  /** An open file's content was written at `at`: its ctime is at least that. */
  wrote(p: string, at: number): void {
    const n = this.views.view.get(p)
    if (n && at > this.of(p, n).ctime) this.pin(p, n).ctime = at
  }

  /**
   * `p` was made (create, mkdir, symlink): all its times are its mtime (a folder's: now), and its
   * folder changed then.
   */
  created(p: string): void {
    const n = this.views.view.get(p)
    if (n === undefined) return
    const at = n.type === "dir" ? this.now() : n.mtime
    this.local.set(p, n.type === "dir" ? { atime: at, ctime: at, mtime: at } : { atime: at, ctime: at })
    this.folderChanged(parentOf(p), at)
  }

  /** `p` was removed (unlink, rmdir): its folder changed. */
  removed(p: string): void {
    this.local.delete(p)
    this.folderChanged(parentOf(p), this.now())
  }

  /** `from` was renamed `to` (the view has it): its times and those below go with it. */
  renamed(from: string, to: string): void {
    if (from === to) return
    const at = this.now()
    this.move(from, to)
    for (const [q] of this.views.view.walk(to)) this.move(from + q.slice(to.length), q)
    const n = this.views.view.get(to)
    if (n) this.pin(to, n).ctime = at
    this.folderChanged(parentOf(from), at)
    this.folderChanged(parentOf(to), at)
  }

  /**
   * The view was replaced (a merge, a peer's push, a replay): each path whose node changed gets a
   * new ctime, each folder that gained or lost a name a new mtime, and removed paths are forgotten.
   * One pass over each tree; unchanged nodes are the same objects and cost one comparison.
   */
  viewReplaced(before: Tree, after: Tree): void {
    const at = this.now()
    let added = 0
    for (const [p, n] of after.entries()) {
      const old = before.get(p)
      if (old === undefined) {
        added++
        this.local.set(p, { ctime: at })
        this.folderChanged(parentOf(p), at)
      } else if (changedNode(old, n)) {
        this.pin(p, old).ctime = at
      }
    }
    // every path after is one before or one added: the rest were removed
    if (before.size === after.size - added) return
    for (const p of before.paths()) {
      if (after.has(p)) continue
      this.local.delete(p)
      this.folderChanged(parentOf(p), at)
    }
  }

  /** A name was made, removed or renamed in folder `dir` at `at`. */
  private folderChanged(dir: string, at: number): void {
    const n = this.views.view.get(dir)
    if (n?.type !== "dir") return
    const l = this.pin(dir, n)
    l.mtime = l.ctime = at
  }

  private move(from: string, to: string): void {
    const l = this.local.get(from)
    this.local.delete(from)
    if (l) this.local.set(to, l)
    else this.local.delete(to)
  }

  /** A folder's mtime the first time it is shown, kept from then on. */
  private firstMtime(dir: string): number {
    const view = this.views.view
    let newest = -Infinity
    for (const name of view.list(dir)) {
      const n = view.get(joinPath(dir, name))
      if (n !== undefined && n.type !== "dir" && n.mtime > newest) newest = n.mtime
    }
    const mtime = newest === -Infinity ? this.since : newest
    const l = this.local.get(dir)
    if (l) l.mtime = mtime
    else this.local.set(dir, { mtime })
    return mtime
  }
}
