/**
 * The operations on paths kept on this host only, put in front of the table's: a path the view
 * does not have and this host's folder does is served there (local.ts), a new name the rules ignore
 * is made there, and a rename across the boundary moves its content (crossing.ts). Every other call
 * goes on to the table's handler, after one look in a set of paths.
 */
import { ruleFileDir } from "../domain/ignore.js"
import { fromFusePath } from "../domain/paths.js"
import type { FuseContext } from "./context.js"
import type { Crossing } from "./crossing.js"
import * as directories from "./directories.js"
import { E, errnoOf } from "./errno.js"
import { opensForWriting } from "./files.js"
import type { LocalStore } from "./local.js"
import type { Changed, Count, Created, Done, FuseOperations, Listed, Reply, Stat } from "./native.js"

type Table = FuseOperations & Required<Pick<FuseOperations, "getattr" | "fgetattr" | "readdir" | "readlink" | "open" | "create" | "truncate" | "mkdir" | "rmdir" | "unlink" | "rename" | "symlink" | "chmod" | "chown" | "utimens" | "getxattr" | "listxattr" | "flush" | "release">>

const answer = (cb: Done | Count, r: number | Promise<number>, log: (line: string) => void): void => {
  if (typeof r === "number") cb(r)
  else r.then(cb, (e: unknown) => cb(errnoOf(e, log)))
}

