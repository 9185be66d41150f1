/**
 * Versions a plain git-annex peer wrote. sharebox keeps each file's writer and mtime in its
 * directory's marker (storage.ts), and commits as `UUID@sharebox` with a `Sharebox-Time` trailer; a
 * plain peer's commit changes the file and leaves the marker as it was, so the marker's line names
 * the previous writer and time. The writer and time of such a version come from its commit instead:
 * the author's name, and the author's date.
 */
import { mountPathOf, storableHost } from "./storage.js"
import { isSaneTime } from "./time.js"
import { type FileNode, type Tree, contentId } from "./tree.js"

/** A commit sharebox made names its writer's UUID as the committer's address. */
export const shareboxCommitter = (email: string): string | undefined => /^(.+)@sharebox$/.exec(email)?.[1]

const MAX_WRITER = 64

/**
 * A plain commit's writer as a host id: its author's name with every character a marker, a file
 * name or a terminal would take for something else (white space, control characters, `\`, `/`) made
 * `_`, at most 64 characters; undefined when nothing is left (or only a number: a marker would read
 * it as an mtime). It names a writer; anyone may write any author, so it grants nothing.
 */
export const plainWriter = (author: string): string | undefined => {
  // eslint-disable-next-line no-control-regex
  const clean = [...author.trim().replace(/[\s\\/\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, "_")].slice(0, MAX_WRITER).join("")
  return storableHost(clean) && !/^_+$/.test(clean) ? clean : undefined
}

/**
 * A commit's time in milliseconds: the author's date for a plain commit (when the edit was made),
 * its committer's date when that one is absurd, the epoch when both are (a peer sets any date).
 */
export const plainTime = (authorSeconds: number, committerSeconds: number): number =>
  [authorSeconds * 1000, committerSeconds * 1000, 0].find(isSaneTime)!

/** One change a commit made to a stored path (ports.ts `LoggedChange`, the fields read here). */
export interface PathChange {
  /** the stored path */
  readonly path: string
  readonly time: number
  readonly host: string | undefined
  /** made by a plain (not sharebox) commit */
  readonly plain?: boolean
}

/** Who wrote a path's version last, and when, where that was a plain commit. */
export interface PlainEdit {
  readonly writer: string | undefined
  readonly time: number
}

/**
 * For each mount path whose last change in `changes` (oldest first) was a plain commit's, that
 * commit's writer and time. A later sharebox commit rewrote the path's marker line: its line holds.
 */
export const lastPlainEdits = (changes: ReadonlyArray<PathChange>): Map<string, PlainEdit> => {
  const last = new Map<string, PathChange>()
  for (const c of changes) last.set(c.path, c)
  const out = new Map<string, PlainEdit>()
  for (const [stored, c] of last) {
    const p = mountPathOf(stored)
    if (p !== undefined && c.plain) out.set(p, { writer: c.host, time: c.time })
  }
  return out
}

/**
 * `tree` with each file a plain commit wrote credited to that commit's writer and time: only files
 * whose content differs from `before` (what this host had), so a plain commit that only unlocked a
 * file, or a file both sides hold alike, keeps its line. `tree` itself when nothing changes, so a
 * tree credited already is not credited again.
 */
export const creditPlainEdits = (tree: Tree, before: { get(path: string): unknown }, edits: ReadonlyMap<string, PlainEdit>): Tree => {
  let out: Tree | undefined
  for (const [p, e] of edits) {
    const n = tree.get(p)
    if (n?.type !== "file") continue
    const b = before.get(p) as FileNode | undefined
    if (b?.type === "file" && contentId(b.content) === contentId(n.content)) continue
    if (n.host === e.writer && n.mtime === e.time) continue // credited already (a peer's commit on top says so)
    const { host: _old, ...rest } = n
    const credited: FileNode = e.writer === undefined ? { ...rest, mtime: e.time } : { ...rest, mtime: e.time, host: e.writer }
    ;(out ??= tree.clone()).set(p, credited)
  }
  return out ?? tree
}
