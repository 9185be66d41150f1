/**
 * Where data lives: whereis, get, drop, pin, and the content policy a sync ends with (pins,
 * getall, retention of old versions, cache size). Paths are the mount's; keys are found in the view.
 */
import { promises as fs } from "node:fs"
import { keySize } from "../domain/key.js"
import { isWithin } from "../domain/paths.js"
import { type CachedContent, droppableOldVersions, evictionOrder } from "../domain/retention.js"
import { UsageError } from "./errors.js"
import { progressLine } from "./progress.js"
import type { Tree } from "../domain/tree.js"
import type { History } from "./history.js"
import type { Layout } from "./layout.js"
import type { AnnexPort, GitPort } from "./ports.js"
import type { Whereis } from "./results.js"

/** What content policy needs of a host: its role, not the whole host (which calls it). */
export interface ContentHost {
  readonly layout: Layout
  readonly view: Tree
  readonly annex: AnnexPort
  readonly git: GitPort
  readonly head: string | undefined
  readonly opts: { readonly peerTimeout: number; readonly getall: boolean }
  isPresent(key: string): boolean
  forgetPresent(key: string): void
  history(): Promise<History>
  lastReads(): ReadonlyMap<string, number>
}

export interface Settings {
  /** versions of each path whose content is kept here (0: all) */
  readonly numVersions: number
  /** copies a drop must leave elsewhere (git-annex numcopies) */
  readonly copies: number
  /** bytes of present content above which least-recently-read content is dropped (0: no limit) */
  readonly cacheSize: number
  readonly getall: boolean
  /** edits of a text file on two hosts are merged line by line where they do not overlap (effects/textmerging.ts) */
  readonly automerge: boolean
}

export const DEFAULT_NUMVERSIONS = 10

export const defaultSettings: Settings = { numVersions: DEFAULT_NUMVERSIONS, copies: 1, cacheSize: 0, getall: false, automerge: true }

const readJson = async <A>(file: string, fallback: A): Promise<A> => {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as A
  } catch {
    return fallback
  }
}

const writeJson = async (file: string, value: unknown): Promise<void> => {
  const tmp = `${file}.${process.pid}.tmp`
  await fs.writeFile(tmp, JSON.stringify(value, null, 1) + "\n", { mode: 0o600 })
  await fs.rename(tmp, file)
}

export const loadSettings = (host: ContentHost): Promise<Settings> =>
  readJson(host.layout.settings, defaultSettings).then((s) => ({ ...defaultSettings, ...s }))

export const saveSettings = (host: ContentHost, s: Settings): Promise<void> => writeJson(host.layout.settings, s)

export const loadPins = (host: ContentHost): Promise<Array<string>> => readJson(host.layout.pins, [] as Array<string>)

/** Files (with annexed content) at or below the given mount paths. */
export const filesUnder = (host: ContentHost, paths: ReadonlyArray<string>): Array<{ path: string; key: string }> => {
  const out: Array<{ path: string; key: string }> = []
  for (const p of paths) {
    const n = host.view.get(p)
    if (!n) throw new UsageError({ message: `${p || "."}: no such file or directory in the sharebox`, exitCode: 66 })
    if (n.type === "file" && n.content.kind === "key") out.push({ path: p, key: n.content.key })
    if (n.type === "dir") {
      for (const [q, m] of host.view.walk(p)) if (m.type === "file" && m.content.kind === "key") out.push({ path: q, key: m.content.key })
    }
  }
  return out
}

export const whereis = async (host: ContentHost, paths: ReadonlyArray<string>): Promise<Array<Whereis>> => {
  const out: Array<Whereis> = []
  for (const f of filesUnder(host, paths)) {
    const locations = await host.annex.locations(f.key)
    out.push({ path: f.path, key: f.key, here: host.isPresent(f.key), locations })
  }
  return out
}

