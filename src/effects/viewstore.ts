/**
 * The view the mount shows, and what it is made of: the committed tree (`base`, at `head`) and this
 * host's pending journal events, which it alone appends. view = reduce(base, pending), with what
 * other owners lay over it (files open for writing, src/effects/staging.ts) when it is recomputed.
 *
 * It publishes rather than being hooked: listeners are told before the view is replaced (the FUSE
 * binding adopts the files it created), asked to lay their part over a recomputed view, told the
 * view before and after (the FUSE layer's local times), told of each recorded event (write-back)
 * and keep a mirror of its names (the binding's names table).
 */
import { Context, Effect, Layer } from "effect"
import { rebaseEvent } from "../domain/concurrent.js"
import { EVENT_SCHEMA, type Event, type Operation } from "../domain/events.js"
import { type Refusal, applyInPlace, reduceAll } from "../domain/reduce.js"
import type { Tree } from "../domain/tree.js"
import { syncDir } from "./durable.js"
import { HostConfig, Repo } from "./hostconfig.js"
import type { JournalPort } from "./ports.js"
import { Recovery } from "./recovery.js"

/**
 * Told the view's paths whenever the view is replaced, and every path it gains in place: the daemon
 * keeps the names that may exist in the FUSE binding, which answers lookups of any other name itself
 * (src/fuse/mount.ts). It may be told more than exists, never less.
 */
export interface ViewMirror {
  reset(view: Tree): void
  add(path: string): void
}

export class ViewState {
  private current!: Tree
  private mirror: ViewMirror | undefined
  private pendingEvents: Array<Event>
  /** staging id -> how many pending write events refer to it */
  private readonly stagedRefs = new Map<string, number>()
  private readonly beforeChange: Array<() => void> = []
  private readonly overlays: Array<(view: Tree) => void> = []
  private readonly recordedListeners: Array<() => void> = []
  private readonly replacedListeners: Array<(before: Tree, after: Tree) => void> = []

  constructor(
    private readonly journal: JournalPort,
    private committed: Tree,
    private committedHead: string | undefined,
    pending: ReadonlyArray<Event>,
    private nextSeq: number,
    private readonly uuid: string,
    private readonly stagingDir: string,
    private readonly warn: (line: string) => void
  ) {
    this.pendingEvents = [...pending]
    for (const e of pending) this.countStaged(e, 1)
    this.recompute()
  }

  get view(): Tree {
    return this.current
  }

  /** The committed tree: the head's. */
  get base(): Tree {
    return this.committed
  }

  get head(): string | undefined {
    return this.committedHead
  }

  get pending(): ReadonlyArray<Event> {
    return this.pendingEvents
  }

  get journalBytes(): number {
    return this.journal.size
  }

  /** Whether a pending event writes staging file `id`. */
  isStaged(id: string): boolean {
    return this.stagedRefs.has(id)
  }

  /** `f` is called before the view is replaced. */
  onBeforeChange(f: () => void): void {
    this.beforeChange.push(f)
  }

  /** `f` lays its part over every recomputed view, before it is shown. */
  onRecompute(f: (view: Tree) => void): void {
    this.overlays.push(f)
    f(this.current)
  }

  /**
   * `f` is told the view before and after every recompute, once the new one is shown: what a peer's
   * change (a merge, a push) did to it is the difference (the FUSE layer's ctimes, src/fuse/times.ts).
   */
  onReplaced(f: (before: Tree, after: Tree) => void): void {
    this.replacedListeners.push(f)
  }

  /** `f` is called after every event recorded. */
  onRecorded(f: () => void): void {
    this.recordedListeners.push(f)
  }

  /** Keeps `m` told of the view's paths from now on (see ViewMirror). */
  mirrorView(m: ViewMirror): void {
    this.mirror = m
    this.show(this.current)
  }

  private show(t: Tree): void {
    this.current = t
    if (!this.mirror) return
    t.onAdd = this.mirror.add
    this.mirror.reset(t)
  }

  recompute(): void {
    for (const f of this.beforeChange) f()
    const { tree, rejected } = reduceAll(this.committed, this.pendingEvents)
    for (const r of rejected) this.warn(`pending ${r.event.op} of ${r.event.path} no longer applies (${r.reason})`)
    for (const f of this.overlays) f(tree)
    const before = this.current as Tree | undefined // none yet at the first
    this.show(tree)
    if (before) for (const f of this.replacedListeners) f(before, tree)
  }

  /**
   * Applies an operation to the view and appends its event to the journal. Returns undefined once
   * the event is written, or the reason it does not apply (nothing is recorded then).
   */
  async record(op: Operation, time = Date.now(), onApplied?: () => void): Promise<Refusal | undefined> {
    const refusal = applyInPlace(this.current, op, time)
    if (refusal !== undefined) return refusal
    onApplied?.()
    const e = { ...op, v: EVENT_SCHEMA, seq: this.nextSeq++, host: this.uuid, time } as Event
    this.pendingEvents.push(e)
    this.countStaged(e, 1)
    try {
      this.journal.append(e)
    } catch (err) {
      this.pendingEvents = this.pendingEvents.filter((x) => x !== e)
      this.countStaged(e, -1)
      this.recompute()
      throw err
    }
    for (const f of this.recordedListeners) f()
    return undefined
  }

  /** The branch moved to `head`, whose tree is `base` (the view is recomputed by the caller, later). */
  committedTo(head: string | undefined, base?: Tree): void {
    this.committedHead = head
    if (base) this.committed = base
  }

  /**
   * Events up to `lastSeq` reached history: the journal lets go of them. The bases of the events
   * left that name a staging file that replayed (`keys`: staging id -> key) name its key now.
   */
  async forgetReplayed(lastSeq: number, keys: ReadonlyMap<string, string> = new Map()): Promise<void> {
    for (const e of this.pendingEvents) if (e.seq <= lastSeq) this.countStaged(e, -1)
    this.pendingEvents = this.pendingEvents.filter((e) => e.seq > lastSeq)
    this.rebasePending(keys)
    await this.journal.rewrite(this.pendingEvents)
  }

  /**
   * Pending writes based on a staging file that replayed are based on its key (`keys`: id -> key).
   * In memory only: the journal on the disk has them so at its next rewrite (a crash before that
   * can only give a conflict copy too many, domain/concurrent.ts).
   */
  rebasePending(keys: ReadonlyMap<string, string>): void {
    if (keys.size > 0) this.pendingEvents = this.pendingEvents.map((e) => rebaseEvent(e, keys))
  }

  syncJournal(): Promise<void> {
    return this.journal.sync()
  }

  /** Puts the names of staging files on the disk (their content: fsync of each). */
  syncStagingNames(): Promise<void> {
    return syncDir(this.stagingDir)
  }

  private countStaged(e: Event, delta: number): void {
    if (e.op !== "write" || e.content.kind !== "staged") return
    const n = (this.stagedRefs.get(e.content.id) ?? 0) + delta
    if (n > 0) this.stagedRefs.set(e.content.id, n)
    else this.stagedRefs.delete(e.content.id)
  }
}

export class ViewStore extends Context.Tag("sharebox/ViewStore")<ViewStore, ViewState>() {
  static layer = Layer.effect(
    ViewStore,
    Effect.gen(function* () {
      const { opts } = yield* HostConfig
      const repo = yield* Repo
      const r = yield* Recovery
      return new ViewState(r.journal, r.base, r.head, r.pending, r.nextSeq, repo.uuid, repo.layout.staging, opts.warn)
    })
  )
}
