/**
 * Versions that reached a path while this host was writing it (docs/conflicts.md, "A peer's version
 * arriving while a file is open here"). A write records the version it replaced (`base`). When it
 * replays, the path may hold another version: a peer's, or a merge of both, that a sync brought in
 * while the file was open here, and that the writer never saw. That version is concurrent with the
 * write, so it is kept as a conflict copy, named as a merge names its losing version, before the
 * write lands.
 *
 * Pure: the replay (src/effects/replay.ts) hands in the committed tree and the pending events it
 * replays, and replays what this returns.
 */
import { conflictName, defaultHostLabel, labelOf, versionTag } from "./conflictnames.js"
import type { Event } from "./events.js"
import { applyInPlace } from "./reduce.js"
import { type Node, type Tree, contentId } from "./tree.js"

/** A version kept: it was at `path`, and is now at `copy`. */
export interface Kept {
  readonly path: string
  readonly copy: string
}

/** What a write's `base` is compared with: a file's content id, and for anything else an id no base is. */
const versionOf = (n: Node): string => (n.type === "file" ? contentId(n.content) : n.type === "symlink" ? `\0link:${n.target}` : "\0dir")

/**
 * A name for the copy of `n`, the version at `p`, free in `t`; or taken by the same content (the
 * same version kept before: replacing it loses nothing). Numbered as the merge numbers its copies.
 */
const copyNameFor = (t: Tree, p: string, n: Node, hostLabel: (uuid: string) => string): string => {
  const tag = `${labelOf(n, hostLabel)}-${versionTag(n)}`
  for (let i = 1; ; i++) {
    const copy = conflictName(p, i === 1 ? tag : `${tag}-${i}`)
    const there = t.get(copy)
    if (!there || (there.type !== "dir" && versionOf(there) === versionOf(n))) return copy
  }
}

/**
 * The events to replay over `committed` instead of `raw`: each write that would replace a version
 * other than its base (a file or symlink it did not see) is preceded by a rename of that version to
 * a conflict copy beside it. The rename keeps the version as it was (writer and mtime too) and
 * carries the write's seq, host and time. A write over nothing, or over its base, is left alone;
 * so is a version a local unlink or rename removed (the host saw what it removed).
 */
export const keepConcurrent = (
  committed: Tree,
  raw: ReadonlyArray<Event>,
  hostLabel: (uuid: string) => string = defaultHostLabel
): { readonly events: ReadonlyArray<Event>; readonly kept: ReadonlyArray<Kept> } => {
  const work = committed.clone()
  const events: Array<Event> = []
  const kept: Array<Kept> = []
  for (const e of raw) {
    const there = e.op === "write" ? work.get(e.path) : undefined
    if (e.op === "write" && there !== undefined && there.type !== "dir" && versionOf(there) !== e.base) {
      const copy = copyNameFor(work, e.path, there, hostLabel)
      const keep: Event = { op: "rename", path: e.path, to: copy, v: e.v, seq: e.seq, host: e.host, time: e.time }
      if (applyInPlace(work, keep, e.time) === undefined) {
        events.push(keep)
        kept.push({ path: e.path, copy })
      }
    }
    applyInPlace(work, e, e.time, e.host)
    events.push(e)
  }
  return kept.length === 0 ? { events: raw, kept } : { events, kept }
}

/**
 * A pending write's base after a replay: a staging file that replayed is the key it became. The
 * version a write replaced must still be recognised when the host's own earlier write of the file
 * reached history while it was open (`keys`: staging id -> key, from the replay).
 */
export const rebased = (base: string | null, keys: ReadonlyMap<string, string>): string | null => {
  if (base === null || !base.startsWith("staged:")) return base
  return keys.get(base.slice("staged:".length)) ?? base
}

/** An event with its base rebased (see `rebased`); others as they are. */
export const rebaseEvent = (e: Event, keys: ReadonlyMap<string, string>): Event => {
  if (e.op !== "write") return e
  const base = rebased(e.base, keys)
  return base === e.base ? e : { ...e, base }
}
