/**
 * A revert: the operations that bring a path (a file, a folder with all below it, or the root)
 * back to how it was in a past tree, as ordinary operations a user's edits could have made, so the
 * revert is journalled, replayed and synced like any other change.
 *
 * What a revert brings back is what a version is: each node's kind, content, symlink target and
 * mode. Not times: a file brought back is written now, as a restore is (a build that compares
 * mtimes sees it change). A node whose content and mode are already the past ones is left alone,
 * and nothing outside the path changes, except the folders above it that must exist for it.
 */
import type { Operation } from "./events.js"
import { ancestorsOf, parentOf } from "./paths.js"
import { type Node, type Tree, contentId, dirMode, fileMode, fileModeFields, sameContent } from "./tree.js"

export type RevertPlan = { readonly ok: true; readonly ops: ReadonlyArray<Operation> } | { readonly ok: false; readonly reason: string }

const kindOf = (n: Node): string => (n.type === "file" ? "file" : n.type === "dir" ? "folder" : "symlink")

/** Whether the node now can stay as the past one is (its content or mode may still change). */
const keeps = (now: Node, past: Node): boolean => now.type === past.type && (now.type !== "symlink" || now.target === (past as { target: string }).target)

/** `path` and every node below it, parents before children (the root itself left out). */
const subtree = (t: Tree, path: string): Array<readonly [string, Node]> => {
  if (path === "") return [...t.walk("")]
  const n = t.get(path)
  if (!n) return []
  return n.type === "dir" ? [[path, n], ...t.walk(path)] : [[path, n]]
}

const dirOp = (path: string, n: Node): Operation => (n.type === "dir" && n.mode !== undefined ? { op: "mkdir", path, mode: n.mode } : { op: "mkdir", path })

/**
 * The operations that turn `path` in `current` into `path` in `past`: removals first, deepest
 * first; then what comes back or changes, parents first. Refused (with a reason) only when a
 * folder above `path` is something else now, which a revert of `path` alone cannot undo.
 */
export const revertPlan = (past: Tree, current: Tree, path: string): RevertPlan => {
  const ops: Array<Operation> = []
  const wanted = past.get(path)
  if (wanted !== undefined && path !== "") {
    for (const a of ancestorsOf(path)) {
      const now = current.get(a)
      if (now !== undefined && now.type !== "dir") return { ok: false, reason: `${a} is a ${kindOf(now)} now, not a folder: revert ${a} instead` }
    }
  }
  // removals: what is not there in the past, or is another kind of node there
  const gone = new Set<string>()
  const removals: Array<readonly [string, Node]> = []
  for (const [p, n] of subtree(current, path)) {
    const parentGone = gone.has(parentOf(p))
    const was = past.get(p)
    if (parentGone || was === undefined || !keeps(n, was)) {
      gone.add(p)
      removals.push([p, n])
    }
  }
  for (const [p, n] of removals.reverse()) ops.push(n.type === "dir" ? { op: "rmdir", path: p } : { op: "unlink", path: p })
  if (wanted === undefined) return { ok: true, ops }
  // folders above the path that are gone now
  for (const a of ancestorsOf(path)) if (!current.has(a)) ops.push(dirOp(a, past.get(a)!))
  for (const [p, was] of subtree(past, path)) {
    const now = gone.has(p) ? undefined : current.get(p)
    switch (was.type) {
      case "dir":
        if (now === undefined) ops.push(dirOp(p, was))
        else if (now.type === "dir" && dirMode(now) !== dirMode(was)) ops.push({ op: "chmod", path: p, ...fileModeFields(dirMode(was)), mode: dirMode(was), dir: true })
        break
      case "symlink":
        if (now === undefined) ops.push({ op: "symlink", path: p, target: was.target })
        break
      case "file": {
        const mode = fileModeFields(fileMode(was))
        if (now === undefined) ops.push({ op: "write", path: p, content: was.content, ...mode, base: null })
        else if (now.type === "file" && !sameContent(now.content, was.content)) ops.push({ op: "write", path: p, content: was.content, ...mode, base: contentId(now.content) })
        else if (now.type === "file" && fileMode(now) !== fileMode(was)) ops.push({ op: "chmod", path: p, ...mode })
        break
      }
    }
  }
  return { ok: true, ops }
}

/** What a plan does, one line per path (as `replay --dry-run` lists operations). */
export const revertLines = (ops: ReadonlyArray<Operation>): Array<string> =>
  ops.map((o) => `${(o.op === "write" ? (o.base === null ? "create" : "write") : o.op).padEnd(7)} ${o.path}`)

