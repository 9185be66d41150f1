/**
 * Names: listing folders and reading links, and the operations that add, remove or move a name.
 * Each change is an operation the reducer applies to the view and the journal records; the
 * virtual folder's names cannot be changed. Each also moves the local times (times.ts) of the
 * folders it changes and of the node it makes or moves.
 */
import { DEFAULT_DIR_MODE, KEPT_MODE } from "../domain/tree.js"
import { fileTypeOf } from "./attributes.js"
import { type FuseContext, checkNew, onSuccess, recordOp } from "./context.js"
import type { Answer, Outcome } from "./native.js"
import { E } from "./errno.js"

export const readdir = (cx: FuseContext, p: string): Outcome<ReadonlyArray<string>> => {
  const n = cx.views.view.get(p)
  if (!n) return E.ENOENT
  if (n.type !== "dir") return E.ENOTDIR
  cx.times.read(p, n)
  const names = [...cx.views.view.list(p)]
  // `.sharebox/` holds every past tree and version: listed, it would take `find`, `grep -r`, `du`
  // and a backup of the mount through all of them (as ZFS's `.zfs` and NetApp's `.snapshot`,
  // it is reached by name and listed only when asked, -o snapdir=visible)
  if (p === "" && cx.listVirtual) names.push(cx.virtual.name)
  return names
}

/**
 * Each of `names`' file type in folder `dir` (S_IFMT bits; 0 for a name the view does not hold,
 * as `.sharebox`): readdir's callers get it as d_type, and `find -type f`, `rm -r` and `grep -r`
 * then look up no name to learn it (3,000 lookups in JavaScript for a 3,000-file `find`).
 */
export const typesOf = (cx: FuseContext, dir: string, names: ReadonlyArray<string>): Uint32Array => {
  const view = cx.views.view
  const types = new Uint32Array(names.length)
  for (let i = 0; i < names.length; i++) {
    const n = view.get(dir === "" ? names[i]! : `${dir}/${names[i]}`)
    types[i] = n === undefined ? 0 : fileTypeOf(n)
  }
  return types
}

export const readlink = (cx: FuseContext, p: string): Outcome<string> => {
  const n = cx.views.view.get(p)
  if (!n) return E.ENOENT
  if (n.type !== "symlink") return E.EINVAL
  cx.times.read(p, n)
  return n.target
}

/** `mode`: as the caller asked, the umask applied by the kernel; set-user-ID and set-group-ID are never kept. */
export const mkdir = (cx: FuseContext, p: string, mode: number): Answer<number> => {
  const bad = checkNew(p)
  if (bad) return bad
  const m = mode & KEPT_MODE
  const made = recordOp(cx, m === DEFAULT_DIR_MODE ? { op: "mkdir", path: p } : { op: "mkdir", path: p, mode: m })
  return onSuccess(made, () => cx.times.created(p))
}

export const rmdir = (cx: FuseContext, p: string): Answer<number> => {
  if (cx.virtual.owns(p)) return E.EPERM
  return onSuccess(recordOp(cx, { op: "rmdir", path: p }), () => cx.times.removed(p))
}

export const unlink = (cx: FuseContext, p: string): Answer<number> => {
  if (cx.virtual.owns(p)) return E.EPERM
  return onSuccess(
    recordOp(cx, { op: "unlink", path: p }, () => {
      cx.staging.forgetSession(p)
      cx.handles.removed(p)
    }),
    () => cx.times.removed(p)
  )
}

export const rename = (cx: FuseContext, from: string, to: string): Answer<number> => {
  if (cx.virtual.owns(from) || cx.virtual.owns(to)) return E.EPERM
  const bad = checkNew(to)
  if (bad) return bad
  // A new file open for writing is journalled at its first flush or last close. Renamed before
  // then, the journal would move nothing, and keep the file the rename replaced: the replay would
  // find that file under the new one's write and keep it as a conflict copy.
  const s = cx.staging.sessionByPath.get(from)
  if (s !== undefined) return cx.staging.journalNew(s).then(() => renameNow(cx, from, to))
  return renameNow(cx, from, to)
}

const renameNow = (cx: FuseContext, from: string, to: string): Answer<number> => {
  const renamed = recordOp(cx, { op: "rename", path: from, to }, () => {
    cx.staging.forgetSession(to)
    cx.staging.renameSessions(from, to)
    cx.handles.renamed(from, to)
  })
  return onSuccess(renamed, () => cx.times.renamed(from, to))
}

export const symlink = (cx: FuseContext, target: string, p: string): Answer<number> => {
  const bad = checkNew(p)
  if (bad) return bad
  return onSuccess(recordOp(cx, { op: "symlink", path: p, target }), () => cx.times.created(p))
}

/** A folder's names are its operations in the journal (and the staging files they name). */
export const fsyncdir = (cx: FuseContext): Promise<number> =>
  Promise.all([cx.recorder.syncStagingNames(), cx.recorder.syncJournal()]).then(() => 0)
