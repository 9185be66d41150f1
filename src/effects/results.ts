/**
 * What each request to the daemon answers, as Schemas: the command checks an answer against the
 * schema of the request it sent, so a daemon of another sharebox cannot hand it values it misreads.
 * The types of these values are derived from here, the one place they are written down.
 */
import * as Schema from "effect/Schema"

const Peer = Schema.Struct({ name: Schema.String, reason: Schema.String })

/** A conflict: `copy` is where the losing version went. */
const Conflict = Schema.Struct({ path: Schema.String, copy: Schema.String })

export const SyncReport = Schema.Struct({
  reached: Schema.Array(Schema.String),
  unreachable: Schema.Array(Peer),
  /** peers reached whose tree could not be told apart from their other branches (see peerBranches) */
  unmerged: Schema.Array(Peer),
  /** peers that failed in a way only a person can fix (host key, key, a rejected push), and a content policy that failed */
  failed: Schema.optional(Schema.Array(Peer)),
  conflicts: Schema.Array(Conflict),
  merged: Schema.Number
})
export type SyncReport = typeof SyncReport.Type

export const ReplaySummary = Schema.Struct({
  events: Schema.Number,
  commits: Schema.Number,
  /** the plan as lines a person reads (see planLines) */
  lines: Schema.Array(Schema.String)
})
export type ReplaySummary = typeof ReplaySummary.Type

export const LogEntry = Schema.Struct({
  op: Schema.String,
  path: Schema.String,
  to: Schema.optional(Schema.String),
  time: Schema.String,
  size: Schema.optional(Schema.Number),
  /** "journal": not replayed yet; "replayed": in a local commit no peer has yet */
  state: Schema.Literal("journal", "replayed"),
  commit: Schema.optional(Schema.String)
})
export type LogEntry = typeof LogEntry.Type

const Count = Schema.Struct({ total: Schema.Number, present: Schema.Number })

export const Status = Schema.Struct({
  gitdir: Schema.String,
  mountpoint: Schema.NullOr(Schema.String),
  pending: Schema.Number,
  unshared: Schema.Number,
  journalBytes: Schema.Number,
  lastSync: Schema.NullOr(Schema.Struct({ time: Schema.String, reached: Schema.Array(Schema.String), unreachable: Schema.Array(Peer), failed: Schema.optional(Schema.Array(Peer)) })),
  conflicts: Schema.Array(Conflict),
  files: Count,
  bytes: Count,
  pins: Schema.Array(Schema.String),
  /** paths kept on this host only (.shareboxignore): files, folders and symlinks of its own */
  ignored: Schema.Number
})
export type Status = typeof Status.Type

export const Whereis = Schema.Struct({
  path: Schema.String,
  key: Schema.String,
  here: Schema.Boolean,
  locations: Schema.Array(Schema.Struct({ uuid: Schema.String, description: Schema.String, here: Schema.Boolean }))
})
export type Whereis = typeof Whereis.Type

export const VersionInfo = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  time: Schema.String,
  host: Schema.NullOr(Schema.String),
  /** a text merge's version: the writers of the two edits it merged, by name */
  writers: Schema.optional(Schema.Array(Schema.String)),
  size: Schema.NullOr(Schema.Number),
  key: Schema.NullOr(Schema.String),
  deleted: Schema.Boolean,
  present: Schema.Boolean
})
export type VersionInfo = typeof VersionInfo.Type

export const ConflictInfo = Schema.Struct({
  path: Schema.String,
  copy: Schema.String,
  /** the file's version, then the copy's */
  versions: Schema.Array(
    Schema.Struct({
      path: Schema.String,
      host: Schema.NullOr(Schema.String),
      time: Schema.String,
      size: Schema.NullOr(Schema.Number),
      key: Schema.NullOr(Schema.String)
    })
  )
})
export type ConflictInfo = typeof ConflictInfo.Type

export const Ping = Schema.Struct({ pid: Schema.Number, mountpoint: Schema.String })

export const Restored = Schema.Struct({ path: Schema.String, version: Schema.String })

/** Lines for a person (resolve), or the pins after a pin or unpin. */
export const Lines = Schema.Array(Schema.String)
