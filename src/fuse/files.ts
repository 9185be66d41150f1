/**
 * Open files: opens, creates, reads and writes, and what ends them. A read-only open is a file
 * descriptor on the content; an open for writing is a write session on a staging file. Reads and
 * writes of a handle the binding has tied to its descriptor never reach these handlers.
 */
import * as fs from "node:fs"
import { promisify } from "node:util"
import { parentOf } from "../domain/paths.js"
import { KEPT_MODE, stagedNode } from "../domain/tree.js"
import { statOf } from "./attributes.js"
import { type FuseContext, checkNew } from "./context.js"
import { E } from "./errno.js"
import type { Answer, Stat } from "./native.js"
import { readHandle } from "./handles.js"
import type { WriteSession } from "./ports.js"

const fdatasync = promisify(fs.fdatasync)
const openFile = promisify(fs.open)
const ftruncateFile = promisify(fs.ftruncate)

const O_ACCMODE = 3
const O_TRUNC = 0o1000

/** An open that may change the file: for writing, or truncating. */
export const opensForWriting = (flags: number): boolean => (flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0

const readAt = (fd: number, buf: Buffer, len: number, pos: number): Promise<number> =>
  new Promise((resolve, reject) => fs.read(fd, buf, 0, len, pos, (err, n) => (err ? reject(err) : resolve(n))))

const writeAt = (fd: number, buf: Buffer, len: number, pos: number): Promise<number> =>
  new Promise((resolve, reject) => fs.write(fd, buf, 0, len, pos, (err, n) => (err ? reject(err) : resolve(n))))

/**
 * Opens a write session; a new file's reply carries its attributes (saves libfuse asking). An
 * existing file keeps its atime and ctime as they were until it is written.
 */
const openSessionHandle = async (cx: FuseContext, p: string, truncate: boolean, createMode?: number): Promise<{ fh: number; stat: Stat }> => {
  const before = cx.views.view.get(p)
  if (before) cx.times.pin(p, before, cx.staging.sessionByPath.get(p))
  const session = await cx.staging.openSession(p, truncate, createMode)
  if (!before) cx.times.created(p)
  followSession(cx, p, session)
  return { fh: cx.handles.add({ kind: "write", session, fd: session.fd }), stat: statOf(cx, p, stagedNode(session), true) }
}

/**
 * Moves the read handles of `p` onto the staging file of its write session, before the open of the
 * session is answered (and the kernel drops the file's cached pages): every open of a file shares
 * one page cache, so a reader must read what the writer writes, as on any filesystem. Readers the
 * kernel reads for itself (its passthrough) are never on the same inode as a writer (see
 * packages/fuse-native/src/passthrough.c).
 */
const followSession = (cx: FuseContext, p: string, s: WriteSession): void => {
  for (const [fh, h] of cx.handles.readersOf(p)) {
    if (h.session === s.id) continue
    let fd: number
    try {
      fd = fs.openSync(cx.staging.stagingFile(s.id), "r")
    } catch {
      continue // the session's file is gone (the file was removed meanwhile): nothing to follow
    }
    cx.handles.follow(fh, h, fd, s.id)
  }
}

/** What a write session wrote, kept as the file's ctime once the session no longer shows it. */
const keepWrites = (cx: FuseContext, s: WriteSession): void => {
  if (s.writtenAt > 0 && cx.staging.sessionByPath.get(s.path) === s) cx.times.wrote(s.path, s.writtenAt)
}

/** A handle, or an errno. */
export const open = (cx: FuseContext, p: string, flags: number): Answer<number> => {
  const n = cx.views.view.get(p)
  if (!n) return E.ENOENT
  if (n.type === "dir") return E.EISDIR
  if (n.type !== "file") return E.EINVAL
  if (opensForWriting(flags)) return openSessionHandle(cx, p, (flags & O_TRUNC) !== 0).then((o) => o.fh)
  const s = cx.staging.sessionByPath.get(p)
  if (n.content.kind === "key") cx.content.noteRead(n.content.key)
  const file = s ? Promise.resolve(cx.staging.stagingFile(s.id)) : cx.content.contentFile(p, n)
  // The kernel may read the file itself: it sees what a pread of fd would (the binding decides
  // whether the inode's other opens allow it). Its reads are never seen here: the open counts as one.
  return file
    .then((f) => openFile(f, "r"))
    .then((fd) => {
      const shown = cx.views.view.get(p)
      if (shown) cx.times.read(p, shown, cx.staging.sessionByPath.get(p))
      const h = readHandle(fd, p)
      if (s !== undefined && cx.staging.sessionByPath.get(p) === s) h.session = s.id
      return cx.handles.add(h, true)
    })
}

export const create = (cx: FuseContext, p: string, mode: number): Answer<{ fh: number; stat: Stat }> => {
  const bad = checkNew(p)
  if (bad) return bad
  if (!cx.views.view.isDir(parentOf(p))) return E.ENOENT
  if (cx.views.view.isDir(p)) return E.EISDIR
  // the kernel applied the caller's umask; set-user-ID and set-group-ID are never kept
  return openSessionHandle(cx, p, true, mode & KEPT_MODE)
}

/** The byte count, or an errno. */
export const read = (cx: FuseContext, p: string, fh: number, buf: Buffer, len: number, pos: number): Answer<number> => {
  const h = cx.handles.get(fh)
  if (!h) return cx.virtual.owns(p) ? cx.virtual.read(p, buf, len, pos) : E.EBADF
  const n = cx.views.view.get(p)
  if (n) cx.times.read(p, n, cx.staging.sessionByPath.get(p))
  return readAt(h.fd, buf, len, pos)
}

/** The byte count, or an errno. */
export const write = (cx: FuseContext, fh: number, buf: Buffer, len: number, pos: number): Answer<number> => {
  const h = cx.handles.get(fh)
  if (h?.kind === "local") return writeAt(h.fd, buf, len, pos)
  if (!h || h.kind !== "write") return E.EBADF
  return writeAt(h.fd, buf, len, pos).then((n) => {
    cx.staging.touchSession(h.session, Math.max(h.session.size, pos + n))
    return n
  })
}

/** A close(2) of one of the file's descriptors: its content so far becomes a version. */
export const flush = (cx: FuseContext, fh: number): Answer<number> => {
  const h = cx.handles.get(fh)
  if (!h || h.kind !== "write") return 0
  return cx.staging.flushSession(h.session).then(() => {
    keepWrites(cx, h.session)
    return 0
  })
}

export const fsync = (cx: FuseContext, fh: number): Answer<number> => {
  const h = cx.handles.get(fh)
  if (h?.kind === "local") return fdatasync(h.fd).then(() => 0)
  if (!h || h.kind !== "write") return 0
  // the staging file's name too: a record whose content a power cut took away is a lost write
  return cx.staging
    .flushSession(h.session)
    .then(() => Promise.all([fdatasync(h.session.fd), cx.recorder.syncStagingNames(), cx.recorder.syncJournal()]))
    .then(() => 0)
}

/** The last close of a handle. */
export const release = (cx: FuseContext, fh: number): Answer<number> => {
  const h = cx.handles.close(fh)
  if (!h) return 0
  if (h.kind === "local") return new Promise((resolve) => fs.close(h.fd, () => resolve(0)))
  if (h.kind === "read") {
    for (const fd of h.retired) fs.close(fd, () => undefined)
    return new Promise((resolve) => fs.close(h.fd, () => resolve(0)))
  }
  cx.staging.pullWrites(h.session)
  keepWrites(cx, h.session)
  return cx.staging.releaseSession(h.session).then(() => 0)
}

/** truncate(2) of a path: a write session of its own, opened and released. */
export const truncate = (cx: FuseContext, p: string, size: number): Answer<number> => {
  const n = cx.views.view.get(p)
  if (!n) return E.ENOENT
  if (n.type !== "file") return E.EISDIR
  cx.times.pin(p, n, cx.staging.sessionByPath.get(p))
  return cx.staging
    .openSession(p, size === 0)
    .then(async (s) => {
      followSession(cx, p, s)
      try {
        fs.ftruncateSync(s.fd, size)
        cx.staging.touchSession(s, size)
      } finally {
        await cx.staging.releaseSession(s)
      }
      cx.times.wrote(p, s.writtenAt)
      return 0
    })
}

export const ftruncate = (cx: FuseContext, fh: number, size: number): Answer<number> => {
  const h = cx.handles.get(fh)
  if (h?.kind === "local") return ftruncateFile(h.fd, size).then(() => 0)
  if (!h || h.kind !== "write") return E.EBADF
  cx.staging.pullWrites(h.session)
  return ftruncateFile(h.session.fd, size).then(() => {
    cx.staging.touchSession(h.session, size)
    return 0
  })
}
