/**
 * Requests about content and versions, answered the same way by the daemon (over its socket) and
 * by a command working directly on a gitdir.
 */
import { resolutionOf } from "../domain/conflictnames.js"
import { keySize } from "../domain/key.js"
import { atOrBefore } from "../domain/moments.js"
import { baseName } from "../domain/paths.js"
import { describeRefusal } from "../domain/reduce.js"
import { versionFileName } from "../domain/retention.js"
import { drop, get, loadSettings, pin, whereis } from "./content.js"
import { instantOf, revertPath } from "./revert.js"
import { UsageError } from "./errors.js"
import type { PathVersion } from "./history.js"
import type { HostServices } from "./hostlayer.js"
import { type Handlers, type Outcome, dispatch } from "./handlers.js"
import type { Keep, RequestOf, ResultOf } from "./protocol.js"
import type { ConflictInfo, VersionInfo } from "./results.js"

export const versionsOf = async (host: HostServices, path: string): Promise<Array<VersionInfo>> => {
  const versions = (await host.versions.history()).get(path)
  if (!versions) throw new UsageError({ message: `${path}: no history (never committed here)`, exitCode: 66 })
  const names = await host.repo.annex.descriptions()
  const out: Array<VersionInfo> = []
  const nameOf = (uuid: string) => names.get(uuid) ?? uuid
  for (const v of versions) {
    const writers = v.writers?.map(nameOf).sort()
    out.push({
      id: v.commit.slice(0, 8),
      name: v.deleted ? "" : versionFileName(v, baseName(path)),
      time: new Date(v.time).toISOString(),
      // a text merge's version names both writers
      host: writers ? writers.join("+") : v.host ? nameOf(v.host) : null,
      ...(writers ? { writers } : {}),
      size: v.key ? keySize(v.key) : null,
      key: v.key ?? null,
      deleted: v.deleted,
      present: v.key ? host.presence.isPresent(v.key) : !v.deleted
    })
  }
  return out
}

/**
 * The version a restore asks for: by id prefix or by the name `.sharebox/history/PATH/` lists it
 * under (`name`: the path's own name; a whole path to the listed file works too), the newest at or
 * before a time, or the newest.
 */
export const pickVersion = (versions: ReadonlyArray<PathVersion>, id?: string, at?: string, name?: string): PathVersion => {
  const candidates = versions.filter((v) => !v.deleted)
  if (candidates.length === 0) throw new UsageError({ message: "no version with content to restore", exitCode: 66 })
  if (id) {
    const listed = baseName(id.replace(/\/+$/, ""))
    const v = candidates.find((c) => c.commit.startsWith(id)) ?? (name === undefined ? undefined : candidates.find((c) => versionFileName(c, name) === listed))
    if (!v) throw new UsageError({ message: `no version ${id}`, exitCode: 66 })
    return v
  }
  if (at) {
    const t = instantOf(at)
    const v = [...candidates].reverse().find((c) => atOrBefore(c.time, t))
    if (!v) throw new UsageError({ message: `no version at or before ${at}`, exitCode: 66 })
    return v
  }
  return candidates[candidates.length - 1]!
}

/** The requests that need no mount: a command working directly on a gitdir answers them too. */
export type ContentTag = "whereis" | "get" | "drop" | "pin" | "unpin" | "versions" | "restore" | "revert" | "conflicts" | "resolve"

export const contentHandlers = (host: HostServices): Handlers<ContentTag> => ({
  whereis: async (req) => ({ code: 0, result: await whereis(host.content.host, req.paths) }),
  // content moves through the ssh command the command was run with, as a sync's does
  get: async (req, out) => ({ code: (await host.content.host.annex.withPeers({ ssh: req.ssh }, () => get(host.content.host, req.paths, out))) ? 0 : 1, result: undefined }),
  drop: async (req, out) => {
    const settings = await loadSettings(host.content.host)
    const dropped = await host.content.host.annex.withPeers({ ssh: req.ssh }, () => drop(host.content.host, req.paths, settings.copies, out))
    return { code: dropped ? 0 : 1, result: undefined }
  },
  pin: async (req) => ({ code: 0, result: await pin(host.content.host, req.paths, true) }),
  unpin: async (req) => ({ code: 0, result: await pin(host.content.host, req.paths, false) }),
  versions: async (req) => ({ code: 0, result: await versionsOf(host, req.path) }),
  restore: async (req) => {
    const versions = (await host.versions.history()).get(req.path)
    if (!versions) throw new UsageError({ message: `${req.path}: no history to restore from`, exitCode: 66 })
    const v = pickVersion(versions, req.version, req.at, baseName(req.path))
    await host.versions.restore(v, req.path, req.to)
    return { code: 0, result: { path: req.to, version: v.commit.slice(0, 8) } }
  },
  revert: async (req) => ({ code: 0, result: await revertPath(host, req.path, req.at, req.dryRun) }),
  conflicts: async () => ({ code: 0, result: await conflictsOf(host) }),
  resolve: async (req) => {
    const targets = req.path !== undefined ? [req.path] : host.syncer.openConflicts().map((c) => c.copy)
    const lines: Array<string> = []
    for (const t of targets) lines.push(await resolveConflict(host, t, req.keep))
    return { code: 0, result: lines }
  }
})

export const contentRequest = <T extends ContentTag>(host: HostServices, req: RequestOf<T>, out: (line: string) => void): Promise<Outcome<ResultOf<T>>> =>
  dispatch(contentHandlers(host), req, out)

export const conflictsOf = async (host: HostServices): Promise<Array<ConflictInfo>> => {
  const names = await host.repo.annex.descriptions()
  const describe = (p: string) => {
    const n = host.views.view.get(p)
    if (!n || n.type === "dir") return { path: p, host: null, time: "", size: null, key: null }
    const uuid = (n as { host?: string }).host
    const key = n.type === "file" && n.content.kind === "key" ? n.content.key : null
    const size = n.type === "file" ? (n.content.kind === "key" ? keySize(n.content.key) : n.content.size) : null
    return { path: p, host: uuid ? (names.get(uuid) ?? uuid) : null, time: new Date(n.mtime).toISOString(), size, key }
  }
  return host.syncer.openConflicts().map((c) => ({ path: c.path, copy: c.copy, versions: [describe(c.path), describe(c.copy)] }))
}

/** Resolves one conflict with an ordinary operation (it syncs like any edit). */
export const resolveConflict = async (host: HostServices, copy: string, keep: Keep): Promise<string> => {
  const c = host.syncer.openConflicts().find((x) => x.copy === copy || x.path === copy)
  if (!c) throw new UsageError({ message: `${copy}: no open conflict there`, exitCode: 66 })
  const { op, outcome } = resolutionOf(c, keep)
  if (keep === "both" && op.op === "rename" && host.views.view.has(op.to)) throw new UsageError({ message: `cannot keep both: ${op.to} exists`, exitCode: 73 })
  const refusal = await host.views.record(op)
  if (refusal) throw new UsageError({ message: `cannot resolve ${c.path}: ${describeRefusal(refusal)}`, exitCode: 1 })
  return outcome
}
