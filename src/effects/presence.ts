/**
 * Which content is here: what is known present or absent (answered at once, for getattr of every
 * file of a big tree), the fetches on demand (one per key however many readers wait), and when each
 * key was last read (what the cache size evicts first).
 */
import * as fsSync from "node:fs"
import { promises as fs } from "node:fs"
import { Context, Effect, Layer } from "effect"
import type { FileNode } from "../domain/tree.js"
import { writeAtomic } from "./durable.js"
import { ContentUnavailable } from "./errors.js"
import { HostConfig, type HostOptions, Repo } from "./hostconfig.js"
import { type Layout, stagingFileOf } from "./layout.js"
import type { AnnexPort, GitPort } from "./ports.js"

/** How long an absent key is believed absent without looking again (see absentKeys). */
const ABSENT_TTL_MS = 10_000

export class PresenceCache {
  private readonly fetching = new Map<string, Promise<void>>()
  private readonly presentKeys = new Set<string>()
  /**
   * Keys found absent (getattr of every file of a big tree would otherwise look each one up again and
   * again). Dropped whenever content may have arrived through sharebox (fetch, get, sync, replay:
   * `notePresent`/`forgetPresent`), and as a whole every ABSENT_TTL_MS, for content a stock `git
   * annex get` in the gitdir brought behind the daemon's back.
   */
  private absentKeys = new Set<string>()
  private absentSince = 0
  private readonly reads = new Map<string, number>()

  constructor(
    private readonly layout: Layout,
    private readonly annex: AnnexPort,
    private readonly git: GitPort,
    private readonly opts: Pick<HostOptions, "log" | "warn">,
    reads: Record<string, number>
  ) {
    for (const [k, t] of Object.entries(reads)) this.reads.set(k, t)
  }

  /**
   * Whether the content of `key` is here, answered at once: from what is remembered, else by looking
   * for the object file (`Annex.hasObject`, a synchronous call: microseconds from the kernel's dentry
   * cache, where the asynchronous form cost a thread hop and, for every absent key, an exception with
   * its stack: 15-30 KB of garbage each, which an `ls -lR` of 100,000 absent files piled up in the
   * heap).
   */
  isPresent(key: string): boolean {
    if (this.presentKeys.has(key)) return true
    if (this.absentKeys.has(key) && Date.now() - this.absentSince < ABSENT_TTL_MS) return false
    const yes = this.annex.hasObject(key)
    if (yes) this.notePresent(key)
    else {
      if (Date.now() - this.absentSince >= ABSENT_TTL_MS) {
        this.absentKeys = new Set()
        this.absentSince = Date.now()
      }
      this.absentKeys.add(key)
    }
    return yes
  }

  /** Content of `key` is here now (ingested, fetched). */
  notePresent(key: string): void {
    this.absentKeys.delete(key)
    this.presentKeys.add(key)
  }

  /** Presence of `key` may have changed (a drop, a get): the next `isPresent` looks again. */
  forgetPresent(key: string): void {
    this.presentKeys.delete(key)
    this.absentKeys.delete(key)
  }

  stagingFile(id: string): string {
    return stagingFileOf(this.layout, id)
  }

  /** A local file holding a node's bytes; fetches annexed content on demand. */
  async contentFile(p: string, node: FileNode): Promise<string> {
    const c = node.content
    if (c.kind === "staged") return this.stagingFile(c.id)
    if (c.kind === "blob") {
      const file = this.stagingFile(`blob-${c.oid}`)
      // a blob is immutable, so a copy once written (atomically) is good for as long as it stays
      if (!fsSync.existsSync(file)) await this.git.blobToFile(c.oid, file)
      return file
    }
    if (!this.isPresent(c.key)) await this.fetch(p, c.key)
    return this.annex.objectFile(c.key)
  }

  private fetch(p: string, key: string): Promise<void> {
    let f = this.fetching.get(key)
    if (!f) {
      f = (async () => {
        this.opts.log(`fetching ${p} (${key})`)
        const r = await this.annex.get(key)
        this.forgetPresent(key)
        if (!r.ok || !this.isPresent(key)) {
          const where = await this.annex.whereis(key).catch(() => [])
          const reason = `${r.message}${where.length ? `; it is on: ${where.join(", ")}` : "; no known copy"}`
          this.opts.warn(`cannot fetch ${p}: ${reason}`)
          throw new ContentUnavailable({ path: p, key, reason })
        }
      })().finally(() => this.fetching.delete(key))
      this.fetching.set(key, f)
    }
    return f
  }

  /** Where a key's content is, by the names of the repositories holding it. */
  whereis(key: string): Promise<Array<string>> {
    return this.annex.whereis(key)
  }

  noteRead(key: string): void {
    this.reads.set(key, Date.now())
  }

  lastReads(): ReadonlyMap<string, number> {
    return this.reads
  }

  saveReads(): Promise<void> {
    return writeAtomic(this.layout.reads, JSON.stringify(Object.fromEntries(this.reads)))
  }
}

export class Presence extends Context.Tag("sharebox/Presence")<Presence, PresenceCache>() {
  static layer = Layer.effect(
    Presence,
    Effect.gen(function* () {
      const { opts } = yield* HostConfig
      const repo = yield* Repo
      const reads = yield* Effect.promise(() => fs.readFile(repo.layout.reads, "utf8").then((t) => JSON.parse(t) as Record<string, number>, () => ({})))
      return new PresenceCache(repo.layout, repo.annex, repo.git, opts, reads)
    })
  )
}
