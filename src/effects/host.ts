/**
 * One host: its gitdir, journal, staging area and the view the mount shows.
 *
 * view = reduce(HEAD tree, pending journal events) + files open for writing. Replay turns pending
 * events into annex content and commits; sync replays, fetches peers, merges and pushes.
 */
import { randomBytes } from "node:crypto"
import * as fsSync from "node:fs"
import { promises as fs, constants as fsc } from "node:fs"
import { promisify } from "node:util"
import * as path from "node:path"
import { EVENT_SCHEMA, type Event, type Operation } from "../domain/events.js"
import { type Refusal, applyInPlace, describeRefusal, reduceAll } from "../domain/reduce.js"
import { withoutProgress } from "./progress.js"
import { isWithin, parentOf } from "../domain/paths.js"
import { type Conflict, type MergeOptions, compareTrees, merge, openConflicts, settle } from "../domain/merge.js"
import { type TreeChange, storedChanges } from "../domain/storage.js"
import { type FileNode, type Node, Tree, contentId, sameStored } from "../domain/tree.js"
import { Annex, objectPathOf, peerEnv } from "./annex.js"
import { ContentUnavailable, userMessage } from "./errors.js"
import { Git } from "./git.js"
import { Journal } from "./journal.js"
import { type Layout, layoutOf } from "./layout.js"
import { Lock } from "./lock.js"
import { type Commit, buildFastImport } from "./fastimport.js"
import { keySize } from "../domain/key.js"
import { ancestorsOf } from "../domain/paths.js"
import { contentPolicy } from "./content.js"
import { type History, type PathVersion, loadHistory } from "./history.js"
import { UsageError } from "./errors.js"
import { createReadStream } from "node:fs"
import { askDaemon } from "./control.js"
import type { SyncReport } from "./results.js"
import { type Spare, SpareFiles, discard } from "./spare.js"
import { loadSnapshot, saveSnapshot } from "./treecache.js"
import { describeLeftOut, leaveOut } from "./leaveout.js"
import { clearStaleGitLocks } from "./gitlocks.js"
import { peerBranches, pushedBranches } from "../domain/peerbranch.js"
import { printable } from "../domain/printable.js"
import { syncDir, syncFileSystems, writeAtomic } from "./durable.js"
import { describeLost, stagedContent } from "./staged.js"

export interface HostOptions {
  /** replay in the background after a quiet period (false: battery mode, only at sync) */
  readonly writeback: boolean
  readonly quietMs: number
  readonly getall: boolean
  readonly log: (line: string) => void
  readonly warn: (line: string) => void
  /** seconds a fetch or push to one peer may take */
  readonly peerTimeout: number
  /** tells a person about a new conflict */
  readonly notify: (message: string) => Promise<void>
}

export const defaultHostOptions: HostOptions = {
  writeback: true,
  quietMs: 1000,
  getall: false,
  log: () => {},
  warn: (l) => process.stderr.write(`sharebox: ${l}\n`),
  peerTimeout: 60,
  notify: async () => {}
}

/** A file open for writing: its copy-on-write staging file. */
export interface Session {
  readonly id: string
  path: string
  /** the staging file, open for reading and writing */
  readonly fd: number
  refs: number
  dirty: boolean
  size: number
  executable: boolean
  base: string | null
  mtime: number
}

/** A SyncReport while a sync fills it in. */
type SyncReporting = { -readonly [K in keyof SyncReport]: SyncReport[K] extends ReadonlyArray<infer E> ? Array<E> : SyncReport[K] }

/** 1 when a person must act (a peer's tree could not be chosen), 75 when a peer was unreachable, else 0. */
export const syncExitCode = (r: Pick<SyncReport, "unreachable" | "unmerged">): number => (r.unmerged?.length ? 1 : r.unreachable.length ? 75 : 0)

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
}

