/**
 * The FUSE operations: one handler each, wired in one table. A handler parses its arguments, asks
 * the host, and answers with an errno (negated) or a result. It holds no policy.
 */
import * as fs from "node:fs"
import { promisify } from "node:util"
import { keySize } from "../domain/key.js"
import { fromFusePath, parentOf, viewPathProblem } from "../domain/paths.js"
import type { Node } from "../domain/tree.js"
import type { Operation } from "../domain/events.js"
import type { HostServices } from "../effects/hostlayer.js"
import { type Session, sessionNode } from "../effects/staging.js"
import { E, errnoOf, errnoOfRefusal } from "./errno.js"
import { VirtualDir } from "./virtual.js"

type Cb = (err: number, ...rest: Array<any>) => void

const fdatasync = promisify(fs.fdatasync)

const O_ACCMODE = 3
const O_TRUNC = 0o1000

const UTIME_OMIT = 0xfffffffffffff
const UTIME_NOW = 0xffffffffffffe

type Handle = { readonly kind: "read"; readonly fd: number } | { readonly kind: "write"; readonly session: Session; readonly fd: number }

/**
 * The binding's fast path: reads and writes of a handle tied to a file descriptor are served by the
 * FUSE thread itself (pread/pwrite), never reaching the handlers below. What was written
 * that way is collected with `written` (see Host.pullWrites).
 */
export interface Passthrough {
  /**
   * Ties handle `fh` to `fd`; where the binding cannot, the handlers serve it as before. With
   * `kernel` (a read-only handle), the open may be handed to the kernel's own passthrough, which
   * then reads `fd`'s file with no request to the daemon at all.
   */
  open(fh: number, fd: number, kernel: boolean): void
  close(fh: number): void
  /** The end of the furthest write made through the binding on `fd` since the last call, or -1. */
  written(fd: number): number
  /** How the kernel's passthrough is doing, for `.sharebox/status`. */
  kernelStatus(): string
}

/**
 * Read-only extended attributes for scripts and file managers; no other name exists, and the
 * binding answers for those without asking (scripts/fuse-native.patch).
 */
export const XATTR_PREFIX = "user.sharebox."

export const noPassthrough: Passthrough = { open: () => {}, close: () => {}, written: () => -1, kernelStatus: () => "off (this binding has no passthrough)" }

/** A file the binding created on a FUSE thread, waiting to be adopted. */
export interface CreatedHere {
  readonly fh: number
  readonly fd: number
  readonly id: string
  readonly path: string
  readonly executable: boolean
  readonly mtime: number
}

/**
 * The binding's creates (scripts/fuse-native.patch): a new file whose name is certainly not in the
 * view is created on the FUSE thread, with one of the empty staging files the binding makes ahead
 * on a thread of its own and a handle of the binding's own range; the daemon adopts it (a write
 * session, as `create` below opens) before it handles any other request and before the view is
 * replaced.
 */
export interface CreatesHere {
  /** how many created files wait to be adopted */
  readonly waiting: Int32Array
  take(): Array<CreatedHere>
  /** starts making empty staging files in `dir`, named `prefix` and a number; false if it cannot */
  start(dir: string, prefix: string): boolean
  /** the staging files made and not used; no file is created there after */
  reclaim(): Array<{ fd: number; id: string }>
}

/** Handles at or above this number are the binding's (CREATED_BASE in scripts/fuse-native.patch). */
const BINDING_HANDLES = 0x40000000

/** Stable inode numbers from the path (FNV-1a, 32 bits), so they survive remounts. */
const inodeOf = (p: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < p.length; i++) {
    h ^= p.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h || 1
}

