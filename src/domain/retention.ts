/**
 * Which content a host may let go of: old versions beyond a limit (retention), and the least
 * recently read content when the cache is over its size (eviction). Pure decisions; the shell
 * drops what they name, and git-annex still refuses to drop a last copy where it must.
 */

export interface Version {
  /** commit that introduced this version */
  readonly commit: string
  /** milliseconds */
  readonly time: number
  /** the annex key of the content, or undefined for plain git blobs and deletions */
  readonly key: string | undefined
  /** true when the version is the path's deletion */
  readonly deleted: boolean
  /** uuid of the host that made the commit, when known */
  readonly host: string | undefined
}

/**
 * Keys whose content may be dropped here when each path keeps the content of its newest `keep`
 * versions (0: keep everything). A key stays when it is current (in `current`) or among the newest
 * `keep` versions of any path.
 */
export const droppableOldVersions = (
  history: ReadonlyMap<string, ReadonlyArray<Version>>,
  current: ReadonlySet<string>,
  keep: number
): Set<string> => {
  if (keep <= 0) return new Set()
  const kept = new Set(current)
  const old = new Set<string>()
  for (const versions of history.values()) {
    const withContent = versions.filter((v) => !v.deleted && v.key !== undefined)
    const cut = Math.max(0, withContent.length - keep)
    withContent.forEach((v, i) => (i < cut ? old : kept).add(v.key!))
  }
  for (const k of kept) old.delete(k)
  return old
}

export interface CachedContent {
  readonly key: string
  readonly size: number
  /** last time it was read here (ms), 0 when never */
  readonly lastRead: number
  readonly pinned: boolean
  /** copies known elsewhere (not counting this host) */
  readonly copiesElsewhere: number
}

/**
 * What to drop, least recently read first, to bring `present` under `budget` bytes: never pinned
 * content, never content without at least `minCopies` copies elsewhere.
 */
export const evictionOrder = (present: ReadonlyArray<CachedContent>, budget: number, minCopies = 1): Array<string> => {
  let total = present.reduce((s, c) => s + c.size, 0)
  const out: Array<string> = []
  const candidates = present
    .filter((c) => !c.pinned && c.copiesElsewhere >= Math.max(1, minCopies))
    .sort((a, b) => a.lastRead - b.lastRead || b.size - a.size || (a.key < b.key ? -1 : 1))
  for (const c of candidates) {
    if (total <= budget) break
    out.push(c.key)
    total -= c.size
  }
  return out
}

/** `ls`-sortable name of a version file: time, then a short id, the extension last. */
export const versionFileName = (v: Version, baseName: string): string => {
  // milliseconds included: versions saved within one second must still sort in order
  const t = new Date(v.time).toISOString().replace(/:/g, "-")
  const dot = baseName.lastIndexOf(".")
  const ext = dot > 0 ? baseName.slice(dot) : ""
  return `${t}.${v.commit.slice(0, 8)}${ext}`
}