/** Fetches content here; returns lines for the person and whether everything arrived. */
export const get = async (host: ContentHost, paths: ReadonlyArray<string>, progress: (line: string) => void): Promise<boolean> => {
  const missing: Array<{ path: string; key: string }> = []
  for (const f of filesUnder(host, paths)) if (!host.isPresent(f.key)) missing.push(f)
  const totalBytes = missing.reduce((n, f) => n + keySize(f.key), 0)
  let ok = true
  let bytes = 0
  // all asked at once: one git-annex process takes them one after another, with no start-up (and
  // no new connection to a peer) between them
  const answers = missing.map((f) => host.annex.get(f.key))
  for (const [i, f] of missing.entries()) {
    progress(progressLine({ what: "get", files: i, totalFiles: missing.length, bytes, totalBytes }))
    const r = await answers[i]!
    host.forgetPresent(f.key)
    bytes += keySize(f.key)
    if (!r.ok) {
      ok = false
      progress(`could not get ${f.path}: ${r.message}`)
    }
  }
  if (missing.length) progress(progressLine({ what: "get", files: missing.length, totalFiles: missing.length, bytes, totalBytes }))
  return ok
}

/** Drops content here, refusing (per git-annex numcopies / -o copies) to leave too few copies. */
export const drop = async (host: ContentHost, paths: ReadonlyArray<string>, copies: number, progress: (line: string) => void): Promise<boolean> => {
  let ok = true
  for (const f of filesUnder(host, paths)) {
    if (!host.isPresent(f.key)) continue
    const r = await host.annex.drop(f.key, { numcopies: copies })
    host.forgetPresent(f.key)
    if (host.isPresent(f.key)) {
      ok = false
      const why = r.message || "git-annex refused"
      const n = Math.max(1, copies)
      progress(`not dropped ${f.path}: ${n} other cop${n > 1 ? "ies are" : "y is"} needed and git-annex could not verify ${n > 1 ? "them" : "one"} (${why})`)
    }
  }
  return ok
}

export const pin = async (host: ContentHost, paths: ReadonlyArray<string>, on: boolean): Promise<Array<string>> => {
  filesUnder(host, paths) // checks the paths exist
  const pins = new Set(await loadPins(host))
  for (const p of paths) (on ? pins.add(p) : pins.delete(p))
  const list = [...pins].sort()
  await writeJson(host.layout.pins, list)
  return list
}

const isPinned = (pins: ReadonlyArray<string>, path: string): boolean => pins.some((p) => p === "" || isWithin(path, p))

/**
 * Whether the history holds more commits than `limit`. A path has at most one version per commit,
 * so with no more commits than that no path is over the limit, and the whole history (a long read
 * of a big tree, right after a mount) need not be loaded to find out.
 */
const commitsOverLimit = async (host: ContentHost, limit: number): Promise<boolean> => {
  if (!host.head) return false
  const count = await host.git.countCommits(host.head)
  return !(Number.isFinite(count) && count <= limit)
}

/**
 * What a sync ends with: pinned and (getall) all content fetched, old versions and cache trimmed.
 * Returns whether all the wanted content is here (each file that is not was said on `progress`).
 */
export const contentPolicy = async (host: ContentHost, progress: (line: string) => void): Promise<boolean> => {
  const settings = await loadSettings(host)
  const pins = await loadPins(host)
  const wanted = settings.getall || host.opts.getall ? [""] : pins.filter((p) => host.view.has(p))
  const fetched = wanted.length ? await get(host, wanted, progress) : true
  const current = new Set<string>()
  for (const [, n] of host.view.entries()) if (n.type === "file" && n.content.kind === "key") current.add(n.content.key)
  if (settings.numVersions > 0 && (await commitsOverLimit(host, settings.numVersions))) {
    const old = droppableOldVersions(await host.history(), current, settings.numVersions)
    for (const key of old) {
      if (!host.isPresent(key)) continue
      // an old version beyond the limit: the history keeps its entry, this host lets the content go
      await host.annex.drop(key, { force: true })
      host.forgetPresent(key)
    }
  }
  if (settings.cacheSize > 0) {
    const reads = host.lastReads()
    const present: Array<CachedContent> = []
    for (const [p, n] of host.view.entries()) {
      if (n.type !== "file" || n.content.kind !== "key" || !host.isPresent(n.content.key)) continue
      const key = n.content.key
      if (present.some((c) => c.key === key)) continue
      const elsewhere = (await host.annex.locations(key)).filter((l) => !l.here).length
      present.push({ key, size: keySize(key), lastRead: reads.get(key) ?? 0, pinned: isPinned(pins, p), copiesElsewhere: elsewhere })
    }
    for (const key of evictionOrder(present, settings.cacheSize, settings.copies)) {
      await host.annex.drop(key, { numcopies: settings.copies })
      host.forgetPresent(key)
    }
  }
  return fetched
}
