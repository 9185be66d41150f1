/**
 * Requests about content and versions, answered the same way by the daemon (over its socket) and
 * by a command working directly on a gitdir.
 */
import { keySize } from "../domain/key.js"
import { baseName } from "../domain/paths.js"
import { versionFileName } from "../domain/retention.js"
import type { Request } from "./control.js"
import { drop, get, loadPins, loadSettings, pin, whereis } from "./content.js"
import { UsageError } from "./errors.js"
import type { PathVersion } from "./history.js"
import type { Host } from "./host.js"

export interface VersionInfo {
  readonly id: string
  readonly name: string
  readonly time: string
  readonly host: string | null
  readonly size: number | null
  readonly key: string | null
  readonly deleted: boolean
  readonly present: boolean
}

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
      present: v.key ? await host.isPresent(v.key) : !v.deleted
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
    default:
      return { code: 64, result: `unknown request ${req.cmd}` }
  }
}