export const makeOperations = (host: HostServices, log: (line: string) => void, passthrough: Passthrough = noPassthrough, creates?: CreatesHere) => {
  const uid = process.getuid?.() ?? 0
  const gid = process.getgid?.() ?? 0
  const { views, staging, presence } = host
  staging.trackWrites((fd) => passthrough.written(fd))
  const handles = new Map<number, Handle>()
  // Handle numbers are reused, so they stay small enough for the binding's table.
  const freeHandles: Array<number> = []
  let nextHandle = 1
  const openHandle = (h: Handle, kernel = false): number => {
    const fh = freeHandles.pop() ?? nextHandle++
    handles.set(fh, h)
    passthrough.open(fh, h.fd, kernel)
    return fh
  }
  const closeHandle = (fh: number): Handle | undefined => {
    const h = handles.get(fh)
    if (!h) return undefined
    passthrough.close(fh) // for one of the binding's handles, this frees it there
    handles.delete(fh)
    if (fh < BINDING_HANDLES) freeHandles.push(fh)
    return h
  }

  /** Adopts the files the binding created since the last call. */
  const adopt = () => {
    if (!creates || Atomics.load(creates.waiting, 0) === 0) return
    for (const c of creates.take()) {
      const session = staging.adoptCreated(c.path, c.id, c.fd, c.executable, c.mtime)
      handles.set(c.fh, { kind: "write", session, fd: c.fd })
    }
  }
  if (creates) views.onBeforeChange(adopt)
  const virtual = new VirtualDir(host, () => passthrough.kernelStatus(), (fd) => openHandle({ kind: "read", fd }))
  const fail = (cb: Cb, e: unknown) => cb(errnoOf(e, log))

  const statOf = (p: string, n: Node, present: boolean) => {
    // milliseconds: the binding takes numbers as well as Dates
    const mtime = n.type === "dir" ? 0 : n.mtime
    const common = { uid, gid, mtime, atime: mtime, ctime: mtime, ino: inodeOf(p), blksize: 4096 }
    switch (n.type) {
      case "dir":
        return { ...common, mode: 0o40755, nlink: 2, size: 4096, blocks: 8 }
      case "symlink":
        return { ...common, mode: 0o120777, nlink: 1, size: Buffer.byteLength(n.target), blocks: 0 }
      case "file": {
        const s = staging.sessionByPath.get(p)
        if (s) staging.pullWrites(s)
        const size = s ? s.size : n.content.kind === "key" ? keySize(n.content.key) : n.content.size
        return { ...common, mode: n.executable ? 0o100755 : 0o100644, nlink: 1, size, blocks: present ? Math.ceil(size / 512) : 0 }
      }
    }
  }

  /** Validates a name about to be created; an errno, or 0. */
  const checkNew = (p: string): number => {
    const problem = viewPathProblem(p)
    if (!problem) return 0
    if (problem === "name-too-long") return E.ENAMETOOLONG
    if (problem === "reserved") return E.EPERM
    return E.EINVAL
  }

  const recordOp = (op: Operation, cb: Cb, onApplied?: () => void, time?: number) => {
    views
      .record(op, time, onApplied)
      .then((refusal) => cb(refusal === undefined ? 0 : errnoOfRefusal(refusal)))
      .catch((e) => fail(cb, e))
  }

  /** Opens a write session; a new file's reply carries its attributes (saves libfuse asking). */
  const openSessionHandle = (p: string, truncate: boolean, cb: Cb, executable = false) => {
    staging
      .openSession(p, truncate, executable)
      .then((session) => cb(0, openHandle({ kind: "write", session, fd: session.fd }), statOf(p, sessionNode(session), true)))
      .catch((e) => fail(cb, e))
  }

  const XATTRS = [`${XATTR_PREFIX}key`, `${XATTR_PREFIX}present`, `${XATTR_PREFIX}whereis`]
  const xattrValue = async (key: string, name: string): Promise<string> => {
    if (name === `${XATTR_PREFIX}key`) return key
    if (name === `${XATTR_PREFIX}present`) return presence.isPresent(key) ? "1" : "0"
    // hosts by description (the -o name), as `sharebox whereis` shows them
    return (await presence.whereis(key)).join(", ")
  }

  const ops = {
    /** Called before every request: the files the binding created are adopted first. */
    beforeOp: adopt,

    /** Lets the binding create files (once the names table is there, which it needs). */
    startCreating() {
      if (creates && !creates.start(host.repo.layout.staging, staging.bindingSparePrefix)) log("the binding cannot make staging files: new files are created here")
    },

    /** Takes back the spares the binding holds and adopts what it made: before the host closes. */
    stopCreating() {
      if (!creates) return
      staging.discardSpares(creates.reclaim())
      adopt()
    },

    init(cb: Cb) {
      cb(0)
    },

    statfs(_p: string, cb: Cb) {
      fs.statfs(host.repo.gitdir, (err, s) => {
        if (err) return fail(cb, err)
        cb(0, { bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255 })
      })
    },

    getattr(fp: string, cb: Cb) {
      const p = fromFusePath(fp)
      if (virtual.owns(p)) return virtual.getattr(p, cb)
      const n = views.view.get(p)
      if (!n) return cb(E.ENOENT)
      if (n.type === "file" && n.content.kind === "key") {
        return cb(0, statOf(p, n, presence.isPresent(n.content.key)))
      }
      cb(0, statOf(p, n, true))
    },

    fgetattr(fp: string, _fd: number, cb: Cb) {
      ops.getattr(fp, cb)
    },

    access(fp: string, _mode: number, cb: Cb) {
      const p = fromFusePath(fp)
      cb(virtual.owns(p) || views.view.has(p) ? 0 : E.ENOENT)
    },

    readdir(fp: string, cb: Cb) {
      const p = fromFusePath(fp)
      if (virtual.owns(p)) return virtual.readdir(p, cb)
      const n = views.view.get(p)
      if (!n) return cb(E.ENOENT)
      if (n.type !== "dir") return cb(E.ENOTDIR)
      const names = [...views.view.list(p)]
      if (p === "") names.push(virtual.name)
      cb(0, names)
    },

    readlink(fp: string, cb: Cb) {
      const n = views.view.get(fromFusePath(fp))
      if (!n) return cb(E.ENOENT)
      if (n.type !== "symlink") return cb(E.EINVAL)
      cb(0, n.target)
    },

    open(fp: string, flags: number, cb: Cb) {
      const p = fromFusePath(fp)
      if (virtual.owns(p)) return virtual.open(p, flags, cb)
      const n = views.view.get(p)
      if (!n) return cb(E.ENOENT)
      if (n.type === "dir") return cb(E.EISDIR)
      if (n.type !== "file") return cb(E.EINVAL)
      if ((flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0) return openSessionHandle(p, (flags & O_TRUNC) !== 0, cb)
      const s = staging.sessionByPath.get(p)
      if (n.content.kind === "key") presence.noteRead(n.content.key)
      const file = s ? Promise.resolve(staging.stagingFile(s.id)) : presence.contentFile(p, n)
      // The kernel may read the file itself: it sees what a pread of fd would (the binding decides
      // whether the inode's other opens allow it).
      file.then(
        (f) =>
          fs.open(f, "r", (err, fd) => (err ? fail(cb, err) : cb(0, openHandle({ kind: "read", fd }, true)))),
        (e) => fail(cb, e)
      )
    },

    create(fp: string, mode: number, cb: Cb) {
      const p = fromFusePath(fp)
      const bad = checkNew(p)
      if (bad) return cb(bad)
      if (!views.view.isDir(parentOf(p))) return cb(E.ENOENT)
      if (views.view.isDir(p)) return cb(E.EISDIR)
      openSessionHandle(p, true, cb, (mode & 0o111) !== 0)
    },

    read(fp: string, fh: number, buf: Buffer, len: number, pos: number, cb: Cb) {
      const p = fromFusePath(fp)
      const h = handles.get(fh)
      if (!h) return virtual.owns(p) ? virtual.read(p, buf, len, pos, cb) : cb(E.EBADF)
      fs.read(h.fd, buf, 0, len, pos, (err, n) => (err ? fail(cb, err) : cb(n)))
    },

    write(_fp: string, fh: number, buf: Buffer, len: number, pos: number, cb: Cb) {
      const h = handles.get(fh)
      if (!h || h.kind !== "write") return cb(E.EBADF)
      fs.write(h.fd, buf, 0, len, pos, (err, n) => {
        if (err) return fail(cb, err)
        staging.touchSession(h.session, Math.max(h.session.size, pos + n))
        cb(n)
      })
    },

    flush(_fp: string, fh: number, cb: Cb) {
      const h = handles.get(fh)
      if (!h || h.kind !== "write") return cb(0)
      staging.flushSession(h.session).then(() => cb(0), (e) => fail(cb, e))
    },

    fsync(_fp: string, _datasync: boolean, fh: number, cb: Cb) {
      const h = handles.get(fh)
      if (!h || h.kind !== "write") return cb(0)
      // the staging file's name too: a record whose content a power cut took away is a lost write
      staging
        .flushSession(h.session)
        .then(() => Promise.all([fdatasync(h.session.fd), views.syncStagingNames(), views.syncJournal()]))
        .then(() => cb(0), (e) => fail(cb, e))
    },

    /** A folder's names are its operations in the journal (and the staging files they name). */
    fsyncdir(_fp: string, _datasync: boolean, _fh: number, cb: Cb) {
      Promise.all([views.syncStagingNames(), views.syncJournal()]).then(() => cb(0), (e) => fail(cb, e))
    },

    release(_fp: string, fh: number, cb: Cb) {
      const h = closeHandle(fh)
      if (!h) return cb(0)
      if (h.kind === "read") return fs.close(h.fd, () => cb(0))
      staging.releaseSession(h.session).then(() => cb(0), (e) => fail(cb, e))
    },

    truncate(fp: string, size: number, cb: Cb) {
      const p = fromFusePath(fp)
      const n = views.view.get(p)
      if (!n) return cb(E.ENOENT)
      if (n.type !== "file") return cb(E.EISDIR)
      staging
        .openSession(p, size === 0)
        .then(async (s) => {
          try {
            fs.ftruncateSync(s.fd, size)
            staging.touchSession(s, size)
          } finally {
            await staging.releaseSession(s)
          }
        })
        .then(() => cb(0), (e) => fail(cb, e))
    },

    ftruncate(_fp: string, fh: number, size: number, cb: Cb) {
      const h = handles.get(fh)
      if (!h || h.kind !== "write") return cb(E.EBADF)
      staging.pullWrites(h.session)
      fs.ftruncate(h.session.fd, size, (e) => {
        if (e) return fail(cb, e)
        staging.touchSession(h.session, size)
        cb(0)
      })
    },

    mkdir(fp: string, _mode: number, cb: Cb) {
      const p = fromFusePath(fp)
      const bad = checkNew(p)
      if (bad) return cb(bad)
      recordOp({ op: "mkdir", path: p }, cb)
    },

    rmdir(fp: string, cb: Cb) {
      const p = fromFusePath(fp)
      if (virtual.owns(p)) return cb(E.EPERM)
      recordOp({ op: "rmdir", path: p }, cb)
    },

    unlink(fp: string, cb: Cb) {
      const p = fromFusePath(fp)
      if (virtual.owns(p)) return cb(E.EPERM)
      recordOp({ op: "unlink", path: p }, cb, () => staging.forgetSession(p))
    },

    rename(fsrc: string, fdest: string, cb: Cb) {
      const from = fromFusePath(fsrc)
      const to = fromFusePath(fdest)
      if (virtual.owns(from) || virtual.owns(to)) return cb(E.EPERM)
      const bad = checkNew(to)
      if (bad) return cb(bad)
      recordOp({ op: "rename", path: from, to }, cb, () => {
        staging.forgetSession(to)
        staging.renameSessions(from, to)
      })
    },

    symlink(target: string, fdest: string, cb: Cb) {
      const p = fromFusePath(fdest)
      const bad = checkNew(p)
      if (bad) return cb(bad)
      recordOp({ op: "symlink", path: p, target }, cb)
    },

    link(_src: string, _dest: string, cb: Cb) {
      cb(E.EPERM)
    },

    mknod(_p: string, _mode: number, _dev: number, cb: Cb) {
      cb(E.EPERM)
    },

    chmod(fp: string, mode: number, cb: Cb) {
      const p = fromFusePath(fp)
      if (virtual.owns(p)) return cb(E.EPERM)
      const n = views.view.get(p)
      if (!n) return cb(E.ENOENT)
      if (n.type !== "file") return cb(0)
      const executable = (mode & 0o111) !== 0
      const s = staging.sessionByPath.get(p)
      if (s) s.executable = executable
      if (n.executable === executable) return cb(0)
      recordOp({ op: "chmod", path: p, executable }, cb)
    },

    chown(fp: string, u: number, g: number, cb: Cb) {
      const p = fromFusePath(fp)
      if (!views.view.has(p)) return cb(E.ENOENT)
      const keepU = u === uid || u === 0xffffffff || u === -1
      const keepG = g === gid || g === 0xffffffff || g === -1
      cb(keepU && keepG ? 0 : E.EPERM)
    },

    utimens(fp: string, _atime: number, requested: number, cb: Cb) {
      // the binding passes UTIME_OMIT / UTIME_NOW as sentinels (scripts/fuse-native.patch)
      if (requested === UTIME_OMIT) return cb(0)
      const mtime = requested === UTIME_NOW ? Date.now() : requested
      const p = fromFusePath(fp)
      if (virtual.owns(p)) return cb(E.EPERM)
      const n = views.view.get(p)
      if (!n) return cb(E.ENOENT)
      if (n.type === "dir") return cb(0)
      const s = staging.sessionByPath.get(p)
      if (s) {
        staging.pullWrites(s)
        s.mtime = mtime
        views.view.set(p, sessionNode(s))
      }
      if (n.mtime === mtime) return cb(0)
      recordOp({ op: "utimens", path: p, mtime }, cb)
    },

    getxattr(fp: string, name: string, _position: number, cb: Cb) {
      if (virtual.owns(fromFusePath(fp))) return cb(E.ENODATA)
      const n = views.view.get(fromFusePath(fp))
      if (!n) return cb(E.ENOENT)
      if (n.type !== "file" || n.content.kind !== "key" || !XATTRS.includes(name)) return cb(E.ENODATA)
      xattrValue(n.content.key, name).then((v) => cb(0, Buffer.from(v, "utf8")), (e) => fail(cb, e))
    },

    listxattr(fp: string, cb: Cb) {
      if (virtual.owns(fromFusePath(fp))) return cb(0, [])
      const n = views.view.get(fromFusePath(fp))
      if (!n) return cb(E.ENOENT)
      cb(0, n.type === "file" && n.content.kind === "key" ? XATTRS : [])
    },

    setxattr(fp: string, name: string, _value: Buffer, _position: number, _flags: number, cb: Cb) {
      cb(XATTRS.includes(name) ? E.EPERM : E.ENOTSUP)
      void fp
    },

    removexattr(_fp: string, _name: string, cb: Cb) {
      cb(E.ENODATA)
    }
  }
  return ops
}
