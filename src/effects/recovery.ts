/**
 * Opening a host after whatever happened to the last one: the gitdir's lock taken (and, when its last
 * holder died, git's stale locks cleared), a replay cut short finished or forgotten, a work tree left
 * half checked out reset, a HEAD holding entries no host can hold left out by a commit on top, and
 * the journal's pending events read back. What it yields is the state the other services start
 * from; the lock and the journal end with its scope.
 */
import { promises as fs } from "node:fs"
import { Context, Effect, Layer } from "effect"
import type { Event } from "../domain/events.js"
import type { Tree } from "../domain/tree.js"
import { writeAtomic } from "./durable.js"
import { clearStaleGitLocks } from "./gitlocks.js"
import { HostConfig, Repo } from "./hostconfig.js"
import { Journal } from "./journal.js"
import { describeLeftOut, leaveOut } from "./leaveout.js"
import { Lock } from "./lock.js"
import type { JournalPort, RecoveryPorts } from "./ports.js"
import { loadSnapshot } from "./treecache.js"

export interface Recovered {
  readonly journal: JournalPort
  /** HEAD's tree */
  readonly base: Tree
  readonly head: string | undefined
  /** this host's journal events not yet replayed */
  readonly pending: ReadonlyArray<Event>
  readonly nextSeq: number
  /** HEAD's tree as read from git (no snapshot of it was saved), for the next start to read instead */
  readonly unsavedSnapshot: { readonly commit: string; readonly tree: Tree } | undefined
}

/** The gitdir's own lock, journal file and git's lock files. */
export const liveRecoveryPorts = (repo: Repo["Type"]): RecoveryPorts => ({
  lock: () => Lock.acquire(repo.layout.lock, repo.gitdir),
  openJournal: (warn) => Journal.open(repo.layout.journal, warn),
  clearStaleLocks: (warn) => clearStaleGitLocks(repo.gitdir, warn, "died with sharebox")
})

export class Recovery extends Context.Tag("sharebox/Recovery")<Recovery, Recovered>() {
  /** A start over the lock and journal `portsOf` gives for the repository. */
  static over = (portsOf: (repo: Repo["Type"]) => RecoveryPorts) =>
    Layer.scoped(
      Recovery,
      Effect.gen(function* () {
        const { opts } = yield* HostConfig
        const repo = yield* Repo
        const ports = portsOf(repo)
        const lock = yield* Effect.acquireRelease(
          Effect.tryPromise({ try: () => ports.lock(), catch: (e) => e }),
          (l) => Effect.promise(() => l.release())
        )
        const recovered = yield* Effect.tryPromise({ try: () => recover(repo, ports, lock.crashed, opts.warn), catch: (e) => e })
        yield* Effect.addFinalizer(() => Effect.promise(() => recovered.journal.close()))
        return recovered
      })
    )

  static layer = Recovery.over(liveRecoveryPorts)
}

const readCursor = async (file: string): Promise<number> => {
  try {
    return Number(JSON.parse(await fs.readFile(file, "utf8")).seq) || 0
  } catch {
    return 0
  }
}

/** The record of a replay in progress, if one was left. */
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

const recover = async (repo: Repo["Type"], ports: RecoveryPorts, crashed: boolean, warn: (line: string) => void): Promise<Recovered> => {
  const { layout, git, branch, uuid } = repo
  // the last holder died holding the lock, in the middle of who knows what
  if (crashed) await ports.clearStaleLocks(warn)
  const { journal, events } = await ports.openJournal(warn)
  try {
    let head = await git.headOid()
    // HEAD's tree is read while the checks below run: they may reset the index and the work tree,
    // never HEAD
    const loading = (async () => {
      const snapshot = head ? await loadSnapshot(layout.treeSnapshot, head) : undefined
      if (snapshot) return { tree: snapshot, fromGit: false, skipped: undefined }
      const loaded = await git.loadTree(head)
      return { tree: loaded.tree, fromGit: true, skipped: loaded.skipped.length ? loaded : undefined }
    })()
    loading.catch(() => undefined) // awaited below
    let cursor = await readCursor(layout.cursor)
    let resetFailed: unknown
    // A replay interrupted after its commit but before the cursor moved. Only this host's own record
    // says so: while it exists nothing but that replay moves the branch, so a branch that moved from
    // where the replay started holds the replay's commits. (A commit's trailers cannot say it: a
    // peer writes whatever it likes there, and a forged `Sharebox-Seq` once made this host drop its
    // pending writes.)
    const replaying = await readReplaying(layout.replaying)
    const interrupted = replaying !== undefined
    if (replaying && head !== undefined && head !== replaying.from && replaying.seq > cursor) {
      cursor = replaying.seq
      await writeAtomic(layout.cursor, JSON.stringify({ seq: cursor }), true)
    }
    if (replaying) await fs.rm(layout.replaying, { force: true })
    const started = head
    if (started) {
      // The work tree is scanned (`git status` lstats every file, and git-annex's filter reads the
      // racily clean ones: seconds for 100,000 files) only when something may have been left half
      // done: a crash, a replay cut short, or an index that is not HEAD's tree (a checkout that did
      // not finish, changes staged by hand).
      if (crashed || interrupted || !(await git.indexIsAt(started))) {
        if (await git.workTreeChanged()) await git.resetHard(started).catch((e) => (resetFailed = e))
      }
    }
    const pending = events.filter((e) => e.host === uuid && e.seq > cursor)
    const nextSeq = Math.max(cursor, ...events.map((e) => e.seq)) + 1
    const { tree, fromGit, skipped } = await loading
    if (head && skipped) {
      // HEAD itself holds entries no host can hold (merged by an older sharebox, or by plain
      // git-annex): they are left out by a commit on top, which the work tree can check out
      warn(describeLeftOut("this gitdir's HEAD", skipped.skipped))
      const clean = await leaveOut(git, head, skipped)
      await git.updateRef(`refs/heads/${branch}`, clean, head)
      head = clean
      await git.resetHard(head)
      resetFailed = undefined
    }
    if (resetFailed !== undefined) throw resetFailed
    return { journal, base: tree, head, pending, nextSeq, unsavedSnapshot: head && fromGit ? { commit: head, tree } : undefined }
  } catch (e) {
    await journal.close()
    throw e
  }
}