export const withLocal = <T extends Table>(table: T, cx: FuseContext, local: LocalStore, crossing: Crossing, log: (line: string) => void): T => {
  const owner = { uid: cx.uid, gid: cx.gid, umask: cx.umask }
  /** A rule file changed here: the rules are read again. */
  const touched = (p: string | undefined) => {
    if (p !== undefined && ruleFileDir(p) !== undefined) crossing.ruleChanged(p)
  }
  const serving = (fp: string): string | undefined => {
    const p = fromFusePath(fp)
    return local.serves(p) ? p : undefined
  }
  const stat = (p: string, cb: Reply<Stat>) => {
    const st = local.stat(p, owner)
    if (typeof st === "number") cb(st)
    else cb(0, st)
  }
  const open = (fd: number, writes: boolean): number => (fd < 0 ? fd : cx.handles.add({ kind: "local", fd, writes }))
  return {
    ...table,
    getattr: (fp: string, cb: Reply<Stat>) => {
      const p = serving(fp)
      return p === undefined ? table.getattr(fp, cb) : stat(p, cb)
    },
    fgetattr: (fp: string, fh: number, cb: Reply<Stat>) => {
      const p = serving(fp)
      return p === undefined ? table.fgetattr(fp, fh, cb) : stat(p, cb)
    },
    readdir: (fp: string, cb: Listed) => {
      const p = fromFusePath(fp)
      if (local.serves(p)) return cb(0, local.list(p))
      if (!local.paths().has(p) && p !== "") return table.readdir(fp, cb)
      // a shared folder holding files of this host's: both lists (the types of the shared names
      // kept, those of this host's files not said)
      table.readdir(fp, (err: number, names?: ReadonlyArray<string>, types?: ReadonlyArray<Stat> | Uint32Array) => {
        if (err !== 0 || names === undefined) return cb(err)
        const shown = new Set(names)
        const all = [...names, ...local.list(p).filter((n) => !shown.has(n))]
        if (!(types instanceof Uint32Array)) return cb(0, all)
        const allTypes = new Uint32Array(all.length)
        allTypes.set(types.subarray(0, names.length))
        cb(0, all, allTypes)
      })
    },
    readlink: (fp: string, cb: Reply<string>) => {
      const p = serving(fp)
      if (p === undefined) return table.readlink(fp, cb)
      const r = local.readlink(p)
      return typeof r === "number" ? cb(r) : cb(0, r)
    },
    open: (fp: string, flags: number, cb: Reply<number>) => {
      const p = serving(fp)
      if (p === undefined) return table.open(fp, flags, cb)
      const fh = open(local.open(p, flags), opensForWriting(flags))
      return fh < 0 ? cb(fh) : cb(0, fh)
    },
    create: (fp: string, mode: number, cb: Created) => {
      const p = fromFusePath(fp)
      if (!local.serves(p) && !local.takesNew(p, false)) return table.create(fp, mode, cb)
      const fh = open(local.create(p, mode), true)
      if (fh < 0) return cb(fh)
      const st = local.stat(p, owner)
      return typeof st === "number" ? cb(st) : cb(0, fh, st)
    },
    truncate: (fp: string, size: number, cb: Done) => {
      const p = serving(fp)
      return p === undefined ? table.truncate(fp, size, cb) : cb(local.truncate(p, size))
    },
    mkdir: (fp: string, mode: number, cb: Done) => {
      const p = fromFusePath(fp)
      return local.takesNew(p, true) ? cb(local.mkdir(p, mode)) : table.mkdir(fp, mode, cb)
    },
    rmdir: (fp: string, cb: Done) => {
      const p = serving(fp)
      // a shared folder listing files of this host's is not empty, whatever the tree holds
      if (p === undefined) return local.list(fromFusePath(fp)).length > 0 ? cb(E.ENOTEMPTY) : table.rmdir(fp, cb)
      return cb(local.rmdir(p))
    },
    unlink: (fp: string, cb: Done) => {
      const p = serving(fp)
      if (p === undefined)
        return table.unlink(fp, (r: number) => {
          cb(r)
          touched(fromFusePath(fp))
        })
      cb(local.unlink(p))
    },
    symlink: (target: string, fp: string, cb: Done) => {
      const p = fromFusePath(fp)
      return local.takesNew(p, false) ? cb(local.symlink(target, p)) : table.symlink(target, fp, cb)
    },
    rename: (fsrc: string, fdest: string, cb: Done) => {
      const from = fromFusePath(fsrc)
      const to = fromFusePath(fdest)
      const fromHere = local.serves(from)
      const isDir = fromHere ? local.isDir(from) : cx.views.view.isDir(from)
      const toHere = local.serves(to) || local.takesNew(to, isDir)
      if (fromHere && toHere) return cb(local.rename(from, to))
      // across the boundary the content is copied: a writer would go on writing the copy left behind,
      // so a file open for writing refuses, as a rename across disks does (the caller copies)
      if (fromHere ? crossing.writingHere(from) : toHere && crossing.writingShared(from)) return cb(E.EXDEV)
      // ignored -> shared: a write of the content; shared -> ignored: a removal and a copy here
      if (fromHere) return answer(cb, replacing(to).then((r) => (r === 0 ? crossing.toShared(from, to) : r)), log)
      if (toHere) {
        if (cx.virtual.owns(from)) return cb(E.EPERM)
        return answer(cb, replacingHere(to).then((r) => (r === 0 ? crossing.toLocal(from, to) : r)), log)
      }
      table.rename(fsrc, fdest, (r: number) => {
        // the files of this host's below a shared folder move with it
        if (r === 0 && local.paths().has(from)) local.rename(from, to)
        cb(r)
        touched(from)
        touched(to)
      })
    },
    chmod: (fp: string, mode: number, cb: Changed) => {
      const p = serving(fp)
      return p === undefined ? table.chmod(fp, mode, cb) : cb(local.chmod(p, mode))
    },
    chown: (fp: string, uid: number, gid: number, cb: Done) => {
      if (serving(fp) === undefined) return table.chown(fp, uid, gid, cb)
      const keepU = uid === cx.uid || uid === 0xffffffff || uid === -1
      const keepG = gid === cx.gid || gid === 0xffffffff || gid === -1
      cb(keepU && keepG ? 0 : E.EPERM)
    },
    utimens: (fp: string, atime: number, mtime: number, cb: Changed) => {
      const p = serving(fp)
      return p === undefined ? table.utimens(fp, atime, mtime, cb) : cb(local.utimens(p, atime, mtime))
    },
    getxattr: (fp: string, name: string, position: number, cb: Reply<Buffer>) =>
      serving(fp) === undefined ? table.getxattr(fp, name, position, cb) : cb(E.ENODATA),
    listxattr: (fp: string, cb: Reply<ReadonlyArray<string>>) => (serving(fp) === undefined ? table.listxattr(fp, cb) : cb(0, [])),
    flush: (fp: string, fh: number, cb: Done) =>
      table.flush(fp, fh, (r: number) => {
        cb(r)
        if (cx.handles.get(fh)?.kind === "write") touched(fromFusePath(fp))
      }),
    release: (fp: string, fh: number, cb: Done) => {
      const kind = cx.handles.get(fh)?.kind
      const written = kind === "write"
      table.release(fp, fh, (r: number) => {
        cb(r)
        if (written || kind === "local") crossing.released()
        if (written) touched(fromFusePath(fp))
      })
    }
  }

  /** A shared name about to be replaced by a rename from here: a file or symlink is removed first (a folder refuses). */
  function replacing(to: string): Promise<number> {
    const n = cx.views.view.get(to)
    if (!n) return Promise.resolve(0)
    if (n.type === "dir") return Promise.resolve(cx.views.view.list(to).length > 0 ? E.ENOTEMPTY : 0)
    return Promise.resolve(directories.unlink(cx, to))
  }

  /** A name of this host's about to be replaced by a shared one moving here. */
  function replacingHere(to: string): Promise<number> {
    if (!local.paths().has(to)) return Promise.resolve(0)
    if (local.isDir(to)) return Promise.resolve(local.list(to).length > 0 ? E.ENOTEMPTY : local.rmdir(to))
    return Promise.resolve(local.unlink(to))
  }
}
