/**
 * Replay: pending journal events become annex content and commits (the plan is the pure
 * `planCommits` of src/domain/replayplan.ts), in an order that survives a crash at any point: the
 * objects and `replaying.json` on the disk before the branch moves; the commit, branch and cursor on
 * the disk before the journal forgets the events. Also the log of replayed events no peer has yet.
 */
import * as fsSync from "node:fs"
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { Context, Effect, Layer } from "effect"
import { type Kept, keepConcurrent } from "../domain/concurrent.js"
import { defaultHostLabel } from "../domain/conflictnames.js"
import type { Event } from "../domain/events.js"
import { keySize } from "../domain/key.js"
import { type Commit, planCommits, replayable } from "../domain/replayplan.js"
import { objectPathOf } from "./annex.js"
import { Checkout, type Checkouts } from "./checkout.js"
import { syncFileSystems, writeAtomic } from "./durable.js"
import { HostConfig, type HostOptions, Repo } from "./hostconfig.js"
import { Presence, type PresenceCache } from "./presence.js"
import { Serial, type SerialWork } from "./serial.js"
import { describeLost, stagedContent } from "./staged.js"
import { Staging, type StagingArea } from "./staging.js"
import { ViewStore, type ViewState } from "./viewstore.js"

export interface ReplayPlan {
  /** the journal events replayed */
  readonly raw: ReadonlyArray<Event>
  /** what of them reaches history (optimised) */
  readonly events: ReadonlyArray<Event>
  readonly commits: ReadonlyArray<Commit>
  /** staging id -> key of content to add to the annex */
  readonly content: ReadonlyMap<string, string>
  /** writes left out: their staging file is gone (see staged.ts) */
  readonly lost: ReadonlyArray<Event>
  /** versions a write would have replaced unseen, kept as conflict copies (domain/concurrent.ts) */
  readonly kept: ReadonlyArray<Kept>
}

export interface ReplayedEntry {
  readonly commit: string
  readonly op: string
  readonly path: string
  readonly to?: string
  readonly time: number
  readonly size?: number
}

/** The user-facing fields of an event. */
export const summarise = (e: Event): Omit<ReplayedEntry, "commit"> => ({
  op: e.op,
  path: e.path,
  ...(e.op === "rename" ? { to: e.to } : {}),
  time: e.time,
  ...(e.op === "write" ? { size: e.content.kind === "key" ? keySize(e.content.key) : e.content.size } : {})
})

export class Replayer {
  constructor(
    private readonly repo: Repo["Type"],
    private readonly opts: HostOptions,
    private readonly views: ViewState,
    private readonly staging: StagingArea,
    private readonly presence: PresenceCache,
    private readonly checkout: Checkouts,
    private readonly serial: SerialWork
  ) {}

  /** Plans the replay of pending events that no open file still writes to. */
  private async plan(): Promise<ReplayPlan & { tree: ReturnType<typeof planCommits>["tree"] }> {
    const raw = replayable(this.views.pending, this.staging.activeIds())
    const committed = this.views.base
    // a version a sync brought in while the file was open here is kept before the write lands; the
    // hosts' descriptions (a git-annex branch read) only when there is one to name
    let keep = keepConcurrent(committed, raw)
    let label: ((uuid: string) => string) | undefined
    if (keep.kept.length > 0) {
      const names = await this.repo.annex.descriptions().catch(() => new Map<string, string>())
      label = (uuid) => names.get(uuid) ?? defaultHostLabel(uuid)
      keep = keepConcurrent(committed, raw, label)
    }
    // what never needs to reach history (temporary files, overwritten chmods...) goes, and so do
    // writes whose content is gone (staged.ts)
    const fileOf = (id: string) => this.staging.stagingFile(id)
    let { events, content, lost } = await stagedContent(keep.events, fileOf)
    if (lost.length > 0 && keep.kept.length > 0) {
      // a write left out replaces nothing, so it keeps nothing aside either
      const gone = new Set(lost)
      keep = keepConcurrent(committed, raw.filter((e) => !gone.has(e)), label)
      ;({ events, content } = await stagedContent(keep.events, fileOf))
    }
    const { commits, tree } = planCommits(committed, raw, events, content, this.repo.uuid, objectPathOf)
    return { raw, events, commits, content, lost, kept: keep.kept, tree }
  }

