/**
 * The reducer: folds events over a tree. Total: an event that does not apply leaves the tree as it
 * was and is reported as a `Rejection`, never thrown.
 */
import type { Event, Operation } from "./events.js"
import { isTreePath, isWithin, parentOf } from "./paths.js"
import { type Tree } from "./tree.js"

export type Rejection = { readonly event: Operation; readonly reason: string }

const parentIsDir = (t: Tree, path: string): boolean => t.isDir(parentOf(path))

/** The writer of an operation: the explicit argument, else the `host` of an event passed as an operation. */
const writerOf = (e: Operation, host: string | undefined): string | undefined => {
  if (host !== undefined) return host
  const h = (e as { readonly host?: unknown }).host
  return typeof h === "string" ? h : undefined
}

/**
 * Applies one operation to `t` in place; returns the reason it does not apply, or undefined.
 * `time` is the event's time, used as the new mtime of written files; `host` (default: the `host`
 * field when `e` is a whole event) becomes the written file's `host`. chmod, utimens and rename
 * keep a file's host.
 */
export const applyInPlace = (t: Tree, e: Operation, time: number, host?: string): string | undefined => {
  if (!isTreePath(e.path)) return "invalid path"
  switch (e.op) {
    case "write": {
      if (!parentIsDir(t, e.path)) return "parent is not a directory"
      if (t.get(e.path)?.type === "dir") return "is a directory"
      const writer = writerOf(e, host)
      t.set(
        e.path,
        writer === undefined
          ? { type: "file", content: e.content, executable: e.executable, mtime: time }
          : { type: "file", content: e.content, executable: e.executable, mtime: time, host: writer }
      )
      return undefined
    }
    case "symlink": {
      if (!parentIsDir(t, e.path)) return "parent is not a directory"
      if (t.has(e.path)) return "already exists"
      t.set(e.path, { type: "symlink", target: e.target, mtime: time })
      return undefined
    }
    case "mkdir": {
      if (!parentIsDir(t, e.path)) return "parent is not a directory"
      if (t.has(e.path)) return "already exists"
      t.set(e.path, { type: "dir" })
      return undefined
    }
    case "rmdir": {
      if (!t.isDir(e.path)) return "not a directory"
      if (t.childCount(e.path) > 0) return "directory not empty"
      t.delete(e.path)
      return undefined
    }
    case "unlink": {
      const n = t.get(e.path)
      if (!n) return "no such file"
      if (n.type === "dir") return "is a directory"
      t.delete(e.path)
      return undefined
    }
    case "rename": {
      if (!isTreePath(e.to)) return "invalid path"
      const from = t.get(e.path)
      if (!from) return "no such file"
      if (e.path === e.to) return undefined
      if (isWithin(e.to, e.path)) return "cannot move a directory into itself"
      if (!parentIsDir(t, e.to)) return "parent is not a directory"
      const to = t.get(e.to)
      if (to) {
        if (from.type === "dir" && to.type !== "dir") return "not a directory"
        if (from.type !== "dir" && to.type === "dir") return "is a directory"
        if (to.type === "dir" && t.childCount(e.to) > 0) return "directory not empty"
      }
      t.move(e.path, e.to)
      return undefined
    }
    case "chmod": {
      const n = t.get(e.path)
      if (!n) return "no such file"
      if (n.type === "file") t.set(e.path, { ...n, executable: e.executable })
      return undefined
    }
    case "utimens": {
      const n = t.get(e.path)
      if (!n) return "no such file"
      if (n.type !== "dir") t.set(e.path, { ...n, mtime: e.mtime })
      return undefined
    }
  }
}

/** Pure: the tree after one event, and the rejection if it did not apply. */
export const reduce = (t: Tree, e: Event): { tree: Tree; rejected?: Rejection } => {
  const next = t.clone()
  const reason = applyInPlace(next, e, e.time, e.host)
  return reason === undefined ? { tree: next } : { tree: t, rejected: { event: e, reason } }
}

/** Pure: folds a sequence of events. */
export const reduceAll = (t: Tree, es: Iterable<Event>): { tree: Tree; rejected: Array<Rejection> } => {
  const next = t.clone()
  const rejected: Array<Rejection> = []
  for (const e of es) {
    const reason = applyInPlace(next, e, e.time, e.host)
    if (reason !== undefined) rejected.push({ event: e, reason })
  }
  return { tree: next, rejected }
}
