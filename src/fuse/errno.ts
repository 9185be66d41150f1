/**
 * The one table from outcomes to errnos (negated, as fuse-native wants them). Unknown errors
 * become EIO and are logged with their cause.
 */
import type { Refusal, RefusalTag } from "../domain/reduce.js"
import type { FailureTag } from "./ports.js"

export const E = {
  EPERM: -1,
  ENOENT: -2,
  EIO: -5,
  EBADF: -9,
  EACCES: -13,
  EBUSY: -16,
  EEXIST: -17,
  EXDEV: -18,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  EFBIG: -27,
  ENOSPC: -28,
  EROFS: -30,
  ENAMETOOLONG: -36,
  ENOSYS: -38,
  ENOTEMPTY: -39,
  ENODATA: -61,
  ENOTSUP: -95,
  EDQUOT: -122
} as const

/** What each refusal of the reducer means to the caller of a file operation. */
const REFUSALS: { readonly [T in RefusalTag]: number } = {
  InvalidPath: E.EINVAL,
  ParentNotDirectory: E.ENOENT,
  IsDirectory: E.EISDIR,
  AlreadyExists: E.EEXIST,
  NotDirectory: E.ENOTDIR,
  DirectoryNotEmpty: E.ENOTEMPTY,
  NoSuchFile: E.ENOENT,
  MoveIntoItself: E.EINVAL
}

export const errnoOfRefusal = (r: Refusal): number => REFUSALS[r._tag]

/** Node's error codes for the I/O the adapter does itself. */
const CODES: Record<string, number> = {
  ENOENT: E.ENOENT,
  EACCES: E.EACCES,
  EPERM: E.EPERM,
  // a journal or staging write that ran out of room: the writer must learn which limit it hit
  ENOSPC: E.ENOSPC,
  EDQUOT: E.EDQUOT,
  EFBIG: E.EFBIG,
  EISDIR: E.EISDIR,
  ENOTDIR: E.ENOTDIR,
  EEXIST: E.EEXIST,
  EBADF: E.EBADF,
  EINVAL: E.EINVAL
}

/**
 * What each tagged error of the services means to the caller, by tag (the services' own modules
 * are not this layer's to import); `logged`: a person must hear of it, the caller gets only EIO.
 */
const FAILURES: { readonly [T in FailureTag]: { readonly errno: number; readonly logged: boolean } } = {
  ContentUnavailable: { errno: E.EIO, logged: false },
  NotFound: { errno: E.ENOENT, logged: false },
  Busy: { errno: E.EBUSY, logged: false },
  JournalCorrupt: { errno: E.EIO, logged: true },
  JournalUnwritable: { errno: E.EIO, logged: true },
  CommandFailed: { errno: E.EIO, logged: true },
  CommandTimedOut: { errno: E.EIO, logged: true }
}

const failureOf = (e: unknown): (typeof FAILURES)[FailureTag] | undefined => {
  const tag = e instanceof Error ? (e as { _tag?: unknown })._tag : undefined
  return typeof tag === "string" && Object.hasOwn(FAILURES, tag) ? FAILURES[tag as FailureTag] : undefined
}

export const errnoOf = (e: unknown, log: (line: string) => void): number => {
  const failure = failureOf(e)
  if (failure) {
    if (failure.logged) log(`error: ${(e as Error).message}`)
    return failure.errno
  }
  const code = (e as { code?: string } | undefined)?.code
  if (code && code in CODES) return CODES[code]!
  log(`unexpected error: ${(e as Error)?.stack ?? String(e)}`)
  return E.EIO
}