// unique across restarts and processes: a random prefix per process, then a counter
const stagingPrefix = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`
let stagingCount = 0
const newStagingId = (): string => `${stagingPrefix}-${(stagingCount++).toString(36)}`

const write = promisify(fsSync.write)

const readCursor = async (file: string): Promise<number> => {
  try {
    return Number(JSON.parse(await fs.readFile(file, "utf8")).seq) || 0
  } catch {
    return 0
  }
}

/** How long an absent key is believed absent without looking again (see Host.absentKeys). */
const ABSENT_TTL_MS = 10_000

/** The record of a replay in progress (see Host.open), if one was left. */
const readReplaying = async (file: string): Promise<{ seq: number; from: string | undefined } | undefined> => {
  try {
    const j = JSON.parse(await fs.readFile(file, "utf8"))
    const seq = Number(j?.seq)
    if (!Number.isSafeInteger(seq) || seq < 0) return undefined
    return { seq, from: typeof j.from === "string" ? j.from : undefined }
  } catch {
    return undefined
  }
}

/** Paths whose stored form differs between two trees (writers included). */
const differingPaths = (a: Tree, b: Tree): Array<string> => {
  const out: Array<string> = []
  for (const [p, n] of a.entries()) if (!sameStored(n, b.get(p))) out.push(p)
  for (const p of b.paths()) if (!a.has(p)) out.push(p)
  return out
}

const isLocalUrl = (url: string): boolean => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/]+:/.test(url)

/** How long after a checkout the gitdir's index was too busy for the work tree is tried again (doubling). */
const CHECKOUT_RETRY_MS = 1000

/**
 * Told the view's paths whenever the view is replaced, and every path it gains in place: the
 * daemon keeps the names that may exist in the FUSE binding, which answers lookups of any other
 * name itself (src/fuse/mount.ts). It may be told more than exists, never less.
 */
export interface ViewMirror {
  reset(view: Tree): void
  add(path: string): void
}

export class Host {
  private currentView!: Tree
  private mirror: ViewMirror | undefined
  readonly sessions = new Map<string, Session>()
  readonly sessionByPath = new Map<string, Session>()
  private spareFiles: SpareFiles | undefined
  /** empty staging files for new files, made ahead (made lazily: a direct command needs none) */
  private get spares(): SpareFiles {
    return (this.spareFiles ??= new SpareFiles(this.layout.staging, newStagingId))
  }
  private writebackTimer: NodeJS.Timeout | undefined
  /** the commit the gitdir's index and work tree are at: the head, unless a checkout failed */
  private checkedOut: string | undefined
  private checkoutTimer: NodeJS.Timeout | undefined
  private checkoutRetry = 0
  private work: Promise<unknown> = Promise.resolve()
  private readonly fetching = new Map<string, Promise<void>>()
  private readonly presentKeys = new Set<string>()
  /**
   * Keys found absent (getattr of every file of a big tree would otherwise look each one up again
   * and again). Dropped whenever content may have arrived through sharebox (fetch, get, sync,
   * replay: `notePresent`/`forgetPresent`), and as a whole every ABSENT_TTL_MS, for content a
   * stock `git annex get` in the gitdir brought behind the daemon's back.
   */
  private absentKeys = new Set<string>()
  private absentSince = 0
  lastSync: { time: number; report: SyncReport } | undefined
  readonly conflicts: Array<Conflict> = []
  closed = false

  private constructor(
    readonly layout: Layout,
    readonly annex: Annex,
    readonly uuid: string,
    readonly branch: string,
    private readonly lock: Lock,
    private readonly journal: Journal,
    public base: Tree,
    public head: string | undefined,
    public pending: Array<Event>,
    private nextSeq: number,
    readonly opts: HostOptions
  ) {
    this.view = base
    this.checkedOut = head
    for (const e of pending) this.countStaged(e, 1)
    this.recomputeView()
  }

  get gitdir(): string {
    return this.layout.gitdir
  }

  get view(): Tree {
    return this.currentView
  }

  set view(t: Tree) {
    this.currentView = t
    if (!this.mirror) return
    t.onAdd = this.mirror.add
    this.mirror.reset(t)
  }

  /** Keeps `m` told of the view's paths from now on (see ViewMirror). */
  mirrorView(m: ViewMirror): void {
    this.mirror = m
    this.view = this.currentView
  }

  get git(): Git {
    return this.annex.git
  }

  static async open(gitdir: string, options: Partial<HostOptions> = {}): Promise<Host> {
    const opts = { ...defaultHostOptions, ...options }
    const layout = layoutOf(gitdir)
    await fs.mkdir(layout.state, { recursive: true, mode: 0o700 })
    await fs.chmod(layout.state, 0o700)
    await fs.mkdir(layout.staging, { recursive: true, mode: 0o700 })
    const annex = new Annex(gitdir)
    annex.git.warn = opts.warn
    annex.stallSeconds = opts.peerTimeout
    const uuid = await annex.uuid()
    const branch = await annex.git.branch()
    const lock = await Lock.acquire(layout.lock, gitdir)
    // the last holder died holding the lock, in the middle of who knows what
    const crashed = lock.crashed
    try {
      if (crashed) await clearStaleGitLocks(gitdir, opts.warn, "died with sharebox")
      const { journal, events } = await Journal.open(layout.journal, opts.warn)
      let head = await annex.git.headOid()
      // HEAD's tree is read while the checks below run: they may reset the index and the work
      // tree, never HEAD
      const loading = (async () => {
        const snapshot = head ? await loadSnapshot(layout.treeSnapshot, head) : undefined
        if (snapshot) return { tree: snapshot, fromGit: false, skipped: undefined }
        const loaded = await annex.git.loadTree(head)
        return { tree: loaded.tree, fromGit: true, skipped: loaded.skipped.length ? loaded : undefined }
      })()
      loading.catch(() => undefined) // awaited below
      let cursor = await readCursor(layout.cursor)
      let resetFailed: unknown
      // A replay interrupted after its commit but before the cursor moved. Only this host's own
      // record says so: while it exists nothing but that replay moves the branch, so a branch that
      // moved from where the replay started holds the replay's commits. (A commit's trailers cannot
      // say it: a peer writes whatever it likes there, and a forged `Sharebox-Seq` once made this
      // host drop its pending writes.)
      const replaying = await readReplaying(layout.replaying)
      const interrupted = replaying !== undefined
      if (replaying && head !== undefined && head !== replaying.from && replaying.seq > cursor) {
        cursor = replaying.seq
        await writeAtomic(layout.cursor, JSON.stringify({ seq: cursor }), true)
      }
      if (replaying) await fs.rm(layout.replaying, { force: true })
      const started = head
      if (started) {
        // The work tree is scanned (`git status` lstats every file, and git-annex's filter reads
        // the racily clean ones: seconds for 100,000 files) only when something may have been left
        // half done: a crash, a replay cut short, or an index that is not HEAD's tree (a checkout
        // that did not finish, changes staged by hand).
        const indexIsHead = async () => (await annex.git.run(["diff-index", "--cached", "--quiet", started, "--"])).code === 0
        if (crashed || interrupted || !(await indexIsHead())) {
          const status = await annex.git.check(["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"])
          if (status.trim()) await annex.git.checkIndex(["reset", "-q", "--hard", started]).catch((e) => (resetFailed = e))
        }
      }
      const pending = events.filter((e) => e.host === uuid && e.seq > cursor)
      const nextSeq = Math.max(cursor, ...events.map((e) => e.seq)) + 1
      const { tree, fromGit, skipped } = await loading
      if (head && skipped) {
        // HEAD itself holds entries no host can hold (merged by an older sharebox, or by plain
        // git-annex): they are left out by a commit on top, which the work tree can check out
        opts.warn(describeLeftOut("this gitdir's HEAD", skipped.skipped))
        const clean = await leaveOut(annex.git, branch, head, skipped)
        await annex.git.check(["update-ref", `refs/heads/${branch}`, clean, head])
        head = clean
        await annex.git.checkIndex(["reset", "-q", "--hard", head])
        resetFailed = undefined
      }
      if (resetFailed !== undefined) throw resetFailed
      const host = new Host(layout, annex, uuid, branch, lock, journal, tree, head, pending, nextSeq, opts)
      if (head && fromGit) host.unsavedSnapshot = { commit: head, tree }
      host.lastSync = await fs.readFile(layout.lastSync, "utf8").then((t) => JSON.parse(t), () => undefined)
      const reads = await fs.readFile(layout.reads, "utf8").then((t) => JSON.parse(t) as Record<string, number>, () => ({}))
      for (const [k, t] of Object.entries(reads)) host.reads.set(k, t)
      await host.collectStaging()
      if (pending.length && opts.writeback) host.scheduleWriteback()
      return host
    } catch (e) {
      await lock.release()
      throw e
    }
  }

  /** Removes staging files no pending event refers to (left by a crash). */
  private async collectStaging(): Promise<void> {
    const live = new Set(this.pending.flatMap((e) => (e.op === "write" && e.content.kind === "staged" ? [e.content.id] : [])))
    for (const f of await fs.readdir(this.layout.staging)) if (!live.has(f)) await fs.rm(path.join(this.layout.staging, f), { force: true })
  }

  stagingFile(id: string): string {
    return path.join(this.layout.staging, id)
  }

  /** Runs one piece of gitdir work at a time (replay, sync, content policy). */
  private exclusive<A>(f: () => Promise<A>): Promise<A> {
    const next = this.work.then(f, f)
    this.work = next.catch(() => undefined)
    return next
  }

  /** Called before the view is replaced (src/fuse/ops.ts: files the binding created are adopted). */
  beforeViewChange: (() => void) | undefined

  private recomputeView(): void {
    this.beforeViewChange?.()
    const { tree, rejected } = reduceAll(this.base, this.pending)
    for (const r of rejected) this.opts.warn(`pending ${r.event.op} of ${r.event.path} no longer applies (${r.reason})`)
    for (const s of this.sessions.values()) {
      if (tree.isDir(s.path)) continue
      tree.set(s.path, this.sessionNode(s))
    }
    this.view = tree
  }

  sessionNode(s: Session): FileNode {
    return { type: "file", content: { kind: "staged", id: s.id, size: s.size }, executable: s.executable, mtime: s.mtime }
  }

  // ---------------------------------------------------------------- recording

  /**
   * Applies an operation to the view and appends its event to the journal. Returns undefined once
   * the event is written, or the reason it does not apply (nothing is recorded then).
   */
  async record(op: Operation, time = Date.now(), onApplied?: () => void): Promise<Refusal | undefined> {
    const refusal = applyInPlace(this.view, op, time)
    if (refusal !== undefined) return refusal
    onApplied?.()
    const e = { ...op, v: EVENT_SCHEMA, seq: this.nextSeq++, host: this.uuid, time } as Event
    this.pending.push(e)
    this.countStaged(e, 1)
    try {
      this.journal.append(e)
    } catch (err) {
      this.pending = this.pending.filter((x) => x !== e)
      this.countStaged(e, -1)
      this.recomputeView()
      throw err
    }
    this.scheduleWriteback()
    return undefined
  }

  async syncJournal(): Promise<void> {
    await this.journal.sync()
  }

  /** Puts the names of staging files on the disk (their content: fsync of each). */
  syncStagingNames(): Promise<void> {
    return syncDir(this.layout.staging)
  }

  get journalBytes(): number {
    return this.journal.size
  }

  private lastActivity = 0

  /** Replays once nothing was recorded for `quietMs` (one timer, not one per record). */
  private scheduleWriteback(): void {
    if (!this.opts.writeback || this.closed) return
    this.lastActivity = Date.now()
    if (this.writebackTimer) return
    const arm = (ms: number) => {
      this.writebackTimer = setTimeout(() => {
        this.writebackTimer = undefined
        if (this.closed) return
        const quietFor = Date.now() - this.lastActivity
        if (quietFor < this.opts.quietMs) return arm(this.opts.quietMs - quietFor)
        for (const s of this.sessions.values()) this.pullWrites(s)
        if (this.sessions.size > 0 && [...this.sessions.values()].some((s) => s.dirty)) return this.scheduleWriteback()
        this.replay().catch((e) => this.opts.warn(`write-back replay failed: ${e?.message ?? e}`))
      }, ms)
      this.writebackTimer.unref?.()
    }
    arm(this.opts.quietMs)
  }

  /** staging id -> how many pending write events refer to it */
  private readonly stagedRefs = new Map<string, number>()

  private countStaged(e: Event, delta: number): void {
    if (e.op !== "write" || e.content.kind !== "staged") return
    const n = (this.stagedRefs.get(e.content.id) ?? 0) + delta
    if (n > 0) this.stagedRefs.set(e.content.id, n)
    else this.stagedRefs.delete(e.content.id)
  }

  // ---------------------------------------------------------------- write sessions

  /** Opens (or joins) the copy-on-write session of a file. */
  async openSession(p: string, truncate: boolean, createExecutable = false): Promise<Session> {
    const existing = this.sessionByPath.get(p)
    if (existing) {
      existing.refs++
      this.pullWrites(existing)
      if (truncate && existing.size > 0) {
        fsSync.ftruncateSync(existing.fd, 0)
        existing.size = 0
        existing.dirty = true
      }
      return existing
    }
    const node = this.view.get(p)
    const copy = node?.type === "file" && !truncate
    let id: string
    let fd: number
    let size = 0
    if (copy) {
      id = newStagingId()
      const file = this.stagingFile(id)
      const src = await this.contentFile(p, node)
      await fs.copyFile(src, file, fsc.COPYFILE_FICLONE)
      await fs.chmod(file, 0o600)
      size = (await fs.stat(file)).size
      fd = fsSync.openSync(file, "r+", 0o600)
    } else {
      ;({ id, fd } = this.spares.take())
    }
    this.writesOf(fd) // a descriptor number starts with no writes on record
    // opening for writing changes nothing until a write does
    const s = this.newSession(p, node, id, fd, !copy, size, createExecutable, copy ? node.mtime : Date.now())
    this.showSession(s)
    return s
  }

  /**
   * A session of `p` on staging file `id` (open as `fd`), over `node`, the file the view had at
   * `p` when the session began (its base), if any.
   */
  private newSession(p: string, node: Node | undefined, id: string, fd: number, dirty: boolean, size: number, executable: boolean, mtime: number): Session {
    const s: Session = {
      id,
      path: p,
      fd,
      refs: 1,
      dirty,
      size,
      executable: node?.type === "file" ? node.executable : executable,
      base: node?.type === "file" ? contentId(node.content) : null,
      mtime
    }
    this.sessions.set(id, s)
    return s
  }

  /** Puts a session's file in the view, at its path. */
  private showSession(s: Session): void {
    this.sessionByPath.set(s.path, s)
    this.view.set(s.path, this.sessionNode(s))
  }

  /**
   * Where writes that bypass the daemon's handlers are reported (the binding's fast path): the end
   * of the furthest write on a descriptor since the last call, or -1 for none.
   */
  writesOf: (fd: number) => number = () => -1

  /** Takes in what was written to a session's staging file behind the handlers' back. */
  pullWrites(s: Session): void {
    const end = this.writesOf(s.fd)
    if (end >= 0) this.touchSession(s, Math.max(s.size, end))
  }

  touchSession(s: Session, size: number): void {
    s.size = size
    s.dirty = true
    s.mtime = Date.now()
    if (this.sessionByPath.get(s.path) === s) this.view.set(s.path, this.sessionNode(s))
  }

  /** Journals the session's current content as a version (on flush/fsync/last close). */
  async flushSession(s: Session): Promise<void> {
    this.pullWrites(s)
    if (!s.dirty) return
    const current = this.view.get(s.path)
    if (this.sessionByPath.get(s.path) !== s || current?.type !== "file" || current.content.kind !== "staged" || current.content.id !== s.id) {
      s.dirty = false // the file was removed or replaced meanwhile: nothing to record
      return
    }
    s.dirty = false
    let refusal: Refusal | undefined
    try {
      refusal = await this.record(
        { op: "write", path: s.path, content: { kind: "staged", id: s.id, size: s.size }, executable: s.executable, base: s.base },
        s.mtime
      )
    } catch (e) {
      // not recorded (a full disk): the next flush, fsync or the last close must try again, not
      // report success for content the journal does not hold
      s.dirty = true
      throw e
    }
    if (refusal) this.opts.warn(`write of ${s.path} not recorded: ${describeRefusal(refusal)}`)
    s.base = `staged:${s.id}`
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
    const referenced = this.stagedRefs.has(s.id)
    if (!referenced) {
      // Opened for writing but never written (e.g. `touch`): the view must stop pointing at the
      // staging file before it goes.
      this.recomputeView()
      await fs.rm(this.stagingFile(s.id), { force: true })
    }
    this.scheduleWriteback()
    if (unrecorded !== undefined) {
      this.opts.warn(`write of ${s.path} not recorded: ${userMessage(unrecorded)}`)
      throw unrecorded
    }
  }

  /** How many new files the FUSE binding created on its own threads since this host opened. */
  createdInBinding = 0

  /** How the kernel's passthrough of reads is doing (set by the FUSE operations). */
  kernelReads: () => string = () => "off (not mounted)"

  /** How the FUSE binding names the staging files it makes (never an id newStagingId gives). */
  readonly bindingSparePrefix = `${stagingPrefix}_`

  /** Removes staging files made ahead and never used. */
  discardSpares(spares: ReadonlyArray<Spare>): void {
    for (const s of spares) discard(this.stagingFile(s.id), s.fd)
  }

  /**
   * Takes in a new file the FUSE binding created on its own thread from a spare (src/fuse/ops.ts,
   * CreatesHere): the session openSession opens for a new file, on the spare's descriptor, whose
   * writes the binding has been tracking since. If the view changed meanwhile so that the file
   * cannot be there (a peer's change replaced its folder), the session is kept apart: what is
   * written to it is not recorded, as for a file removed while open.
   */
  adoptCreated(p: string, id: string, fd: number, executable: boolean, mtime: number): Session {
    this.createdInBinding++
    const s = this.newSession(p, this.view.get(p), id, fd, true, 0, executable, mtime)
    if (this.sessionByPath.has(p) || this.view.isDir(p) || !this.view.isDir(parentOf(p))) {
      this.opts.warn(`${p} was created as a change from a peer replaced it or its folder: what is written to it is not kept`)
      return s
    }
    this.showSession(s)
    return s
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

  // ---------------------------------------------------------------- content

  /**
   * Whether the content of `key` is here, answered at once: from what is remembered, else by
   * looking for the object file (`Annex.hasObject`, a synchronous call: microseconds from the
   * kernel's dentry cache, where the asynchronous form cost a thread hop and, for every absent
   * key, an exception with its stack: 15-30 KB of garbage each, which an `ls -lR` of 100,000
   * absent files piled up in the heap).
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

  // ---------------------------------------------------------------- replay

  /** Plans the replay of pending events that no open file still writes to. */
  private async plan(): Promise<ReplayPlan & { tree: Tree }> {
    const active = new Set([...this.sessions.values()].filter((s) => s.dirty || s.refs > 0).map((s) => s.id))
    const raw: Array<Event> = []
    for (const e of this.pending) {
      if (e.op === "write" && e.content.kind === "staged" && active.has(e.content.id)) break
      raw.push(e)
    }
    // what never needs to reach history (temporary files, overwritten chmods...) goes, and so do
    // writes whose content is gone (staged.ts)
    const { events, content, lost } = await stagedContent(raw, (id) => this.stagingFile(id))
    const work = this.base.clone()
    const commits: Array<Commit> = []
    let prev = new Map<string, Node | undefined>()
    /** path -> staging id of its version in the commit being built */
    let written = new Map<string, string>()
    let batch: Array<Event> = []
    const remember = (p: string) => {
      if (!prev.has(p)) prev.set(p, work.get(p))
    }
    const cut = () => {
      if (batch.length === 0) return
      const before = prev
      const changes: Array<TreeChange> = storedChanges({ get: (p) => (before.has(p) ? before.get(p) : work.get(p)) }, work, before.keys(), objectPathOf)
      const last = batch[batch.length - 1]!
      commits.push({ changes, time: last.time, message: commitMessage(batch), host: this.uuid, seq: last.seq })
      prev = new Map()
      written = new Map()
      batch = []
    }
    for (const e of events) {
      const op: Operation =
        e.op === "write" && e.content.kind === "staged" ? { ...e, content: { kind: "key", key: content.get(e.content.id)! } } : e
      // A second write of the same staging file (a flush of a dup'd descriptor) is the same version.
      const version = e.op === "write" ? contentId(e.content) : ""
      if (op.op === "write" && written.has(op.path) && written.get(op.path) !== version) cut()
      remember(op.path)
      if (op.op === "rename") {
        remember(op.to)
        if (work.isDir(op.path)) for (const [d] of work.walk(op.path)) remember(op.to + d.slice(op.path.length))
      }
      if (applyInPlace(work, op, e.time) === undefined && op.op === "write") written.set(op.path, version)
      batch.push(e)
    }
    cut()
    // the last commit covers the whole replayed stretch of the journal, optimised away or not
    if (commits.length && raw.length) commits[commits.length - 1] = { ...commits[commits.length - 1]!, seq: raw[raw.length - 1]!.seq }
    return { raw, events, commits, content, lost, tree: work }
  }

  /**
   * Replays pending events into git-annex; with dryRun, only returns the plan. Writes whose content
   * is gone are named once, when the journal lets go of them: in the log and to `report` (the
   * output of the command that asked), unless that is the log.
   */
  replay(options: { dryRun?: boolean; report?: (line: string) => void } = {}): Promise<ReplayPlan> {
    return this.exclusive(async () => {
      const plan = await this.plan()
      if (options.dryRun || plan.raw.length === 0) return plan
      const byKey = new Map<string, string>()
      for (const [id, key] of plan.content) if (!byKey.has(key)) byKey.set(key, id)
      await this.annex.ingest([...byKey].map(([key, id]) => ({ staged: this.stagingFile(id), key })))
      for (const key of byKey.keys()) this.notePresent(key)
      await this.annex.recordPresent([...new Set(plan.content.values())])
      const lastSeq = plan.raw[plan.raw.length - 1]!.seq
      const made = plan.commits.filter((c) => c.changes.length > 0)
      await writeAtomic(this.layout.replaying, JSON.stringify({ seq: lastSeq, from: this.head ?? null }))
      // the objects and the record of this replay on the disk before the branch can move there
      if (byKey.size > 0 || made.length > 0) await this.syncReplayed()
      if (made.length > 0) {
        await this.git.fastImport(buildFastImport(made, this.branch, this.head))
        const newHead = (await this.git.revParse(this.branch))!
        const oids = (await this.git.check(["rev-list", "--reverse", "--first-parent", newHead, ...(this.head ? [`^${this.head}`] : []), "--"])).split("\n").filter(Boolean)
        this.head = newHead
        await this.checkoutHead()
        await this.logReplayed(plan.events, made, oids)
      }
      await writeAtomic(this.layout.cursor, JSON.stringify({ seq: lastSeq }))
      // the commit, the branch and the cursor on the disk before the journal forgets the events
      await this.syncReplayed()
      await fs.rm(this.layout.replaying, { force: true })
      this.base = plan.tree
      for (const e of this.pending) if (e.seq <= lastSeq) this.countStaged(e, -1)
      this.pending = this.pending.filter((e) => e.seq > lastSeq)
      await this.journal.rewrite(this.pending)
      if (plan.lost.length > 0) {
        const line = describeLost(plan.lost)
        this.opts.warn(line)
        if (options.report && options.report !== this.opts.warn) options.report(line)
        void this.opts.notify(`sharebox: ${line}`).catch(() => undefined)
      }
      this.recomputeView()
      await removeFiles([...plan.content.keys()].filter((id) => !this.stagedRefs.has(id) && !this.sessions.has(id)).map((id) => this.stagingFile(id)))
      this.opts.log(`replayed ${plan.events.length} event(s) into ${plan.commits.length} commit(s)`)
      return plan
    })
  }

  /** What a replay wrote, on the disk: the state folder, the annex's objects and git's. */
  private syncReplayed(): Promise<void> {
    const dotgit = path.join(this.gitdir, ".git")
    return syncFileSystems([this.layout.state, path.join(dotgit, "annex", "objects"), path.join(dotgit, "objects")])
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
    if (lines.length) await fs.appendFile(this.layout.replayed, lines.join("\n") + "\n", { mode: 0o600 })
  }

  /** Replayed events whose commits no peer has yet (as far as our remote-tracking refs know). */
  async unshared(): Promise<Array<ReplayedEntry>> {
    let text = ""
    try {
      text = await fs.readFile(this.layout.replayed, "utf8")
    } catch {
      return []
    }
    if (!this.head) return []
    const local = new Set((await this.git.check(["rev-list", this.head, "--not", "--remotes", "--"])).split("\n").filter(Boolean))
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
  private async pruneReplayed(): Promise<void> {
    const keep = await this.unshared()
    await writeAtomic(this.layout.replayed, keep.map((e) => JSON.stringify(e) + "\n").join(""))
  }

  // ---------------------------------------------------------------- sync

  /** Moves the branch (and the work tree) to a commit whose tree is `tree`. */
  private async moveTo(oid: string, tree: Tree): Promise<void> {
    if (this.head) await this.git.check(["update-ref", `refs/heads/${this.branch}`, oid, this.head])
    else await this.git.check(["update-ref", `refs/heads/${this.branch}`, oid])
    this.head = oid
    this.base = tree
    await this.checkoutHead()
  }

  /** Writes a commit of `tree` on top of the head (a merge when `merge` is given) and moves there. */
  private async commitTree(tree: Tree, message: string, merge: string | undefined, trailers: ReadonlyArray<string> = []): Promise<void> {
    const changes = storedChanges(this.base, tree, differingPaths(this.base, tree), objectPathOf)
    await this.git.fastImport(buildFastImport([{ changes, time: Date.now(), message, host: this.uuid, merge, trailers }], this.branch, this.head))
    this.head = (await this.git.revParse(this.branch))!
    this.base = tree
    await this.checkoutHead()
  }

  /**
   * Brings the gitdir's index and work tree to the head, once the branch has moved there. Another
   * git command can hold the index for longer than git.checkout waits (a `git status` of a huge
   * work tree, an editor's git integration): the branch is what counts (the view, the next replay
   * and peers build on it), so the move stands, and the work tree follows by a retry a little
   * later, or with the next move. Only a work tree that never caught up is reset to the head.
   */
  private async checkoutHead(): Promise<void> {
    const to = this.head!
    try {
      await this.git.checkout(this.checkedOut, to)
      this.checkedOut = to
      this.checkoutRetry = 0
    } catch (e: any) {
      this.checkedOut = undefined
      const pause = Math.min(CHECKOUT_RETRY_MS * 2 ** this.checkoutRetry++, 60_000)
      this.opts.warn(`the gitdir's work tree is not at ${to.slice(0, 12)} yet (${e?.message ?? e}); trying again in ${pause / 1000} s`)
      if (this.checkoutTimer) clearTimeout(this.checkoutTimer)
      this.checkoutTimer = setTimeout(() => {
        this.checkoutTimer = undefined
        void this.exclusive(async () => {
          if (!this.closed && this.head && this.checkedOut !== this.head) await this.checkoutHead()
        })
      }, pause)
      this.checkoutTimer.unref?.()
    }
  }

  /**
   * True when neither commit has a user commit (a non-merge commit that is not a settle) the other
   * lacks: their trees differ, if at all, only by the order merges happened in.
   */
  private async sameUserCommits(a: string, b: string): Promise<boolean> {
    const out = await this.git.check(["log", "--no-merges", "--format=%H%x09%(trailers:key=Sharebox-Settle,valueonly,separator=%x20)", `${a}...${b}`, "--"])
    return out.split("\n").every((line) => !line.trim() || (line.split("\t")[1] ?? "").trim() === "yes")
  }

  /**
   * The merge base as a tree: the one lowest common ancestor, or, after criss-cross merges, a
   * virtual merge of them all (git's recursive strategy), with its virtual commits written as
   * unreferenced objects so the recursion can ask git for their bases too.
   */
  private async baseTree(a: string, b: string, labels: MergeOptions): Promise<Tree> {
    const r = await this.git.run(["merge-base", "--all", a, b])
    const bases = r.stdout.split("\n").filter(Boolean).sort()
    if (bases.length === 0) return new Tree()
    let v = bases[0]!
    let vTree = (await this.git.loadTree(v)).tree
    for (const c of bases.slice(1)) {
      const [b2, cTree] = await Promise.all([this.baseTree(v, c, labels), this.git.loadTree(c).then((x) => x.tree)])
      const merged = merge(b2, vTree, cTree, labels).tree
      const ref = `refs/sharebox/virtual-${process.pid}`
      const changes = storedChanges(vTree, merged, differingPaths(vTree, merged), objectPathOf)
      await this.git.fastImport(buildFastImport([{ changes, time: 0, message: "sharebox: virtual merge base", host: this.uuid, merge: c }], this.branch, v, ref))
      v = (await this.git.check(["rev-parse", ref])).trim()
      await this.git.check(["update-ref", "-d", ref])
      vTree = merged
    }
    return vTree
  }

  /** How hosts are named in conflict copies: their descriptions (shared through git-annex). */
  private async mergeLabels(): Promise<MergeOptions> {
    // The peers' git-annex branches first (just fetched or pushed here): at first contact the
    // other host's description is only there, and without it its copies were named by UUID.
    await this.annex.commitBranch()
    const names = await this.annex.descriptions()
    return { hostLabel: (uuid) => names.get(uuid) ?? uuid.slice(0, 8) }
  }

  /**
   * Adopts a peer's head: nothing when we have it, a fast-forward, a settle when both hold the
   * same user commits (see domain/merge.ts `settle`), or a three-way merge commit.
   */
  private async mergeHead(name: string, peerHead: string): Promise<ReadonlyArray<Conflict> | undefined> {
    let theirs = peerHead
    let theirLoaded: Tree | undefined
    /** Their tree, read once; entries no host can hold are left out by a commit on top of theirs. */
    const theirTree = async (): Promise<Tree> => {
      if (theirLoaded) return theirLoaded
      const loaded = await this.git.loadTree(theirs)
      if (loaded.skipped.length > 0) {
        this.opts.warn(describeLeftOut(name, loaded.skipped))
        theirs = await leaveOut(this.git, this.branch, theirs, loaded)
      }
      return (theirLoaded = loaded.tree)
    }
    if (!this.head) {
      const t = await theirTree()
      await this.moveTo(theirs, t)
      return []
    }
    if (this.head === theirs) return undefined
    const theirsBehind = await this.git.isAncestor(theirs, this.head)
    const oursBehind = !theirsBehind && (await this.git.isAncestor(this.head, theirs))
    if (await this.sameUserCommits(this.head, theirs)) {
      const tTree = await theirTree()
      const order = compareTrees(this.base, tTree)
      if (order === 0) {
        if (oursBehind) await this.moveTo(theirs, tTree)
        return undefined
      }
      const t = settle(this.base, tTree)
      if (t === tTree && oursBehind) await this.moveTo(theirs, tTree)
      else if (t === tTree || !theirsBehind) {
        await this.commitTree(t, `sharebox: settle with ${name}`, theirsBehind ? undefined : theirs, ["Sharebox-Settle: yes"])
      } else return undefined
      return []
    }
    if (theirsBehind) return undefined
    if (oursBehind) {
      const t = await theirTree()
      await this.moveTo(theirs, t)
      return []
    }
    const labels = await this.mergeLabels()
    const tTree = await theirTree()
    const baseTree = await this.baseTree(this.head, theirs, labels)
    const result = merge(baseTree, this.base, tTree, labels)
    const summary = result.conflicts.length ? `\n\nConflicts:\n${result.conflicts.map((c) => `  ${c.path} -> ${c.copy}`).join("\n")}` : ""
    await this.commitTree(result.tree, `sharebox: merge ${name}${summary}`, theirs)
    return result.conflicts
  }

  sync(progress: (line: string) => void = () => {}): Promise<SyncReport> {
    return this.replay({ report: progress }).then(() =>
      this.exclusive(async () => {
        const report: SyncReporting = { reached: [], unreachable: [], unmerged: [], conflicts: [], merged: 0 }
        const env = peerEnv()
        for (const r of await this.git.remotes()) {
          if (isLocalUrl(r.url)) {
            const dir = path.resolve(this.gitdir, r.url.replace(/^file:\/\//, ""))
            try {
              await fs.access(dir)
            } catch {
              report.unreachable.push({ name: r.name, reason: `${dir} is not there` })
              continue
            }
            // A peer mounted on this machine: have it write back what it has before we fetch.
            await askDaemon(dir, { _tag: "replay", dryRun: false }, 10).catch(() => undefined)
          }
          try {
            const f = await this.git.run(["fetch", "--quiet", r.name], { env, timeoutSeconds: this.opts.peerTimeout })
            if (f.code !== 0) {
              report.unreachable.push({ name: r.name, reason: f.stderr.trim().split("\n").pop() || `git fetch exited ${f.code}` })
              continue
            }
          } catch (e: any) {
            report.unreachable.push({ name: r.name, reason: e?.message ?? String(e) })
            continue
          }
          report.reached.push(r.name)
        }
        for (const u of report.unreachable) progress(`peer ${printable(u.name)} unreachable: ${printable(u.reason)}`)
        const candidates: Array<[string, string]> = (await this.pushedRefs()).map((r) => [r.slice("refs/heads/".length), r])
        const pushTo = new Map<string, string>()
        for (const name of report.reached) {
          const prefix = `refs/remotes/${name}/`
          const refs = (await this.git.check(["for-each-ref", "--format=%(refname)", prefix])).split("\n").filter(Boolean)
          const branches = peerBranches(this.branch, refs.map((r) => r.slice(prefix.length)))
          if (branches.problem) {
            report.unmerged.push({ name, reason: branches.problem })
            progress(`peer ${printable(name)}: ${printable(branches.problem)}`)
          }
          for (const b of branches.merge) candidates.push([name, prefix + b])
          pushTo.set(name, branches.pushTo)
        }
        for (const [name, ref] of candidates) {
          const oid = await this.git.revParse(ref)
          if (!oid) continue
          const conflicts = await this.mergeHead(name, oid)
          if (conflicts) {
            report.merged++
            report.conflicts.push(...conflicts)
            for (const c of conflicts) progress(`conflict: ${c.path} (other version kept as ${c.copy})`)
          }
        }
        this.conflicts.push(...report.conflicts)
        // merges the peers' git-annex branches (location logs)
        await this.annex.commitBranch()
        if (this.head) {
          for (const name of report.reached) {
            const refspecs = [`${this.branch}:synced/${pushTo.get(name) ?? this.branch}`, "git-annex:synced/git-annex"]
            const p = await this.git.run(["push", "--quiet", name, ...refspecs], { env, timeoutSeconds: this.opts.peerTimeout }).catch((e) => ({ code: 1, stderr: String(e?.message ?? e), stdout: "" }))
            if (p.code !== 0) progress(`push to ${name} incomplete: ${p.stderr.trim().split("\n").pop()}`)
          }
        }
        this.recomputeView()
        await this.notifyNew().catch((e) => progress(`notify: ${e?.message ?? e}`))
        await contentPolicy(this, progress).catch((e) => progress(`content policy: ${e?.message ?? e}`))
        this.lastSync = { time: Date.now(), report }
        await writeAtomic(this.layout.lastSync, JSON.stringify(this.lastSync))
        await this.saveReads()
        await this.pruneReplayed()
        return report
      })
    )
  }

  /**
   * Merges what peers pushed into this gitdir (`synced/BRANCH`), without any network: how a push
   * from a peer shows in the mount before the next sync here.
   */
  mergePushed(): Promise<ReadonlyArray<Conflict> | undefined> {
    return this.replay().then(() =>
      this.exclusive(async () => {
        let conflicts: Array<Conflict> | undefined
        for (const ref of await this.pushedRefs()) {
          const oid = await this.git.revParse(ref)
          const c = oid && (await this.mergeHead(ref.slice("refs/heads/".length), oid))
          if (c) (conflicts ??= []).push(...c)
        }
        if (conflicts) {
          this.conflicts.push(...conflicts)
          await this.annex.commitBranch()
          this.recomputeView()
          await this.notifyNew().catch((e) => this.opts.warn(`notify: ${e?.message ?? e}`))
        }
        return conflicts
      })
    )
  }

  /** What peers pushed into this gitdir (`refs/heads/synced/X`, X any branch of theirs), ours first. */
  async pushedRefs(): Promise<Array<string>> {
    const prefix = "refs/heads/synced/"
    const refs = (await this.git.check(["for-each-ref", "--format=%(refname)", prefix])).split("\n").filter(Boolean)
    return pushedBranches(this.branch, refs.map((r) => r.slice(prefix.length))).map((b) => prefix + b)
  }

  /** the tree just read from git, for the next mount to read from the state folder instead */
  private unsavedSnapshot: { readonly commit: string; readonly tree: Tree } | undefined

  /** Content policy run by the daemon at mount time (getall, pins); a tree snapshot if none was. */
  async afterMount(): Promise<void> {
    const snap = this.unsavedSnapshot
    this.unsavedSnapshot = undefined
    // only ever a tree as git gave it, never one this host derived in memory
    if (snap) await saveSnapshot(this.layout.treeSnapshot, snap.commit, snap.tree).catch((e) => this.opts.warn(`tree snapshot: ${e?.message ?? e}`))
    await this.exclusive(() => contentPolicy(this, withoutProgress(this.opts.warn)))
  }

  /** Notifies once per conflict copy ever seen here (remembered across restarts). */
  private async notifyNew(): Promise<void> {
    const file = path.join(this.layout.state, "notified.json")
    const seen = new Set<string>(await fs.readFile(file, "utf8").then((t) => JSON.parse(t) as Array<string>, () => []))
    let changed = false
    for (const c of this.openConflicts()) {
      if (seen.has(c.copy)) continue
      seen.add(c.copy)
      changed = true
      await this.opts.notify(`sharebox: conflict on ${c.path}; the other version is kept as ${c.copy}`)
    }
    if (changed) await writeAtomic(file, JSON.stringify([...seen]))
  }

  /** Conflict copies in the tree: neither side chosen yet. Every host derives the same list. */
  openConflicts(): Array<Conflict> {
    return openConflicts(this.view)
  }

  // ---------------------------------------------------------------- versions

  private historyCache: { head: string | undefined; history: History } | undefined

  /** Every path's versions (committed history; pending writes are not versions yet). */
  async history(): Promise<History> {
    if (this.historyCache?.head !== this.head || !this.historyCache) {
      this.historyCache = { head: this.head, history: await loadHistory(this.git, this.head) }
    }
    return this.historyCache.history
  }

  /** Writes an old version's content at `to`, as an ordinary write that syncs like any other. */
  async restore(version: PathVersion, from: string, to: string): Promise<void> {
    const node: FileNode = {
      type: "file",
      content: version.key ? { kind: "key", key: version.key } : { kind: "blob", oid: version.oid!, size: version.size },
      executable: version.mode === "100755",
      mtime: version.time
    }
    const src = await this.contentFile(from, node)
    for (const a of ancestorsOf(to)) {
      if (!this.view.has(a)) {
        const refusal = await this.record({ op: "mkdir", path: a })
        if (refusal) throw new UsageError({ message: `cannot restore to ${to}: ${a}: ${describeRefusal(refusal)}`, exitCode: 1 })
      }
    }
    if (this.view.isDir(to)) throw new UsageError({ message: `cannot restore to ${to}: it is a directory`, exitCode: 1 })
    const s = await this.openSession(to, true, node.executable)
    try {
      let size = 0
      for await (const chunk of createReadStream(src)) {
        await write(s.fd, chunk as Buffer, 0, (chunk as Buffer).length, size)
        size += (chunk as Buffer).length
      }
      this.touchSession(s, size)
    } finally {
      await this.releaseSession(s)
    }
  }

  // ---------------------------------------------------------------- reads, for the cache

  private readonly reads = new Map<string, number>()

  noteRead(key: string): void {
    this.reads.set(key, Date.now())
  }

  lastReads(): ReadonlyMap<string, number> {
    return this.reads
  }

  /** Presence of `key` may have changed (a drop, a get): the next `isPresent` looks again. */
  forgetPresent(key: string): void {
    this.presentKeys.delete(key)
    this.absentKeys.delete(key)
  }

  private async saveReads(): Promise<void> {
    await writeAtomic(this.layout.reads, JSON.stringify(Object.fromEntries(this.reads)))
  }

  // ---------------------------------------------------------------- shutdown

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.writebackTimer) clearTimeout(this.writebackTimer)
    if (this.checkoutTimer) clearTimeout(this.checkoutTimer)
    for (const s of [...this.sessions.values()]) {
      s.refs = 1
      await this.releaseSession(s).catch(() => undefined)
    }
    if (this.opts.writeback && this.pending.length) await this.replay().catch((e) => this.opts.warn(`replay at exit failed: ${e?.message ?? e}`))
    await this.work.catch(() => undefined)
    // a work tree still behind (the index was busy): one more try, else the next start resets it
    if (this.head && this.checkedOut !== this.head) await this.git.checkout(undefined, this.head).catch(() => undefined)
    await this.saveReads().catch(() => undefined)
    this.spareFiles?.close()
    this.annex.closeBatches(true)
    await this.journal.close()
    await this.lock.release()
  }
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

/** Removes files (missing ones are fine) with synchronous calls, a few hundred per turn of the event loop. */
const removeFiles = async (files: ReadonlyArray<string>): Promise<void> => {
  for (let i = 0; i < files.length; i += 256) {
    if (i > 0) await new Promise((r) => setImmediate(r))
    for (const f of files.slice(i, i + 256)) fsSync.rmSync(f, { force: true })
  }
}

const commitMessage = (batch: ReadonlyArray<Event>): string => {
  const first = batch[0]!
  const what = (e: Event) => (e.op === "rename" ? `${e.op} ${e.path} -> ${e.to}` : `${e.op} ${e.path}`)
  const title = batch.length === 1 ? what(first) : `${what(first)} and ${batch.length - 1} more`
  return `sharebox: ${title}`
}