  /**
   * Replays pending events into git-annex; with dryRun, only returns the plan. Writes whose content
   * is gone are named once, when the journal lets go of them: in the log and to `report` (the output
   * of the command that asked), unless that is the log.
   */
  replay(options: { dryRun?: boolean; report?: (line: string) => void } = {}): Promise<ReplayPlan> {
    return this.serial.exclusive(async () => {
      const { annex, git, layout, branch } = this.repo
      const plan = await this.plan()
      if (options.dryRun || plan.raw.length === 0) return plan
      const byKey = new Map<string, string>()
      for (const [id, key] of plan.content) if (!byKey.has(key)) byKey.set(key, id)
      await annex.ingest([...byKey].map(([key, id]) => ({ staged: this.staging.stagingFile(id), key })))
      for (const key of byKey.keys()) this.presence.notePresent(key)
      await annex.recordPresent([...new Set(plan.content.values())])
      const lastSeq = plan.raw[plan.raw.length - 1]!.seq
      const made = plan.commits.filter((c) => c.changes.length > 0)
      const head = this.views.head
      await writeAtomic(layout.replaying, JSON.stringify({ seq: lastSeq, from: head ?? null }))
      // the objects and the record of this replay on the disk before the branch can move there
      if (byKey.size > 0 || made.length > 0) await this.syncReplayed()
      if (made.length > 0) {
        const newHead = await git.writeCommits(made, head, `refs/heads/${branch}`)
        const oids = await git.firstParents(newHead, head)
        this.views.committedTo(newHead)
        await this.checkout.checkoutHead()
        await this.logReplayed(plan.events, made, oids)
      }
      await writeAtomic(layout.cursor, JSON.stringify({ seq: lastSeq }))
      // the commit, the branch and the cursor on the disk before the journal forgets the events
      await this.syncReplayed()
      await fs.rm(layout.replaying, { force: true })
      this.views.committedTo(this.views.head, plan.tree)
      // what is still pending, or open, and was based on a staging file that replayed now names its key
      this.staging.rebase(plan.content)
      await this.views.forgetReplayed(lastSeq, plan.content)
      for (const k of plan.kept) this.opts.warn(`conflict: ${k.path} changed elsewhere while it was written here (other version kept as ${k.copy})`)
      if (plan.lost.length > 0) {
        const line = describeLost(plan.lost)
        this.opts.warn(line)
        if (options.report && options.report !== this.opts.warn) options.report(line)
        void this.opts.notify(`sharebox: ${line}`).catch(() => undefined)
      }
      this.views.recompute()
      // a file opened, or a write recorded, while the journal was rewritten (the view still showed the
      // staging files) was based on one of them too
      this.staging.rebase(plan.content)
      this.views.rebasePending(plan.content)
      await removeFiles(
        [...plan.content.keys()].filter((id) => !this.views.isStaged(id) && !this.staging.sessions.has(id)).map((id) => this.staging.stagingFile(id))
      )
      this.opts.log(`replayed ${plan.events.length} event(s) into ${plan.commits.length} commit(s)`)
      return plan
    })
  }

  /** What a replay wrote, on the disk: the state folder, the annex's objects and git's. */
  private syncReplayed(): Promise<void> {
    const dotgit = path.join(this.repo.gitdir, ".git")
    return syncFileSystems([this.repo.layout.state, path.join(dotgit, "annex", "objects"), path.join(dotgit, "objects")])
  }

  /** Remembers which commit holds each replayed event, for `sharebox log` (until a peer has it). */
  private async logReplayed(events: ReadonlyArray<Event>, commits: ReadonlyArray<Commit>, oids: ReadonlyArray<string>): Promise<void> {
    const lines: Array<string> = []
    let i = 0
    for (const e of events) {
      while (i < commits.length && commits[i]!.seq! < e.seq) i++
      const commit = oids[i]
      if (!commit) continue
      lines.push(JSON.stringify({ commit, ...summarise(e) }))
    }
    if (lines.length) await fs.appendFile(this.repo.layout.replayed, lines.join("\n") + "\n", { mode: 0o600 })
  }

  /** Replayed events whose commits no peer has yet (as far as our remote-tracking refs know). */
  async unshared(): Promise<Array<ReplayedEntry>> {
    let text = ""
    try {
      text = await fs.readFile(this.repo.layout.replayed, "utf8")
    } catch {
      return []
    }
    const head = this.views.head
    if (!head) return []
    const local = new Set(await this.repo.git.notOnRemotes(head))
    const out: Array<ReplayedEntry> = []
    for (const line of text.split("\n")) {
      if (!line) continue
      try {
        const entry = JSON.parse(line) as ReplayedEntry
        if (local.has(entry.commit)) out.push(entry)
      } catch {}
    }
    return out
  }

  /** Drops entries of the replayed log that peers now have. */
  async pruneReplayed(): Promise<void> {
    const keep = await this.unshared()
    await writeAtomic(this.repo.layout.replayed, keep.map((e) => JSON.stringify(e) + "\n").join(""))
  }
}

/** Removes files (missing ones are fine) with synchronous calls, a few hundred per turn of the event loop. */
const removeFiles = async (files: ReadonlyArray<string>): Promise<void> => {
  for (let i = 0; i < files.length; i += 256) {
    if (i > 0) await new Promise((r) => setImmediate(r))
    for (const f of files.slice(i, i + 256)) fsSync.rmSync(f, { force: true })
  }
}

export class Replay extends Context.Tag("sharebox/Replay")<Replay, Replayer>() {
  static layer = Layer.effect(
    Replay,
    Effect.gen(function* () {
      const { opts } = yield* HostConfig
      return new Replayer(yield* Repo, opts, yield* ViewStore, yield* Staging, yield* Presence, yield* Checkout, yield* Serial)
    })
  )
}
