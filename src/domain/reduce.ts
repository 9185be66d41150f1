/**
 * The reducer: folds events over a tree. Total: an event that does not apply leaves the tree as it
 * was and is reported as a `Rejection`, never thrown.
 */
import type { Event, Operation } from "./events.js"
import { isTreePath, isWithin, parentOf } from "./paths.js"
import { DEFAULT_DIR_MODE, type Tree, dirWithMode, fileMode, fileModeFields, withFileMode } from "./tree.js"

/** Why an operation does not apply: one tag per case (the FUSE adapter's errno table is keyed on them). */
export type Refusal = { readonly _tag: RefusalTag }

export type RefusalTag =
  | "InvalidPath"
  | "ParentNotDirectory"
  | "IsDirectory"
  | "AlreadyExists"
  | "NotDirectory"
  | "DirectoryNotEmpty"
  | "NoSuchFile"
  | "MoveIntoItself"

const REFUSAL_TEXT: { readonly [T in RefusalTag]: string } = {
  InvalidPath: "invalid path",
  ParentNotDirectory: "parent is not a directory",
  IsDirectory: "is a directory",
  AlreadyExists: "already exists",
  NotDirectory: "not a directory",
  DirectoryNotEmpty: "directory not empty",
  NoSuchFile: "no such file",
  MoveIntoItself: "cannot move a directory into itself"
}

/** The refusals, one value each (compared by tag, never by text). */
export const Refused: { readonly [T in RefusalTag]: Refusal } = Object.fromEntries(
  Object.keys(REFUSAL_TEXT).map((t) => [t, Object.freeze({ _tag: t as RefusalTag })])
) as { readonly [T in RefusalTag]: Refusal }

/** A refusal in words, for people (logs, command output). */
export const describeRefusal = (r: Refusal): string => REFUSAL_TEXT[r._tag]

export type Rejection = { readonly event: Operation; readonly refusal: Refusal; readonly reason: string }

const parentIsDir = (t: Tree, path: string): boolean => t.isDir(parentOf(path))

/** The writer of an operation: the explicit argument, else the `host` of an event passed as an operation. */
const writerOf = (e: Operation, host: string | undefined): string | undefined => {
  if (host !== undefined) return host
  const h = (e as { readonly host?: unknown }).host
  return typeof h === "string" ? h : undefined
}

/**
 * Applies one operation to `t` in place; returns why it does not apply, or undefined.
 * `time` is the event's time, used as the new mtime of written files; `host` (default: the `host`
 * field when `e` is a whole event) becomes the written file's `host`. chmod, utimens and rename
 * keep a file's host.
 */
export const applyInPlace = (t: Tree, e: Operation, time: number, host?: string): Refusal | undefined => {
  if (!isTreePath(e.path)) return Refused.InvalidPath
  switch (e.op) {
    case "write": {
      if (!parentIsDir(t, e.path)) return Refused.ParentNotDirectory
      if (t.get(e.path)?.type === "dir") return Refused.IsDirectory
      const writer = writerOf(e, host)
      const mode = fileModeFields(fileMode(e))
      // a file a plain git-annex peer unlocked stays unlocked when written over (not once unlinked)
      const prev = t.get(e.path)
      const unlocked = prev?.type === "file" && prev.unlocked ? { unlocked: true as const } : {}
      t.set(
        e.path,
        writer === undefined
          ? { type: "file", content: e.content, ...mode, mtime: time, ...unlocked }
          : { type: "file", content: e.content, ...mode, mtime: time, host: writer, ...unlocked }
      )
      return undefined
    }
    case "symlink": {
      if (!parentIsDir(t, e.path)) return Refused.ParentNotDirectory
      if (t.has(e.path)) return Refused.AlreadyExists
      t.set(e.path, { type: "symlink", target: e.target, mtime: time })
      return undefined
    }
    case "mkdir": {
      if (!parentIsDir(t, e.path)) return Refused.ParentNotDirectory
      if (t.has(e.path)) return Refused.AlreadyExists
      t.set(e.path, dirWithMode(e.mode ?? DEFAULT_DIR_MODE))
      return undefined
    }
    case "rmdir": {
      if (!t.isDir(e.path)) return Refused.NotDirectory
      if (t.childCount(e.path) > 0) return Refused.DirectoryNotEmpty
      t.delete(e.path)
      return undefined
    }
    case "unlink": {
      const n = t.get(e.path)
      if (!n) return Refused.NoSuchFile
      if (n.type === "dir") return Refused.IsDirectory
      t.delete(e.path)
      return undefined
    }
    case "rename": {
      if (!isTreePath(e.to)) return Refused.InvalidPath
      const from = t.get(e.path)
      if (!from) return Refused.NoSuchFile
      if (e.path === e.to) return undefined
      if (isWithin(e.to, e.path)) return Refused.MoveIntoItself
      if (!parentIsDir(t, e.to)) return Refused.ParentNotDirectory
      const to = t.get(e.to)
      if (to) {
        if (from.type === "dir" && to.type !== "dir") return Refused.NotDirectory
        if (from.type !== "dir" && to.type === "dir") return Refused.IsDirectory
        if (to.type === "dir" && t.childCount(e.to) > 0) return Refused.DirectoryNotEmpty
      }
      t.move(e.path, e.to)
      // a file saved by renaming a new one over it (an editor's save) stays unlocked, as it would
      // in a plain git-annex work tree
      const moved = t.get(e.to)
      if (to?.type === "file" && to.unlocked && moved?.type === "file" && !moved.unlocked) t.set(e.to, { ...moved, unlocked: true })
      return undefined
    }
    case "chmod": {
      const n = t.get(e.path)
      if (!n) return Refused.NoSuchFile
      // each kind's chmod applies to that kind only; a symlink's mode is always 0777 (chmod follows
      // symlinks: none reaches here from a mount)
      const mode = fileMode(e)
      if (e.dir === true ? n.type === "dir" : n.type === "file") t.set(e.path, n.type === "file" ? withFileMode(n, mode) : dirWithMode(mode))
      return undefined
    }
    case "utimens": {
      const n = t.get(e.path)
      if (!n) return Refused.NoSuchFile
      if (n.type !== "dir") t.set(e.path, { ...n, mtime: e.mtime })
      return undefined
    }
  }
}

/** Pure: the tree after one event, and the rejection if it did not apply. */
export const reduce = (t: Tree, e: Event): { tree: Tree; rejected?: Rejection } => {
  const next = t.clone()
  const refusal = applyInPlace(next, e, e.time, e.host)
  return refusal === undefined ? { tree: next } : { tree: t, rejected: { event: e, refusal, reason: describeRefusal(refusal) } }
}

/** Pure: folds a sequence of events. */
export const reduceAll = (t: Tree, es: Iterable<Event>): { tree: Tree; rejected: Array<Rejection> } => {
  const next = t.clone()
  const rejected: Array<Rejection> = []
  for (const e of es) {
    const refusal = applyInPlace(next, e, e.time, e.host)
    if (refusal !== undefined) rejected.push({ event: e, refusal, reason: describeRefusal(refusal) })
  }
  return { tree: next, rejected }
}
