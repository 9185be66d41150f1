/**
 * `.sharebox/at/`: the whole tree as it was at a past moment, read-only.
 *
 *   at/            lists one name per state of the branch (domain/moments.ts), oldest first
 *   at/TIME/...    the tree of the last state at or before TIME, any time a person types
 *                  (`yesterday`, `2h`, `2026-12-01T14:30`), listed or not
 *
 * Nodes show their kinds, symlink targets, sizes, modes and mtimes as they were; content opens as
 * any file's does (fetched when it is not here). Nothing here can change: every write is EROFS,
 * as on a snapshot of a read-only file system. Trees come from a small cache (PastStates): once a
 * moment's tree is loaded, getattr and readdir answer at once.
 */
import * as fs from "node:fs"
import { keySize } from "../domain/key.js"
import { type Moment, type OffsetAt, listedMoments, momentAt, parseTime } from "../domain/moments.js"
import { joinPath } from "../domain/paths.js"
import { type Node, type Tree, dirMode, fileMode } from "../domain/tree.js"
import { E } from "./errno.js"
import type { Answer, Outcome, Owner, Stat } from "./native.js"
import type { Content, PastStates } from "./ports.js"

export interface AtSources {
  readonly past: PastStates
  readonly content: Content
  /** registers an open file descriptor as a FUSE handle */
  readonly register: (fd: number) => number
  readonly owner: Owner
  /** the clock `2h` and `yesterday` count from */
  readonly now: () => number
  /** the local time zone, for times typed without one */
  readonly offsetAt: OffsetAt
}

/** `a`, then `f`: at once when `a` is a value, else once it is. */
const then = <A, B>(a: A | Promise<A>, f: (a: A) => B | Promise<B>): B | Promise<B> => (a instanceof Promise ? a.then(f) : f(a))

export class AtDir {
  constructor(private readonly from: AtSources) {}

  /** The state a moment's name means (the last at or before it), or ENOENT. */
  private moment(name: string): Outcome<Moment> | Promise<Outcome<Moment>> {
    const t = parseTime(name, this.from.now(), this.from.offsetAt)
    if (!t.ok) return E.ENOENT
    return then(this.from.past.moments(), (moments) => momentAt(moments, t.time) ?? E.ENOENT)
  }

  /** The tree of the moment `p` starts with, and the path inside it, or ENOENT. */
  private resolve(p: string): Outcome<{ tree: Tree; path: string; time: number }> | Promise<Outcome<{ tree: Tree; path: string; time: number }>> {
    const slash = p.indexOf("/")
    const path = slash < 0 ? "" : p.slice(slash + 1)
    return then(this.moment(slash < 0 ? p : p.slice(0, slash)), (m) =>
      typeof m === "number" ? m : then(this.from.past.tree(m.commit), (tree) => ({ tree, path, time: m.time }))
    )
  }

  private stat(n: Node, time: number): Stat {
    const { uid, gid, umask } = this.from.owner
    const t = n.type === "dir" ? new Date(time) : new Date(n.mtime)
    const common = { uid, gid, mtime: t, atime: t, ctime: t }
    switch (n.type) {
      case "dir":
        return { ...common, mode: 0o40000 | (dirMode(n) & ~umask), nlink: 2, size: 4096, blocks: 8 }
      case "symlink":
        return { ...common, mode: 0o120777, nlink: 1, size: Buffer.byteLength(n.target), blocks: 0 }
      case "file": {
        const size = n.content.kind === "key" ? keySize(n.content.key) : n.content.size
        const present = n.content.kind === "key" ? this.from.content.isPresent(n.content.key) : true
        return { ...common, mode: 0o100000 | (fileMode(n) & ~umask), nlink: 1, size, blocks: present ? Math.ceil(size / 512) : 0 }
      }
    }
  }

  /** `p`: the path below `at/` ("" for at/ itself). */
  getattr(p: string, dir: () => Stat): Answer<Stat> {
    if (p === "") return dir()
    // a moment's own folder needs no tree: \`ls -l at/\` loads none
    if (!p.includes("/")) return then(this.moment(p), (m) => (typeof m === "number" ? m : this.stat({ type: "dir" }, m.time)))
    return then(this.resolve(p), (r) => {
      if (typeof r === "number") return r
      const n = r.tree.get(r.path)
      return n ? this.stat(n, r.time) : E.ENOENT
    })
  }

  readdir(p: string): Answer<ReadonlyArray<string>> {
    if (p === "") return then(this.from.past.moments(), (ms) => listedMoments(ms).map((l) => l.name))
    return then(this.resolve(p), (r) => {
      if (typeof r === "number") return r
      const n = r.tree.get(r.path)
      if (!n) return E.ENOENT
      return n.type === "dir" ? r.tree.list(r.path) : E.ENOTDIR
    })
  }

  readlink(p: string): Answer<string> {
    if (p === "") return E.EINVAL
    return then(this.resolve(p), (r) => {
      if (typeof r === "number") return r
      const n = r.tree.get(r.path)
      if (!n) return E.ENOENT
      return n.type === "symlink" ? n.target : E.EINVAL
    })
  }

  /** A handle on the content as it was; EROFS for any write. */
  open(p: string, writes: boolean): Answer<number> {
    if (writes) return E.EROFS
    if (p === "") return E.EISDIR
    return then(this.resolve(p), async (r): Promise<number> => {
      if (typeof r === "number") return r
      const n = r.tree.get(r.path)
      if (!n) return E.ENOENT
      if (n.type === "dir") return E.EISDIR
      if (n.type !== "file") return E.EINVAL
      // a fetch that fails (no peer reachable) rejects: the errno table makes it EIO, and logs why
      const file = await this.from.content.contentFile(joinPath(".sharebox/at", p), n)
      if (n.content.kind === "key") this.from.content.noteRead(n.content.key)
      return new Promise<number>((resolve) => fs.open(file, "r", (err, fd) => resolve(err ? E.EIO : this.from.register(fd))))
    })
  }
}
