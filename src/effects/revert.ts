/**
 * `sharebox revert PATH --at TIME`: PATH brought back to how it was at TIME, as ordinary
 * operations recorded one after the other through the view's owner, as a user's edits are
 * (domain/revert.ts decides them); they replay into one commit and sync like any other change.
 * Old content is its key again (or its git blob): nothing is copied, and content that is not
 * here is fetched when the file is read, as any file's.
 */
import { momentAt, momentName, parseTime } from "../domain/moments.js"
import { VIRTUAL_ROOT } from "../domain/paths.js"
import { describeRefusal } from "../domain/reduce.js"
import { revertLines, revertPlan } from "../domain/revert.js"
import { UsageError } from "./errors.js"
import type { HostServices } from "./hostlayer.js"

/** This host's time zone: its offset from UTC, in minutes east, at an instant. */
export const localOffset = (ms: number): number => -new Date(ms).getTimezoneOffset()

/** What a TIME means here and now, or a usage error (exit 64) saying why it is not one. */
export const instantOf = (at: string): { readonly time: number; readonly exact: boolean } => {
  const t = parseTime(at, Date.now(), localOffset)
  if (!t.ok) throw new UsageError({ message: t.reason, exitCode: 64 })
  return t
}

/** Reverts `path` (a mount path; "" is the whole tree) to `at`; what it changed (or, dry, would change), one line a path. */
export const revertPath = async (host: HostServices, path: string, at: string, dryRun: boolean): Promise<Array<string>> => {
  if (path === VIRTUAL_ROOT || path.startsWith(VIRTUAL_ROOT + "/")) throw new UsageError({ message: `${path}: sharebox's virtual folder has no past to revert to`, exitCode: 64 })
  const { time } = instantOf(at)
  // states are to the second: an exact time counts in the second it falls in
  const moment = momentAt(await host.versions.past.moments(), time)
  if (moment === undefined) throw new UsageError({ message: `nothing was committed here at or before ${momentName(time)}`, exitCode: 66 })
  const past = await host.versions.past.tree(moment.commit)
  const plan = revertPlan(past, host.views.view, path)
  if (!plan.ok) throw new UsageError({ message: `cannot revert ${path || "the root"}: ${plan.reason}`, exitCode: 1 })
  const lines = revertLines(plan.ops)
  if (lines.length === 0) {
    const then = momentName(moment.time)
    return [past.has(path) ? `nothing to change: ${path || "the tree"} is as it was at ${then}` : `nothing to change: ${path} did not exist at ${then} and does not now`]
  }
  // content let go everywhere (old versions past -o numversions) comes back as a name only: said, not refused
  for (const op of plan.ops) {
    if (op.op !== "write" || op.content.kind !== "key" || host.presence.isPresent(op.content.key)) continue
    if ((await host.presence.whereis(op.content.key).catch(() => ["?"])).length === 0) lines.push(`note    ${op.path}: no copy of its old content is known anywhere; it will not open`)
  }
  if (dryRun) return lines
  for (const op of plan.ops) {
    // an unlinked file's open writer writes nowhere now, as after an rm through the mount
    const refusal = await host.views.record(op, undefined, op.op === "unlink" ? () => host.staging.forgetSession(op.path) : undefined)
    // the view changed under the plan (an edit through the mount meanwhile): stop where it no longer applies
    if (refusal) throw new UsageError({ message: `cannot revert ${path || "the root"}: ${op.op} ${op.path}: ${describeRefusal(refusal)} (changed meanwhile; run it again)`, exitCode: 1 })
  }
  return lines
}
