/**
 * What the services of a host ask of git, git-annex and the journal, and nothing more: the live
 * implementations are `liveGit` (gitport.ts, over `Git`), `Annex` and `Journal`; the model-based
 * test (test/model) runs the same services over in-memory ones.
 */
import type { Event } from "../domain/events.js"
import type { Commit } from "../domain/replayplan.js"
import type { LoadedTree } from "../domain/storage.js"
import type { PeerWay } from "./gitenv.js"

/** How a fetch or a push to one peer ended: a non-zero code is a value, its last words in `stderr`. */
export interface PeerExchange {
  readonly code: number | null
  readonly stderr: string
}

/** One change to one stored path in one commit, as `git log --raw` lists them (history.ts). */
export interface LoggedChange {
  readonly commit: string
  /** milliseconds (the commit's Sharebox-Time trailer when it agrees with git's seconds) */
  readonly time: number
  /**
   * the writer's git-annex UUID, from the committer's address; for a plain commit (`plain`), its
   * author's name as a host id (domain/plainwriters.ts)
   */
  readonly host: string | undefined
  /** made by a commit sharebox did not make (a plain git-annex peer's): its time is the author's */
  readonly plain?: boolean
  /** a text merge's two writers, the committer one of them (its `Sharebox-Writers` trailer) */
  readonly writers?: ReadonlyArray<string>
  /** the stored path (not yet decoded to a mount path) */
  readonly path: string
  readonly mode: string
  /** undefined for a deletion */
  readonly oid: string | undefined
}

export interface GitPort {
  headOid(): Promise<string | undefined>
  /** The branch HEAD points at. */
  branch(): Promise<string>
  revParse(rev: string): Promise<string | undefined>
  /** Seconds of the commit time, as milliseconds (a date no Date can hold counts as the epoch). */
  commitTime(oid: string): Promise<number>
  /** The tree stored in a commit, as the view reads it (domain/storage.ts). */
  loadTree(commit: string | undefined): Promise<LoadedTree>
  /**
   * Writes `commits` one on top of the other, the first on `parent`, and moves `ref` to the last
   * (refused when `ref` moved meanwhile); returns the last commit's id.
   */
  writeCommits(commits: ReadonlyArray<Commit>, parent: string | undefined, ref: string): Promise<string>
  /** The commits from `since` (excluded) to `tip`, oldest first, following first parents. */
  firstParents(tip: string, since: string | undefined): Promise<Array<string>>
  /** Every commit of `tip` following first parents, oldest first, with its commit time (whole seconds, as milliseconds). */
  firstParentTimes(tip: string): Promise<Array<{ readonly commit: string; readonly time: number }>>
  /** Moves `ref` to `oid`, only from `expected` when given. */
  updateRef(ref: string, oid: string, expected?: string): Promise<void>
  deleteRef(ref: string): Promise<void>
  /** Whether `a` is `b` or one of its ancestors. */
  isAncestor(a: string, b: string): Promise<boolean>
  /** Every lowest common ancestor of two commits, sorted. */
  mergeBases(a: string, b: string): Promise<Array<string>>
  /** The non-merge commits one of `a` and `b` has and the other lacks; `settle`: a Sharebox-Settle commit. */
  commitsApart(a: string, b: string): Promise<Array<{ readonly oid: string; readonly settle: boolean }>>
  /** How many commits `head` has (itself included). */
  countCommits(head: string): Promise<number>
  /** The commits of `head` no remote-tracking ref has. */
  notOnRemotes(head: string): Promise<Array<string>>
  /** The names of the refs under `prefix` (e.g. `refs/remotes/laptop/`). */
  forEachRef(prefix: string): Promise<Array<string>>
  remotes(): Promise<Array<{ readonly name: string; readonly url: string }>>
  fetch(remote: string, opts: { readonly env: NodeJS.ProcessEnv; readonly timeoutSeconds: number; readonly signal?: AbortSignal }): Promise<PeerExchange>
  push(remote: string, refspecs: ReadonlyArray<string>, opts: { readonly env: NodeJS.ProcessEnv; readonly timeoutSeconds: number; readonly signal?: AbortSignal }): Promise<PeerExchange>
  /** Makes the index and work tree match `to` (coming from `from`). */
  checkout(from: string | undefined, to: string): Promise<void>
  /** Whether the index holds exactly `commit`'s tree. */
  indexIsAt(commit: string): Promise<boolean>
  /** Whether tracked files in the work tree or the index differ from HEAD. */
  workTreeChanged(): Promise<boolean>
  /** Resets the index and the work tree to `commit`. */
  resetHard(commit: string): Promise<void>
  /** Every change of every non-merge commit of `head`, oldest commit first. */
  changeLog(head: string): Promise<Array<LoggedChange>>
  /**
   * The changes of the non-merge commits `tip` has and `since` lacks, oldest first, when a plain
   * (not sharebox) commit is among them; else none.
   */
  plainChangesSince(tip: string, since: string | undefined): Promise<Array<LoggedChange>>
  /** The sizes of objects by id; one that is not there is left out. */
  blobSizes(oids: ReadonlyArray<string>): Promise<Map<string, number>>
  readBlobs(oids: ReadonlyArray<string>): Promise<Map<string, Buffer>>
  /** Writes one blob, byte for byte, to `file` (atomically). */
  blobToFile(oid: string, file: string): Promise<void>
}

