/**
 * Requests about content and versions, answered the same way by the daemon (over its socket) and
 * by a command working directly on a gitdir.
 */
import { keySize } from "../domain/key.js"
import { baseName } from "../domain/paths.js"
import { type Refusal, describeRefusal } from "../domain/reduce.js"
import { versionFileName } from "../domain/retention.js"
import type { Request } from "./control.js"
import { drop, get, loadPins, loadSettings, pin, whereis } from "./content.js"
import { UsageError } from "./errors.js"
import type { PathVersion } from "./history.js"
import type { Host } from "./host.js"
import type { ConflictInfo, VersionInfo } from "./results.js"

const str = (v: unknown, what: string): string => {
  if (typeof v !== "string") throw new UsageError({ message: `missing ${what}`, exitCode: 64 })
  return v
}

const strings = (v: unknown): Array<string> => (Array.isArray(v) ? v.map(String) : [])

export const versionsOf = async (host: Host, path: string): Promise<Array<VersionInfo>> => {
  const versions = (await host.history()).get(path)
  if (!versions) throw new UsageError({ message: `${path}: no history (never committed here)`, exitCode: 66 })
  const names = await host.annex.descriptions()
  const out: Array<VersionInfo> = []
  for (const v of versions) {
    out.push({
      id: v.commit.slice(0, 8),
      name: v.deleted ? "" : versionFileName(v, baseName(path)),
      time: new Date(v.time).toISOString(),
      host: v.host ? (names.get(v.host) ?? v.host) : null,
      size: v.key ? keySize(v.key) : null,
      key: v.key ?? null,
      deleted: v.deleted,
      present: v.key ? host.isPresent(v.key) : !v.deleted
    })
  }
  return out
}

/** The version a restore asks for: by id prefix, the newest at or before a time, or the newest. */
export const pickVersion = (versions: ReadonlyArray<PathVersion>, id?: string, at?: string): PathVersion => {
  const candidates = versions.filter((v) => !v.deleted)
  if (candidates.length === 0) throw new UsageError({ message: "no version with content to restore", exitCode: 66 })
  if (id) {
    const v = candidates.find((c) => c.commit.startsWith(id))
    if (!v) throw new UsageError({ message: `no version ${id}`, exitCode: 66 })
    return v
  }
  if (at) {
    const t = Date.parse(at)
    if (Number.isNaN(t)) throw new UsageError({ message: `not a time: ${at}`, exitCode: 64 })
    const v = [...candidates].reverse().find((c) => c.time <= t)
    if (!v) throw new UsageError({ message: `no version at or before ${at}`, exitCode: 66 })
    return v
  }
  return candidates[candidates.length - 1]!
}

export const contentRequest = async (host: Host, req: Request, out: (line: string) => void): Promise<{ code: number; result?: unknown }> => {
  const a = req.args ?? {}
  switch (req.cmd) {
    case "whereis":
      return { code: 0, result: await whereis(host, strings(a.paths)) }
    case "get":
      return { code: (await get(host, strings(a.paths), out)) ? 0 : 1 }
    case "drop": {
      const settings = await loadSettings(host)
      return { code: (await drop(host, strings(a.paths), settings.copies, out)) ? 0 : 1 }
    }
    case "pin":
    case "unpin":
      return { code: 0, result: await pin(host, strings(a.paths), req.cmd === "pin") }
    case "pins":
      return { code: 0, result: await loadPins(host) }
    case "versions":
      return { code: 0, result: await versionsOf(host, str(a.path, "path")) }
    case "restore": {
      const path = str(a.path, "path")
      const versions = (await host.history()).get(path)
      if (!versions) throw new UsageError({ message: `${path}: no history to restore from`, exitCode: 66 })
      const v = pickVersion(versions, a.version as string | undefined, a.at as string | undefined)
      const to = typeof a.to === "string" ? a.to : path
      await host.restore(v, path, to)
      return { code: 0, result: { path: to, version: v.commit.slice(0, 8) } }
    }
    case "conflicts":
      return { code: 0, result: await conflictsOf(host) }
    case "resolve": {
      const keep = str(a.keep, "--keep")
      if (keep !== "winner" && keep !== "copy" && keep !== "both") throw new UsageError({ message: "--keep must be winner, copy or both", exitCode: 64 })
      const targets = typeof a.path === "string" ? [a.path] : host.openConflicts().map((c) => c.copy)
      const lines: Array<string> = []
      for (const t of targets) lines.push(await resolveConflict(host, t, keep))
      return { code: 0, result: lines }
    }
    default:
      return { code: 64, result: `unknown request ${req.cmd}` }
  }
}

export const conflictsOf = async (host: Host): Promise<Array<ConflictInfo>> => {
  const names = await host.annex.descriptions()
  const describe = (p: string) => {
    const n = host.view.get(p)
    if (!n || n.type === "dir") return { path: p, host: null, time: "", size: null, key: null }
    const uuid = (n as { host?: string }).host
    const key = n.type === "file" && n.content.kind === "key" ? n.content.key : null
    const size = n.type === "file" ? (n.content.kind === "key" ? keySize(n.content.key) : n.content.size) : null
    return { path: p, host: uuid ? (names.get(uuid) ?? uuid) : null, time: new Date(n.mtime).toISOString(), size, key }
  }
  return host.openConflicts().map((c) => ({ path: c.path, copy: c.copy, versions: [describe(c.path), describe(c.copy)] }))
}

export type Keep = "winner" | "copy" | "both"

/** Resolves one conflict with ordinary operations (they sync like any edit). */
export const resolveConflict = async (host: Host, copy: string, keep: Keep): Promise<string> => {
  const c = host.openConflicts().find((x) => x.copy === copy || x.path === copy)
  if (!c) throw new UsageError({ message: `${copy}: no open conflict there`, exitCode: 66 })
  let refusal: Refusal | undefined
  let outcome: string
  switch (keep) {
    case "winner":
      refusal = await host.record({ op: "unlink", path: c.copy })
      outcome = `kept ${c.path}; removed ${c.copy}`
      break
    case "copy":
      refusal = await host.record({ op: "rename", path: c.copy, to: c.path })
      outcome = `${c.path} now has the other version`
      break
    case "both": {
      const to = c.copy.replace(/\.conflict-/, ".")
      if (host.view.has(to)) throw new UsageError({ message: `cannot keep both: ${to} exists`, exitCode: 73 })
      refusal = await host.record({ op: "rename", path: c.copy, to })
      outcome = `kept both: ${c.path} and ${to}`
      break
    }
  }
  if (refusal) throw new UsageError({ message: `cannot resolve ${c.path}: ${describeRefusal(refusal)}`, exitCode: 1 })
  return outcome
}
