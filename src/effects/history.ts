/**
 * The history of every path, read from git: one version per commit that changed a path's content
 * (merges excluded: their content came from the commits they merge). Cached per HEAD.
 */
import { keyOfAnnexLink, parsePointer } from "../domain/key.js"
import { DIR_MARKER, baseName } from "../domain/paths.js"
import type { Version } from "../domain/retention.js"
import { MAX_LINK_BYTES, SMALL_BLOB, mountPathOf } from "../domain/storage.js"
import type { GitPort } from "./ports.js"

export interface PathVersion extends Version {
  /** blob id in git (symlink, pointer file or plain blob) */
  readonly oid: string | undefined
  readonly mode: string
  /** the blob's size in bytes (for a plain git blob, the file's size) */
  readonly size: number
  /** a text merge's version: the writers of the two edits it merged (`host` is one of them) */
  readonly writers?: ReadonlyArray<string>
}

export type History = Map<string, Array<PathVersion>>

export const loadHistory = async (git: GitPort, head: string | undefined): Promise<History> => {
  const history: History = new Map()
  if (!head) return history
  type Raw = { path: string; commit: string; time: number; host: string | undefined; writers?: ReadonlyArray<string>; mode: string; oid: string | undefined }
  const raws: Array<Raw> = []
  for (const c of await git.changeLog(head)) {
    if (baseName(c.path) === DIR_MARKER) continue
    const path = mountPathOf(c.path)
    if (path === undefined) continue
    raws.push({ ...c, path })
  }
  // Only blobs that can be a pointer or an annex link are read: a peer's history may hold blobs of
  // any size, and reading them whole cost seconds and hundreds of MB at every sync.
  const oids = [...new Set(raws.filter((r) => r.oid).map((r) => r.oid!))]
  const sizes = await git.blobSizes(oids)
  const readable = (r: Raw) => r.oid !== undefined && (sizes.get(r.oid) ?? Infinity) <= (r.mode === "120000" ? MAX_LINK_BYTES : SMALL_BLOB)
  const blobs = await git.readBlobs([...new Set(raws.filter(readable).map((r) => r.oid!))])
  for (const r of raws) {
    const text = r.oid ? blobs.get(r.oid)?.toString("utf8") : undefined
    const key = text === undefined ? undefined : r.mode === "120000" ? keyOfAnnexLink(text) : parsePointer(text)
    const versions = history.get(r.path) ?? []
    const last = versions[versions.length - 1]
    const deleted = r.oid === undefined
    // a chmod or a marker-only change is not a new version of the content
    if (last && !deleted && !last.deleted && (key ?? r.oid) === (last.key ?? last.oid)) continue
    if (r.mode === "120000" && !key && !deleted) continue // a symlink, not file content
    // versions of a path are listed oldest first and named to sort that way (versionFileName): two
    // saved within the same millisecond (or under a skewed clock) are kept apart by a millisecond
    const time = last && r.time <= last.time ? last.time + 1 : r.time
    const v: PathVersion = { commit: r.commit, time, key, deleted, host: r.host, oid: r.oid, mode: r.mode, size: r.oid ? (sizes.get(r.oid) ?? 0) : 0 }
    versions.push(r.writers && !deleted ? { ...v, writers: r.writers } : v)
    history.set(r.path, versions)
  }
  return history
}
