/**
 * Files open for writing: each a copy-on-write session on a staging file (a clone of the file's
 * content, or a spare made ahead for a new file), shown in the view at its path while open and
 * journalled as a version on flush, fsync and the last close. Owns the sessions, the spare files and
 * the staging folder's names.
 */
import { randomBytes } from "node:crypto"
import * as fsSync from "node:fs"
import { promises as fs, constants as fsc } from "node:fs"
import * as path from "node:path"
import { Context, Effect, Layer } from "effect"
import { rebased } from "../domain/concurrent.js"
import { isWithin, parentOf } from "../domain/paths.js"
import { type Refusal, describeRefusal } from "../domain/reduce.js"
import { DEFAULT_FILE_MODE, KEPT_MODE, type Node, type Tree, contentId, fileMode, fileModeFields, stagedNode } from "../domain/tree.js"
import { userMessage } from "./errors.js"
import { HostConfig, Repo } from "./hostconfig.js"
import { Presence, type PresenceCache } from "./presence.js"
import { type Spare, SpareFiles, discard } from "./spare.js"
import { stagingFileOf } from "./layout.js"
import { ViewStore, type ViewState } from "./viewstore.js"

/** A file open for writing: its copy-on-write staging file. */
export interface Session {
  readonly id: string
  path: string
  /** the staging file, open for reading and writing */
  readonly fd: number
  refs: number
  dirty: boolean
  size: number
  /** the file's permission bits (see `KEPT_MODE`) */
  mode: number
  base: string | null
  mtime: number
  /** when a write or truncate last changed the content (0: not since it opened): the file's ctime */
  writtenAt: number
}