export interface AnnexPort {
  /** Where the object of `key` is (or would be) in this repository. */
  objectFile(key: string): string
  /** Whether the object of `key` is here (synchronous: getattr asks it). */
  hasObject(key: string): boolean
  /** Moves finished staging files into the annex as the objects of their keys. */
  ingest(items: ReadonlyArray<{ readonly staged: string; readonly key: string }>): Promise<void>
  /** Records in the git-annex branch that this repository has these keys. */
  recordPresent(keys: ReadonlyArray<string>): Promise<void>
  /** Commits git-annex's journal to its branch and merges the peers' git-annex branches. */
  commitBranch(): Promise<void>
  /** runs `f` with git-annex reaching peers through this ssh command and these shared connections */
  withPeers<A>(way: PeerWay, f: () => Promise<A>): Promise<A>
  get(key: string): Promise<{ ok: boolean; message: string }>
  drop(key: string, opts: { readonly numcopies?: number; readonly force?: boolean }): Promise<{ ok: boolean; message: string }>
  /** uuid -> description of every repository git-annex knows. */
  descriptions(): Promise<Map<string, string>>
  locations(key: string): Promise<Array<{ uuid: string; description: string; here: boolean }>>
  whereis(key: string): Promise<Array<string>>
  /** Ends the long-lived processes (those at work are killed when `now`). */
  closeBatches(now?: boolean): void
  /** git-annex's remote.log (the special remotes its branch knows), "" when there is none to read. */
  remoteLog(): Promise<string>
  /** The UUIDs of the remotes enabled here. */
  enabledRemotes(): Promise<ReadonlySet<string>>
  /** `git annex enableremote NAME`, with git-annex's reason when it would not. */
  enableRemote(name: string, timeoutSeconds: number): Promise<{ ok: boolean; message: string }>
}

/** The journal of pending events, as the view's owner writes it (journal.ts). */
export interface JournalPort {
  readonly size: number
  /** Appends one record; it survives a crash of the process once this returns. */
  append(e: Event): void
  sync(): Promise<void>
  /** Holds `keep` and whatever is appended meanwhile, from now on. */
  rewrite(keep: ReadonlyArray<Event>): Promise<void>
  close(): Promise<void>
}

/** A lock held on the gitdir; `crashed` when its last holder died holding it. */
export interface HeldLock {
  readonly crashed: boolean
  release(): Promise<void>
}

/** What a start opens besides the repository: the gitdir's lock and its journal. */
export interface RecoveryPorts {
  lock(): Promise<HeldLock>
  openJournal(warn: (line: string) => void): Promise<{ readonly journal: JournalPort; readonly events: ReadonlyArray<Event> }>
  /** Removes the lock files git left when the last holder died with sharebox. */
  clearStaleLocks(warn: (line: string) => void): Promise<void>
}
