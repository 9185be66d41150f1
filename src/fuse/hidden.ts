/**
 * Files removed while open. POSIX keeps such a file alive, nameless, for whoever holds it open.
 * libfuse does it by keeping it under a hidden name in its folder (`.fuse_hidden` and 16 hex
 * digits), renaming it there through the mount when it is removed or renamed over, and removing that
 * name at the last close. Here that rename is the removal it stands for: the file's name is removed
 * from the view and the journal at once (so nothing of it is committed or synced), and the hidden
 * name lives only in this table, answering the stat and the final unlink libfuse makes by it.
 *
 * A folder holding such a file cannot be removed until the file is closed (ENOTEMPTY, as in every
 * libfuse file system): libfuse could no longer name the file, and its reads and writes would fail.
 *
 * Names of that form are reserved: only libfuse makes them, and only for an open file, so a rename
 * to one of an open file is libfuse's; any other is refused.
 */
import { isWithin } from "../domain/paths.js"
import type { Stat } from "./native.js"
import type { WriteSession } from "./ports.js"

const HIDDEN = /(^|\/)\.fuse_hidden[0-9a-f]{16}$/

/** Whether `p`'s name has libfuse's form for a file removed while open. */
export const isHiddenName = (p: string): boolean => HIDDEN.test(p)

interface Hidden {
  /** the write session of the file, when it was open for writing: its size and times go on */
  readonly session: WriteSession | undefined
  /** what stat showed of the file as its name went */
  readonly last: Stat
}

export class HiddenFiles {
  private readonly byPath = new Map<string, Hidden>()

  add(p: string, last: Stat, session: WriteSession | undefined): void {
    this.byPath.set(p, { last, session })
  }

  /**
   * The attributes of the hidden file at `p`; no link to it is left. `pull` takes in what the
   * binding wrote to a write session's file (Staging.pullWrites).
   */
  stat(p: string, pull: (s: WriteSession) => void): Stat | undefined {
    const h = this.byPath.get(p)
    if (!h) return undefined
    const s = h.session
    if (!s) return { ...h.last, nlink: 0 }
    pull(s)
    return { ...h.last, nlink: 0, size: s.size, blocks: Math.ceil(s.size / 512), mtime: s.mtime, ctime: Math.max(s.mtime, s.writtenAt) }
  }

  /** libfuse's unlink of the hidden name at the last close: whether `p` was one. */
  remove(p: string): boolean {
    return this.byPath.delete(p)
  }

  /** Whether folder `dir` holds a hidden file. */
  holdsAny(dir: string): boolean {
    for (const p of this.byPath.keys()) if (p !== dir && isWithin(p, dir)) return true
    return false
  }

  /** A folder was renamed: libfuse's hidden names below it moved with it. */
  renamed(from: string, to: string): void {
    for (const [p, h] of [...this.byPath]) {
      if (p === from || !isWithin(p, from)) continue
      this.byPath.delete(p)
      this.byPath.set(to + p.slice(from.length), h)
    }
  }

  get size(): number {
    return this.byPath.size
  }
}
