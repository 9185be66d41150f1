/**
 * What `status`, `log` and `replay --dry-run` report, computed from a host. The daemon and a
 * command working directly on a gitdir answer with the same values.
 */
import { promises as fs } from "node:fs"
import { keySize } from "../domain/key.js"
import type { HostServices } from "./hostlayer.js"
import { type ReplayPlan, summarise } from "./replay.js"
import { loadPins } from "./content.js"
import type { LogEntry, ReplaySummary, Status } from "./results.js"

export const logOf = async (host: HostServices): Promise<Array<LogEntry>> => {
  const replayed = (await host.replayer.unshared()).map((e) => ({ ...e, time: new Date(e.time).toISOString(), state: "replayed" as const }))
  const journal = host.views.pending.map((e) => ({ ...summarise(e), time: new Date(e.time).toISOString(), state: "journal" as const }))
  return [...replayed, ...journal]
}

export const statusOf = async (host: HostServices, mountpoint: string | null): Promise<Status> => {
  let total = 0
  let present = 0
  let bytes = 0
  let presentBytes = 0
  for (const [, n] of host.views.view.entries()) {
    if (n.type !== "file") continue
    total++
    const size = n.content.kind === "key" ? keySize(n.content.key) : n.content.size
    bytes += size
    if (n.content.kind !== "key" || host.presence.isPresent(n.content.key)) {
      present++
      presentBytes += size
    }
  }
  const ls = host.syncer.lastSync
  return {
    gitdir: host.repo.gitdir,
    mountpoint,
    pending: host.views.pending.length,
    unshared: (await host.replayer.unshared()).length,
    journalBytes: host.views.journalBytes,
    lastSync: ls ? { time: new Date(ls.time).toISOString(), reached: ls.report.reached, unreachable: ls.report.unreachable, failed: ls.report.failed ?? [] } : null,
    conflicts: host.syncer.openConflicts(),
    files: { total, present },
    bytes: { total: bytes, present: presentBytes },
    pins: await loadPins(host.content.host),
    ignored: await countIgnored(host.repo.layout.local, (p) => host.views.view.isDir(p))
  }
}

/** The paths in this host's own folder (src/fuse/local.ts), less the shadows of shared folders. */
const countIgnored = async (root: string, shared: (p: string) => boolean): Promise<number> => {
  let n = 0
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir === "" ? root : `${root}/${dir}`, { withFileTypes: true }).catch(() => [])
    for (const e of entries) {
      const p = dir === "" ? e.name : `${dir}/${e.name}`
      if (!(e.isDirectory() && shared(p))) n++
      if (e.isDirectory()) await walk(p)
    }
  }
  await walk("")
  return n
}

/** What a replay did (or, dry, would do). */
export const replaySummary = (plan: ReplayPlan): ReplaySummary => ({ events: plan.events.length, commits: plan.commits.length, lines: planLines(plan) })

/** The dry-run plan as lines a person reads. */
export const planLines = (plan: ReplayPlan): Array<string> => {
  const lines: Array<string> = []
  // the renames that keep versions changed elsewhere are no journal operation of their own
  if (plan.raw.length > 0) lines.push(`${plan.events.length - plan.kept.length} of ${plan.raw.length} journal operation(s) reach history:`)
  for (const e of plan.events) {
    lines.push(`${e.op.padEnd(7)} ${e.path}${e.op === "rename" ? ` -> ${e.to}` : ""}`)
  }
  for (const k of plan.kept) lines.push(`keep    ${k.path} -> ${k.copy} (changed elsewhere while written here: a conflict copy)`)
  for (const p of new Set(plan.lost.map((e) => e.path))) lines.push(`lost    ${p} (its staging file is gone: left out)`)
  const keys = new Set(plan.content.values())
  for (const k of keys) lines.push(`add     ${k}`)
  plan.commits.forEach((c, i) => lines.push(`commit  ${i + 1}: ${c.message.split("\n")[0]} (${c.changes.length} change(s))`))
  if (plan.raw.length === 0) lines.push("nothing to replay")
  return lines
}

/** Whether a mountpoint is recorded and live for this gitdir. */
export const recordedMount = async (host: HostServices): Promise<string | null> => {
  try {
    return (await fs.readFile(host.repo.layout.mountInfo, "utf8")).trim() || null
  } catch {
    return null
  }
}
