/**
 * Attributes: what getattr shows of a view node, and the changes to them (chmod, utimens) and
 * refusals (chown) a mount allows. getattr is the hottest call there is: synchronous, no promise.
 */
import { promises as fs } from "node:fs"
import { keySize } from "../domain/key.js"
import { DEFAULT_DIR_MODE, KEPT_MODE, type Node, dirMode, executableMode, fileMode, fileModeFields, stagedNode } from "../domain/tree.js"
import { type FuseContext, onSuccess, recordOp } from "./context.js"
import { E } from "./errno.js"
import type { Answer, Outcome, Stat, Statfs } from "./native.js"

const UTIME_OMIT = 0xfffffffffffff
const UTIME_NOW = 0xffffffffffffe

/**
 * An inode number from the path (FNV-1a, 32 bits); the binding numbers the files it creates the
 * same way (packages/fuse-native/src/creates.c). The mount has no `use_ino`, so what stat shows is
 * libfuse's own node number instead: unique while mounted, not kept across a remount (32 bits of
 * hash would not be unique in a big tree).
 */
export const inodeOf = (p: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < p.length; i++) {
    h ^= p.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h || 1
}

/** The attributes of node `n` at `p`, its permission bits less the mount's umask (-o umask=). */
export const statOf = (cx: FuseContext, p: string, n: Node, present: boolean): Stat => {
  const st = attributesOf(cx, p, n, present)
  return cx.umask === 0 ? st : { ...st, mode: st.mode & ~cx.umask }
}

/** A node's file type, as st_mode's S_IFMT bits: stat shows it, and readdir gives it as d_type. */
export const fileTypeOf = (n: Node): number => (n.type === "dir" ? 0o040000 : n.type === "symlink" ? 0o120000 : 0o100000)

/** The attributes of node `n` at `p`; an open file's size and times are its session's. */
const attributesOf = (cx: FuseContext, p: string, n: Node, present: boolean): Stat => {
  const s = n.type === "file" ? cx.staging.sessionByPath.get(p) : undefined
  if (s) cx.staging.pullWrites(s)
  // milliseconds: the binding takes numbers as well as Dates
  const { atime, mtime, ctime } = cx.times.of(p, n, s)
  const common = { uid: cx.uid, gid: cx.gid, mtime, atime, ctime, ino: inodeOf(p), blksize: 4096 }
  switch (n.type) {
    case "dir":
      return { ...common, mode: fileTypeOf(n) | dirMode(n), nlink: 2, size: 4096, blocks: 8 }
    case "symlink":
      return { ...common, mode: fileTypeOf(n) | 0o777, nlink: 1, size: Buffer.byteLength(n.target), blocks: 0 }
    case "file": {
      const size = s ? s.size : n.content.kind === "key" ? keySize(n.content.key) : n.content.size
      return { ...common, mode: fileTypeOf(n) | fileMode(n), nlink: 1, size, blocks: present ? Math.ceil(size / 512) : 0 }
    }
  }
}

export const getattr = (cx: FuseContext, p: string): Outcome<Stat> => {
  const n = cx.views.view.get(p)
  if (!n) return E.ENOENT
  if (n.type === "file" && n.content.kind === "key") return statOf(cx, p, n, cx.content.isPresent(n.content.key))
  return statOf(cx, p, n, true)
}

/** The gitdir's file system: what is written through the mount lands there. */
export const statfs = async (gitdir: string): Promise<Statfs> => {
  const s = await fs.statfs(gitdir)
  return { bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255 }
}

/** chmod(2); its ctime moves whether or not the mode did. */
export const chmod = (cx: FuseContext, p: string, mode: number): Answer<number> => onSuccess(keepMode(cx, p, mode), () => cx.times.changed(p))

/**
 * A file's or directory's permission bits and sticky bit are kept and synced. Set-user-ID and
 * set-group-ID are refused (EPERM): a peer could otherwise plant such a program on every host. The
 * root's mode is the mount's own (0755): changing it is refused.
 */
const keepMode = (cx: FuseContext, p: string, mode: number): Answer<number> => {
  if (cx.virtual.owns(p)) return E.EPERM
  const n = cx.views.view.get(p)
  if (!n) return E.ENOENT
  if ((mode & 0o6000) !== 0) return E.EPERM
  const m = mode & KEPT_MODE
  if (p === "") return m === DEFAULT_DIR_MODE ? 0 : E.EPERM
  switch (n.type) {
    case "symlink":
      return 0 // never reached: chmod follows symlinks, and a symlink's mode is 0777
    case "dir":
      return dirMode(n) === m ? 0 : recordOp(cx, { op: "chmod", path: p, executable: executableMode(m), mode: m, dir: true })
    case "file": {
      const s = cx.staging.sessionByPath.get(p)
      if (s) s.mode = m
      if (fileMode(n) === m) return 0
      // a new file the journal has not had yet is journalled with its session's mode (the
      // journal would have a chmod of nothing)
      if (s?.base === null) {
        cx.views.view.set(p, stagedNode(s))
        return 0
      }
      return recordOp(cx, { op: "chmod", path: p, ...fileModeFields(m) })
    }
  }
}

/** Every file is the owner's the mount shows (-o uid=, gid=): giving it away is refused, keeping it allowed. */
export const chown = (cx: FuseContext, p: string, u: number, g: number): number => {
  if (!cx.views.view.has(p)) return E.ENOENT
  const keepU = u === cx.uid || u === 0xffffffff || u === -1
  const keepG = g === cx.gid || g === 0xffffffff || g === -1
  return keepU && keepG ? 0 : E.EPERM
}

/**
 * utimensat(2): each of `atime` and `mtime` is a time, UTIME_NOW or UTIME_OMIT (left as it is).
 * A file's or symlink's mtime is journalled, and synced; the atime, a folder's mtime and the ctime
 * are local (times.ts). Both omitted, nothing changes, not even the ctime.
 */
export const utimens = (cx: FuseContext, p: string, atime: number, mtime: number): Answer<number> => {
  if (atime === UTIME_OMIT && mtime === UTIME_OMIT) return 0
  if (cx.virtual.owns(p)) return E.EPERM
  const n = cx.views.view.get(p)
  if (!n) return E.ENOENT
  const now = cx.times.now()
  const at = atime === UTIME_OMIT ? undefined : atime === UTIME_NOW ? now : atime
  const mt = mtime === UTIME_OMIT ? undefined : mtime === UTIME_NOW ? now : mtime
  if (n.type === "dir" || mt === undefined) {
    cx.times.set(p, n, at, mt, now)
    return 0
  }
  const s = cx.staging.sessionByPath.get(p)
  if (s) cx.staging.pullWrites(s)
  // the atime and ctime as they are, before the new mtime would move their defaults
  cx.times.pin(p, n, s)
  const done = () => cx.times.set(p, n, at, undefined, now)
  if (s) {
    s.mtime = mt
    cx.views.view.set(p, stagedNode(s))
  }
  // a new file the journal has not had yet is journalled with its session's mtime
  if (n.mtime === mt || s?.base === null) return onSuccess(0, done)
  return onSuccess(recordOp(cx, { op: "utimens", path: p, mtime: mt }), done)
}