// unique across restarts and processes: a random prefix per process, then a counter
const stagingPrefix = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`
let stagingCount = 0
const newStagingId = (): string => `${stagingPrefix}-${(stagingCount++).toString(36)}`


export class StagingArea {
  readonly sessions = new Map<string, Session>()
  readonly sessionByPath = new Map<string, Session>()
  private spareFiles: SpareFiles | undefined
  /**
   * Where writes that bypass the daemon's handlers are reported (the binding's fast path): the end
   * of the furthest write on a descriptor since the last call, or -1 for none.
   */
  private writesOf: (fd: number) => number = () => -1
  private readonly releasedListeners: Array<() => void> = []
  /** How the FUSE binding names the staging files it makes (never an id newStagingId gives). */
  readonly bindingSparePrefix = `${stagingPrefix}_`

  constructor(
    private readonly dir: string,
    private readonly views: ViewState,
    private readonly presence: PresenceCache,
    private readonly warn: (line: string) => void
  ) {
    views.onRecompute((tree) => this.overlay(tree))
  }

  /** empty staging files for new files, made ahead (made lazily: a direct command needs none) */
  private get spares(): SpareFiles {
    return (this.spareFiles ??= new SpareFiles(this.dir, newStagingId))
  }

  stagingFile(id: string): string {
    return stagingFileOf({ staging: this.dir }, id)
  }

  /** Reports writes made behind the handlers' back (the FUSE binding's fast path). */
  trackWrites(writesOf: (fd: number) => number): void {
    this.writesOf = writesOf
  }

  /** `f` is called after every last close of a session. */
  onReleased(f: () => void): void {
    this.releasedListeners.push(f)
  }

  /** Files open for writing are shown as they are now, over a recomputed view. */
  private overlay(tree: Tree): void {
    for (const s of this.sessions.values()) {
      if (tree.isDir(s.path)) continue
      tree.set(s.path, stagedNode(s))
    }
  }

  /** Staging ids an open file may still write to: a replay must not read them yet. */
  activeIds(): Set<string> {
    return new Set([...this.sessions.values()].filter((s) => s.dirty || s.refs > 0).map((s) => s.id))
  }

  /** Removes staging files no pending event refers to (left by a crash). */
  async collect(): Promise<void> {
    const live = new Set(this.views.pending.flatMap((e) => (e.op === "write" && e.content.kind === "staged" ? [e.content.id] : [])))
    for (const f of await fs.readdir(this.dir)) if (!live.has(f)) await fs.rm(path.join(this.dir, f), { force: true })
  }

  /** Opens (or joins) the copy-on-write session of a file. */
  async openSession(p: string, truncate: boolean, createMode = DEFAULT_FILE_MODE): Promise<Session> {
    const existing = this.sessionByPath.get(p)
    if (existing) {
      existing.refs++
      this.pullWrites(existing)
      if (truncate && existing.size > 0) {
        fsSync.ftruncateSync(existing.fd, 0)
        this.touchSession(existing, 0)
      }
      return existing
    }
    const node = this.views.view.get(p)
    const copy = node?.type === "file" && !truncate
    let id: string
    let fd: number
    let size = 0
    if (copy) {
      id = newStagingId()
      const file = this.stagingFile(id)
      const src = await this.presence.contentFile(p, node)
      await fs.copyFile(src, file, fsc.COPYFILE_FICLONE)
      await fs.chmod(file, 0o600)
      size = (await fs.stat(file)).size
      fd = fsSync.openSync(file, "r+", 0o600)
    } else {
      ;({ id, fd } = this.spares.take())
    }
    this.writesOf(fd) // a descriptor number starts with no writes on record
    // opening for writing changes nothing until a write does
    const s = this.newSession(p, node, id, fd, !copy, size, createMode, copy ? node.mtime : Date.now())
    this.showSession(s)
    return s
  }

  /**
   * A session of `p` on staging file `id` (open as `fd`), over `node`, the file the view had at `p`
   * when the session began (its base), if any.
   */
  private newSession(p: string, node: Node | undefined, id: string, fd: number, dirty: boolean, size: number, createMode: number, mtime: number): Session {
    const s: Session = {
      id,
      path: p,
      fd,
      refs: 1,
      dirty,
      size,
      // an existing file keeps its mode; a new one has the mode it was created with
      mode: node?.type === "file" ? fileMode(node) : createMode & KEPT_MODE,
      base: node?.type === "file" ? contentId(node.content) : null,
      mtime,
      // a new or emptied file is written as it opens; a copy, at its first write
      writtenAt: dirty ? mtime : 0
    }
    this.sessions.set(id, s)
    return s
  }

  /** Puts a session's file in the view, at its path. */
  private showSession(s: Session): void {
    this.sessionByPath.set(s.path, s)
    this.views.view.set(s.path, stagedNode(s))
  }

  /** Takes in what was written to a session's staging file behind the handlers' back. */
  pullWrites(s: Session): void {
    const end = this.writesOf(s.fd)
    if (end >= 0) this.touchSession(s, Math.max(s.size, end))
  }

  /** Whether an open file has writes not yet journalled (taking in the binding's first). */
  anyDirty(): boolean {
    for (const s of this.sessions.values()) this.pullWrites(s)
    return [...this.sessions.values()].some((s) => s.dirty)
  }

  touchSession(s: Session, size: number): void {
    s.size = size
    s.dirty = true
    s.mtime = s.writtenAt = Date.now()
    if (this.sessionByPath.get(s.path) === s) this.views.view.set(s.path, stagedNode(s))
  }

  /** Journals the session's current content as a version (on flush/fsync/last close). */
  async flushSession(s: Session): Promise<void> {
    this.pullWrites(s)
    if (!s.dirty) return
    const current = this.views.view.get(s.path)
    if (this.sessionByPath.get(s.path) !== s || current?.type !== "file" || current.content.kind !== "staged" || current.content.id !== s.id) {
      s.dirty = false // the file was removed or replaced meanwhile: nothing to record
      return
    }
    s.dirty = false
    let refusal: Refusal | undefined
    try {
      refusal = await this.views.record(
        { op: "write", path: s.path, content: { kind: "staged", id: s.id, size: s.size }, ...fileModeFields(s.mode), base: s.base },
        s.mtime
      )
    } catch (e) {
      // not recorded (a full disk): the next flush, fsync or the last close must try again, not
      // report success for content the journal does not hold
      s.dirty = true
      throw e
    }
    if (refusal) this.warn(`write of ${s.path} not recorded: ${describeRefusal(refusal)}`)
    s.base = `staged:${s.id}`
  }

  /**
   * A new file is in the view from its open, and in the journal from its first flush or its last
   * close: an operation that names it as it is (a rename) needs it journalled first.
   */
  async journalNew(s: Session): Promise<void> {
    if (s.base === null) await this.flushSession(s)
  }

  async releaseSession(s: Session): Promise<void> {
    s.refs--
    if (s.refs > 0) return
    // a version the journal could not take goes with the session rather than keeping it open for
    // ever; the writer learnt of it from the flush of its close(2) (truncate(2): from the throw below)
    const unrecorded = await this.flushSession(s).then(() => undefined, (e: unknown) => e ?? new Error("not recorded"))
    fsSync.closeSync(s.fd)
    this.sessions.delete(s.id)
    if (this.sessionByPath.get(s.path) === s) this.sessionByPath.delete(s.path)
    if (!this.views.isStaged(s.id)) {
      // Opened for writing but never written (e.g. `touch`): the view must stop pointing at the
      // staging file before it goes.
      this.views.recompute()
      await fs.rm(this.stagingFile(s.id), { force: true })
    }
    for (const f of this.releasedListeners) f()
    if (unrecorded !== undefined) {
      this.warn(`write of ${s.path} not recorded: ${userMessage(unrecorded)}`)
      throw unrecorded
    }
  }

  /** Closes every session (journalling what was written), as at unmount. */
  async releaseAll(): Promise<void> {
    for (const s of [...this.sessions.values()]) {
      s.refs = 1
      await this.releaseSession(s).catch(() => undefined)
    }
  }

  /** Removes staging files made ahead and never used. */
  discardSpares(spares: ReadonlyArray<Spare>): void {
    for (const s of spares) discard(this.stagingFile(s.id), s.fd)
  }

  closeSpares(): void {
    this.spareFiles?.close()
  }

  /**
   * Takes in a new file the FUSE binding created on its own thread from a spare (src/fuse/ops.ts,
   * CreatesHere): the session openSession opens for a new file, on the spare's descriptor, whose
   * writes the binding has been tracking since. If the view changed meanwhile so that the file cannot
   * be there (a peer's change replaced its folder), the session is kept apart: what is written to it
   * is not recorded, as for a file removed while open.
   */
  adoptCreated(p: string, id: string, fd: number, mode: number, mtime: number): Session {
    const view = this.views.view
    const s = this.newSession(p, view.get(p), id, fd, true, 0, mode, mtime)
    if (this.sessionByPath.has(p) || view.isDir(p) || !view.isDir(parentOf(p))) {
      this.warn(`${p} was created as a change from a peer replaced it or its folder: what is written to it is not kept`)
      return s
    }
    this.showSession(s)
    return s
  }

  /** Sessions based on a staging file that replayed are based on the key it became (`keys`: id -> key). */
  rebase(keys: ReadonlyMap<string, string>): void {
    for (const s of this.sessions.values()) s.base = rebased(s.base, keys)
  }

  /** Keeps sessions attached to their files across a rename. */
  renameSessions(from: string, to: string): void {
    for (const s of this.sessions.values()) {
      if (!isWithin(s.path, from) || this.sessionByPath.get(s.path) !== s) continue
      if (this.sessionByPath.get(s.path) === s) this.sessionByPath.delete(s.path)
      s.path = to + s.path.slice(from.length)
      this.sessionByPath.set(s.path, s)
    }
  }

  forgetSession(p: string): void {
    this.sessionByPath.delete(p)
  }
}

export class Staging extends Context.Tag("sharebox/Staging")<Staging, StagingArea>() {
  static layer = Layer.effect(
    Staging,
    Effect.gen(function* () {
      const { opts } = yield* HostConfig
      const repo = yield* Repo
      const staging = new StagingArea(repo.layout.staging, yield* ViewStore, yield* Presence, opts.warn)
      yield* Effect.promise(() => staging.collect())
      return staging
    })
  )
}
