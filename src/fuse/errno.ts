/**
 * The one table from outcomes to errnos (negated, as fuse-native wants them). Unknown errors
 * become EIO and are logged with their cause.
 */
import type { Refusal, RefusalTag } from "../domain/reduce.js"
import { Busy, CommandFailed, CommandTimedOut, ContentUnavailable, JournalCorrupt, JournalUnwritable, NotFound } from "../effects/errors.js"

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

export const errnoOf = (e: unknown, log: (line: string) => void): number => {
  if (e instanceof ContentUnavailable) return E.EIO
  if (e instanceof NotFound) return E.ENOENT
  if (e instanceof Busy) return E.EBUSY
  if (e instanceof JournalCorrupt || e instanceof JournalUnwritable || e instanceof CommandFailed || e instanceof CommandTimedOut) {
    log(`error: ${e.message}`)
    return E.EIO
  }
  const code = (e as { code?: string } | undefined)?.code
  if (code && code in CODES) return CODES[code]!
  log(`unexpected error: ${(e as Error)?.stack ?? String(e)}`)
  return E.EIO
}
