/**
 * The content a replay takes from staging files: their keys, and the writes whose staging file is
 * gone (removed by hand, lost to a disk fault or to a power cut before the write was fsynced).
 *
 * Such a write cannot be replayed and never can be; if it stopped the replay, every later replay
 * and sync would fail on it, and the writes after it would wait for ever. So it is left out, as if
 * it had never happened (its path keeps the version before it, or none), and named once.
 */
import { createHash } from "node:crypto"
import * as fsSync from "node:fs"
import { type Event } from "../domain/events.js"
import { sha256Key } from "../domain/key.js"
import { optimise } from "../domain/optimise.js"
import { baseName } from "../domain/paths.js"
import { printable } from "../domain/printable.js"
import { hashFile } from "./hash.js"

/** Staging files up to this size are hashed with one synchronous read. */
const SMALL_HASH = 256 * 1024

/** How many paths a report of lost writes lists before it counts the rest. */
const LISTED = 20

export interface StagedContent {
  /** what of the replayed events reaches history (optimised, lost writes left out) */
  readonly events: ReadonlyArray<Event>
  /** staging id -> key, for every staging file `events` write */
  readonly content: ReadonlyMap<string, string>
  /** the writes left out because their staging file is gone */
  readonly lost: ReadonlyArray<Event>
}

const stagedId = (e: Event): string | undefined => (e.op === "write" && e.content.kind === "staged" ? e.content.id : undefined)

/**
 * Optimises `raw` and hashes the staging files of what is left. A write whose staging file is gone
 * is left out and the rest optimised again (an earlier version optimised away may be needed now).
 */
export const stagedContent = async (raw: ReadonlyArray<Event>, fileOf: (id: string) => string): Promise<StagedContent> => {
  const keys = new Map<string, string>()
  const gone = new Set<string>()
  for (;;) {
    const kept = gone.size === 0 ? raw : raw.filter((e) => !gone.has(stagedId(e) ?? ""))
    const events = optimise(kept)
    const wanted = new Map<string, { name: string; size: number }>()
    for (const e of events) {
      if (e.op !== "write" || e.content.kind !== "staged" || keys.has(e.content.id)) continue
      wanted.set(e.content.id, { name: baseName(e.path), size: e.content.size })
    }
    const missing = await hashStaged(wanted, fileOf, keys)
    if (missing.length === 0) {
      const content = new Map<string, string>()
      for (const e of events) {
        const id = stagedId(e)
        if (id !== undefined) content.set(id, keys.get(id)!)
      }
      return { events, content, lost: raw.filter((e) => gone.has(stagedId(e) ?? "")) }
    }
    for (const id of missing) gone.add(id)
  }
}

/** One line naming the paths of lost writes (escaped: a line of their own in logs and terminals). */
export const describeLost = (lost: ReadonlyArray<Event>): string => {
  const paths = [...new Set(lost.map((e) => e.path))]
  const names = paths.slice(0, LISTED).map((p) => JSON.stringify(printable(p)))
  const more = paths.length > LISTED ? ` and ${paths.length - LISTED} more` : ""
  return paths.length === 1
    ? `lost a write to ${names[0]} (its content, a staging file, is gone): the file is as it would be without that write`
    : `lost writes to ${names.join(", ")}${more} (their content, staging files, is gone): each file is as it would be without that write`
}

const isGone = (e: unknown): boolean => (e as { code?: string })?.code === "ENOENT"

/**
 * Adds the keys of staging files to `keys`; returns the ids whose file is gone. Small ones are
 * read and hashed synchronously, a few hundred per turn of the event loop (a stream per file costs
 * several thread-pool round trips); big ones stream, four at a time.
 */
const hashStaged = async (files: ReadonlyMap<string, { name: string; size: number }>, fileOf: (id: string) => string, keys: Map<string, string>): Promise<Array<string>> => {
  const missing: Array<string> = []
  const small = [...files].filter(([, f]) => f.size <= SMALL_HASH)
  const big = [...files].filter(([, f]) => f.size > SMALL_HASH)
  const streamed = inParallel(big, 4, async ([id, f]) => {
    try {
      keys.set(id, await hashFile(fileOf(id), f.name))
    } catch (e) {
      if (!isGone(e)) throw e
      missing.push(id)
    }
  })
  let count = 0
  let bytes = 0
  for (const [id, f] of small) {
    if (++count > 256 || bytes > 4 * 1024 * 1024) {
      await new Promise((r) => setImmediate(r))
      count = 1
      bytes = 0
    }
    let data: Buffer
    try {
      data = fsSync.readFileSync(fileOf(id))
    } catch (e) {
      if (!isGone(e)) throw e
      missing.push(id)
      continue
    }
    bytes += data.length
    keys.set(id, sha256Key(createHash("sha256").update(data).digest("hex"), data.length, f.name))
  }
  await streamed
  return missing
}

/** Runs `f` over `items`, at most `limit` at a time (small files: the cost is latency, not CPU). */
const inParallel = async <A>(items: ReadonlyArray<A>, limit: number, f: (a: A) => Promise<void>): Promise<void> => {
  let next = 0
  const worker = async () => {
    while (next < items.length) await f(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
