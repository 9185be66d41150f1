/**
 * What a peer's tree holds that no host can: names that are `.`, `..`, empty, longer than 255
 * bytes, not UTF-8, `.git` or a root `.sharebox`, links too long to be links, file and directory
 * under one name (domain/storage.ts `mountPathOf`). Such entries never reach the view; this makes
 * the commit that drops them from git too, on top of the peer's, so that this host never checks
 * them out (`read-tree` fails on them, and the host could no longer mount), never commits them in
 * a merge and never pushes them on.
 *
 * The commit is the same on every host (same parent, changes, time and author), so hosts that
 * each left out the same entries agree on it and have nothing to merge.
 */
import { printable } from "../domain/printable.js"
import type { LoadedTree, TreeChange } from "../domain/storage.js"
import type { GitPort } from "./ports.js"

/** The author of these commits: no host, so every host writes the same one. */
const AUTHOR = "sharebox"

/** How many names a report lists before it counts the rest. */
const LISTED = 20

/** One line naming what was left out (names escaped: they came from a peer). */
export const describeLeftOut = (from: string, skipped: ReadonlyArray<string>): string => {
  const names = skipped.slice(0, LISTED).map((p) => JSON.stringify(printable(p)))
  const more = skipped.length > LISTED ? ` and ${skipped.length - LISTED} more` : ""
  return `left out ${skipped.length} entr${skipped.length === 1 ? "y" : "ies"} from ${printable(from)} that no host can hold: ${names.join(", ")}${more}`
}

/** A commit on top of `parent` without the entries `loaded` skipped; returns its id. */
export const leaveOut = async (git: GitPort, parent: string, loaded: LoadedTree): Promise<string> => {
  const changes: Array<TreeChange> = loaded.skippedBytes.map((raw, i) => ({ _tag: "Delete", path: loaded.skipped[i]!, raw }))
  const time = await git.commitTime(parent)
  const ref = `refs/sharebox/leave-out-${process.pid}`
  const message = `sharebox: leave out ${loaded.skipped.length} entr${loaded.skipped.length === 1 ? "y" : "ies"} no host can hold`
  const oid = await git.writeCommits([{ changes, time, message, host: AUTHOR }], parent, ref)
  await git.deleteRef(ref)
  return oid
}
