/**
 * What the FUSE layer needs from the rest of sharebox, one small role each, in domain types only:
 * the daemon (mount.ts) passes whatever plays each role, and no other file of src/fuse imports a
 * service. The members getattr, lookup, read, write and readdir reach are plain synchronous calls.
 */
import type { Event, Operation } from "../domain/events.js"
import type { Moment } from "../domain/moments.js"
import type { Conflict } from "../domain/merge.js"
import type { Refusal } from "../domain/reduce.js"
import type { Version } from "../domain/retention.js"
import type { FileNode, Tree } from "../domain/tree.js"

/** The view the mount shows. It is replaced whole (a merge, a replay): read it at each use. */
export interface ViewSource {
  readonly view: Tree
  /** `f` is told the view before and after each time it is replaced, once the new one shows. */
  onReplaced(f: (before: Tree, after: Tree) => void): void
}

/** A file open for writing, on its copy-on-write staging file. */
export interface WriteSession {
  readonly id: string
  /** the file's path now (it follows renames) */
  readonly path: string
  /** the staging file, open for reading and writing */
  readonly fd: number
  readonly size: number
  /** permission bits */
  mode: number
  mtime: number
  /** when a write or truncate last changed the content (0: not since it opened) */
  readonly writtenAt: number
  /** the version of the file the journal last has, null for a new file the journal has not had yet */
  readonly base: string | null
}

/** Write sessions: the staging files behind files open for writing. */
export interface Staging {
  readonly sessionByPath: ReadonlyMap<string, WriteSession>
  /** Opens (or joins) the session of a file; a new file's when there is none at `path`. */
  /** `createMode`: a new file's permission bits (an existing file keeps its own) */
  openSession(path: string, truncate: boolean, createMode?: number): Promise<WriteSession>
  /** Takes in a file the binding created on its own thread (see CreatesHere in binding.ts). */
  adoptCreated(path: string, id: string, fd: number, mode: number, mtime: number): WriteSession
  /** Takes in what the binding wrote to the staging file without the handlers. */
  pullWrites(s: WriteSession): void
  /** A write or truncate made the file `size` bytes long. */
  touchSession(s: WriteSession, size: number): void
  /** Journals the session's content as a version if it changed. */
  flushSession(s: WriteSession): Promise<void>
  /** Journals a new file's first version if the journal has no version of it yet (see directories.ts, rename). */
  journalNew(s: WriteSession): Promise<void>
  releaseSession(s: WriteSession): Promise<void>
  /** The file at `path` went away: its session, if any, writes nowhere now. */
  forgetSession(path: string): void
  /** Keeps sessions attached to their files across a rename. */
  renameSessions(from: string, to: string): void
  stagingFile(id: string): string
}

/** Where content is, here. */
export interface Content {
  /** answered at once, from memory or one look at the object file: getattr asks it */
  isPresent(key: string): boolean
  /** a read of `key` began (for the cache's retention) */
  noteRead(key: string): void
  /** the file holding a node's content, fetched first when it is not here */
  contentFile(path: string, node: FileNode): Promise<string>
}

/** Which hosts have content, by their descriptions. */
export interface Locations {
  whereis(key: string): Promise<ReadonlyArray<string>>
}

/** The journal: every change made through the mount becomes an event there. */
export interface Recorder {
  /**
   * Applies `op` to the view and journals it: undefined once written, else why it does not apply
   * (nothing is recorded then). `onApplied` runs once the view has it, before the journal does.
   */
  record(op: Operation, time?: number, onApplied?: () => void): Promise<Refusal | undefined>
  /** Puts what was recorded on the disk. */
  syncJournal(): Promise<void>
  /** Puts the names of staging files on the disk (their content: fsync of each). */
  syncStagingNames(): Promise<void>
}

/** What `.sharebox/status` and `.sharebox/conflicts` show. */
export interface HostStatus {
  readonly gitdir: string
  readonly pending: ReadonlyArray<Event>
  readonly sessions: ReadonlyMap<string, unknown>
  readonly lastSync: { readonly time: number } | undefined
  openConflicts(): ReadonlyArray<Conflict>
}

/** One committed version of a path, as `.sharebox/history/` shows it. */
export interface HistoryVersion extends Version {
  /** the blob in git (a plain blob's content), when there is one */
  readonly oid: string | undefined
  readonly size: number
}

/** Every path's committed versions, for `.sharebox/history/`. */
export interface Versions {
  /** the commit the history is of; a new one means a new history */
  readonly head: string | undefined
  history(): Promise<ReadonlyMap<string, ReadonlyArray<HistoryVersion>>>
}

/** The past states of the tree, for `.sharebox/at/`: each answered at once when it is cached. */
export interface PastStates {
  /** the branch's states, oldest first, their times non-decreasing (domain/moments.ts) */
  moments(): ReadonlyArray<Moment> | Promise<ReadonlyArray<Moment>>
  /** the tree of a commit */
  tree(commit: string): Tree | Promise<Tree>
}

/**
 * The tagged errors of the services that the errno table tells apart (src/fuse/errno.ts); any
 * other failure is an EIO, logged with its cause.
 */
export type FailureTag = "ContentUnavailable" | "NotFound" | "Busy" | "JournalCorrupt" | "JournalUnwritable" | "CommandFailed" | "CommandTimedOut"

/** Every role the FUSE layer is given. */
export interface Ports {
  readonly views: ViewSource
  readonly staging: Staging
  readonly content: Content
  readonly locations: Locations
  readonly recorder: Recorder
  readonly status: HostStatus
  readonly versions: Versions
  readonly past: PastStates
}
