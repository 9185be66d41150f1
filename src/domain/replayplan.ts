/**
 * The replay's plan: which pending events replay now, and the commits they become. Pure: the shell
 * (src/effects/replay.ts) reads the staging files and ingests the content, then writes these
 * commits with one `git fast-import`.
 */
import { applyInPlace } from "./reduce.js"
import type { Event, Operation } from "./events.js"
import { type TreeChange, storedChanges } from "./storage.js"
import { type Node, type Tree, contentId } from "./tree.js"

/** One commit to write. */
export interface Commit {
  readonly changes: ReadonlyArray<TreeChange>
  /** milliseconds; the commit time, so a replay run twice makes the same commits */
  readonly time: number
  readonly message: string
  readonly host: string
  /** last journal sequence number the commit covers (replay commits) */
  readonly seq?: number
  /** second parent (merge commits) */
  readonly merge?: string
  /** more `Key: value` trailers */
  readonly trailers?: ReadonlyArray<string>
}

/**
 * The stretch of pending events that can replay now: up to the first write whose staging file an
 * open file still writes to (`active`), which must not be read half written.
 */
export const replayable = (pending: ReadonlyArray<Event>, active: ReadonlySet<string>): Array<Event> => {
  const raw: Array<Event> = []
  for (const e of pending) {
    if (e.op === "write" && e.content.kind === "staged" && active.has(e.content.id)) break
    raw.push(e)
  }
  return raw
}

/**
 * The commits `events` (optimised, of the stretch `raw`) become on top of `base`, and the tree they
 * end at. `content` maps each staging id written to its annex key. A commit is cut wherever a path
 * gets a second version, so every version reaches history; the last commit covers the whole
 * replayed stretch of the journal, optimised away or not.
 */
export const planCommits = (
  base: Tree,
  raw: ReadonlyArray<Event>,
  events: ReadonlyArray<Event>,
  content: ReadonlyMap<string, string>,
  host: string,
  objectPath: (key: string) => string
): { readonly commits: ReadonlyArray<Commit>; readonly tree: Tree } => {
  const work = base.clone()
  const commits: Array<Commit> = []
  let prev = new Map<string, Node | undefined>()
  /** path -> staging id of its version in the commit being built */
  let written = new Map<string, string>()
  let batch: Array<Event> = []
  const remember = (p: string) => {
    if (!prev.has(p)) prev.set(p, work.get(p))
  }
  const cut = () => {
    if (batch.length === 0) return
    const before = prev
    const changes: Array<TreeChange> = storedChanges({ get: (p) => (before.has(p) ? before.get(p) : work.get(p)) }, work, before.keys(), objectPath)
    const last = batch[batch.length - 1]!
    commits.push({ changes, time: last.time, message: commitMessage(batch), host, seq: last.seq })
    prev = new Map()
    written = new Map()
    batch = []
  }
  for (const e of events) {
    const op: Operation = e.op === "write" && e.content.kind === "staged" ? { ...e, content: { kind: "key", key: content.get(e.content.id)! } } : e
    // A second write of the same staging file (a flush of a dup'd descriptor) is the same version.
    const version = e.op === "write" ? contentId(e.content) : ""
    if (op.op === "write" && written.has(op.path) && written.get(op.path) !== version) cut()
    remember(op.path)
    if (op.op === "rename") {
      remember(op.to)
      if (work.isDir(op.path)) for (const [d] of work.walk(op.path)) remember(op.to + d.slice(op.path.length))
    }
    if (applyInPlace(work, op, e.time) === undefined && op.op === "write") written.set(op.path, version)
    batch.push(e)
  }
  cut()
  if (commits.length && raw.length) commits[commits.length - 1] = { ...commits[commits.length - 1]!, seq: raw[raw.length - 1]!.seq }
  return { commits, tree: work }
}

export const commitMessage = (batch: ReadonlyArray<Event>): string => {
  const first = batch[0]!
  const what = (e: Event) => (e.op === "rename" ? `${e.op} ${e.path} -> ${e.to}` : `${e.op} ${e.path}`)
  const title = batch.length === 1 ? what(first) : `${what(first)} and ${batch.length - 1} more`
  return `sharebox: ${title}`
}
