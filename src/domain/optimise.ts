/**
 * The optimiser (the Coda idea): drops events that never need to reach history.
 *
 * Law: for every tree t, `reduceAll(t, optimise(es)).tree` equals `reduceAll(t, es).tree`. The
 * events are replayed over whatever tree the host holds when they are replayed (a sync may have
 * changed it since they were recorded), and `reduce` rejects events that do not apply there, so a
 * rule may only fire when it holds for every tree, whichever events are rejected. Every rule below
 * is such an equivalence, and the property test checks the law on random trees and logs.
 *
 * Rules (p is one path; "unrelated" events touch no path equal to p, above it or below it, and
 * commute with events on p):
 * 1. events that no tree accepts (an invalid path, a rename to an invalid path) and renames of a
 *    path to itself are dropped;
 * 2. a write, symlink, chmod or utimens of p followed by an unlink of p, with only unrelated events
 *    between, is dropped: the unlink leaves the same tree either way (a file created and removed,
 *    an editor's swap, lock or autosave file, a chmod of a file that is then removed);
 * 3. a mkdir of p followed by an rmdir of p is dropped likewise;
 * 4. a chmod or utimens of p followed by a write of p is dropped (the write sets both), and so is
 *    one followed by another chmod (resp. utimens) of p, with only utimens (resp. chmod) between;
 * 5. a chmod of p right after a write of p is folded into the write (its mode);
 * 6. of two writes of the same content (the same staged id or key) to p, the first is dropped: it
 *    is the same version. Writes of different contents are all kept: each is a version the user
 *    may want in history, unless rule 2 removes the file;
 * 7. an unlink of p is dropped when p cannot be a file or symlink at that point (an earlier unlink
 *    of p and nothing since that could have put one there): it is then a no-op on every tree.
 *
 * The chmods of these rules are files' chmods; a directory's chmod (`dir`) is kept where it is.
 *
 * What is deliberately not done: collapsing a rename chain a -> b -> c into a -> c, and replacing
 * an editor's "rename the original to a backup, write the new file, remove the backup" or "write
 * a temporary file, rename it over the original" by one write. Neither is an equivalence on every
 * tree: with t = {a: file A, b: file B}, `a -> b, b -> c` leaves {c: A} but `a -> c` leaves
 * {b: B, c: A}; with t = {x: empty directory}, `write x.tmp, rename x.tmp -> x` leaves x a
 * directory and x.tmp a file, `write x` leaves x a directory alone. What those dances leave in
 * history is one version of the file anyway (the replay commits them together); what they cost is
 * their temporary files' contents, and rules 2 and 7 drop those.
 *
 * Surviving events keep their seq, host and time; a write that absorbed a chmod (rule 5) changes
 * only its mode. The result may contain unlinks of files that never existed (what is
 * left of a file created and removed in the log): they are rejected, harmlessly, on replay.
 */
import type { Event } from "./events.js"
import { ancestorsOf, isTreePath, isWithin } from "./paths.js"
import { contentId } from "./tree.js"

/** What the nearest kept later events do to a path, as far as earlier events on it care. */
type Next =
  | { readonly kind: "unlink" }
  | { readonly kind: "rmdir" }
  | { readonly kind: "write"; readonly content: string }
  /** only chmods and utimens: the index of the first of each, if any */
  | { readonly kind: "attrs"; readonly chmod?: number; readonly utimens?: number }

const pathsOf = (e: Event): Array<string> => (e.op === "rename" ? [e.path, e.to] : [e.path])

/** Rule 1: events no tree accepts, and renames to the same path (no change on any tree). */
const isNoOp = (e: Event): boolean =>
  !isTreePath(e.path) || (e.op === "rename" && (!isTreePath(e.to) || e.to === e.path))

/**
 * Rules 2-6, scanning backwards. `next` holds, for each path, what the kept later events do to it
 * until an unrelated-or-not event touches it or a path above or below it.
 */
const backward = (es: ReadonlyArray<Event>): Array<Event> => {
  const out: Array<Event | undefined> = [...es]
  const next = new Map<string, Next>()
  const forget = (p: string) => {
    next.delete(p)
    for (const a of ancestorsOf(p)) next.delete(a)
    for (const q of [...next.keys()]) if (isWithin(q, p)) next.delete(q)
  }
  for (let i = es.length - 1; i >= 0; i--) {
    const e = out[i]!
    const n = next.get(e.path)
    // a directory's chmod is no file's: no rule below is true of it on every tree
    const fileChmod = e.op === "chmod" && e.dir !== true
    const drop =
      n !== undefined &&
      ((n.kind === "unlink" && (e.op === "write" || e.op === "symlink" || fileChmod || e.op === "utimens")) ||
        (n.kind === "rmdir" && e.op === "mkdir") ||
        (n.kind === "write" && (fileChmod || e.op === "utimens")) ||
        (n.kind === "write" && e.op === "write" && contentId(e.content) === n.content) ||
        (n.kind === "attrs" && fileChmod && n.chmod !== undefined) ||
        (n.kind === "attrs" && e.op === "utimens" && n.utimens !== undefined))
    if (drop) {
      out[i] = undefined
      continue
    }
    let folded: Event = e
    if (e.op === "write" && n?.kind === "attrs" && n.chmod !== undefined) {
      const c = out[n.chmod]!
      if (c.op === "chmod") {
        const { mode: _replaced, ...w } = e
        folded = c.mode === undefined ? { ...w, executable: c.executable } : { ...w, executable: c.executable, mode: c.mode }
      }
      out[n.chmod] = undefined
    }
    out[i] = folded
    for (const p of pathsOf(e)) forget(p)
    switch (e.op) {
      case "unlink":
        next.set(e.path, { kind: "unlink" })
        break
      case "rmdir":
        next.set(e.path, { kind: "rmdir" })
        break
      case "write":
        next.set(e.path, { kind: "write", content: contentId(e.content) })
        break
      case "chmod":
        if (e.dir !== true) next.set(e.path, n?.kind === "attrs" ? { ...n, chmod: i } : { kind: "attrs", chmod: i })
        break
      case "utimens":
        next.set(e.path, n?.kind === "attrs" ? { ...n, utimens: i } : { kind: "attrs", utimens: i })
        break
    }
  }
  return out.filter((e): e is Event => e !== undefined)
}

/**
 * Rules 1 and 7, scanning forwards. `noFile` holds paths that are, on every tree, absent or a
 * directory at this point: an unlink puts its path there (it removes a file or symlink, or is
 * rejected because there is none); only a write, a symlink or a rename onto the path or a
 * directory above it can take it out.
 */
const forward = (es: ReadonlyArray<Event>): Array<Event> => {
  const out: Array<Event> = []
  const noFile = new Set<string>()
  for (const e of es) {
    if (isNoOp(e)) continue
    switch (e.op) {
      case "unlink":
        if (noFile.has(e.path)) continue
        noFile.add(e.path)
        break
      case "write":
      case "symlink":
        noFile.delete(e.path)
        break
      case "rename":
        for (const p of [...noFile]) if (isWithin(p, e.to)) noFile.delete(p)
        break
    }
    out.push(e)
  }
  return out
}

/** Drops what never needs to reach history; see the rules above. Pure; never reorders events. */
export const optimise = (events: ReadonlyArray<Event>): Array<Event> => {
  let es: Array<Event> = [...events]
  for (;;) {
    const next = backward(forward(es))
    if (next.length === es.length && next.every((e, i) => e === es[i])) return next
    es = next
  }
}
