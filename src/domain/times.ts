/**
 * The access time a read leaves, under a mount's atime policy (mount(8): `noatime`, `relatime`,
 * `strictatime`). Pure: the clock comes in as `now`; times are milliseconds.
 */

export type AtimePolicy = "relatime" | "noatime" | "strict"

export const DAY_MS = 24 * 60 * 60 * 1000

/** A path's three times, as stat shows them. */
export interface Times {
  readonly atime: number
  readonly mtime: number
  readonly ctime: number
}

/**
 * The atime after a read at `now`: `t.atime` itself when the read leaves it as it is. relatime is
 * Linux's rule (fs/inode.c, relatime_need_update): the first read after a change (atime not newer
 * than mtime or ctime) moves it, and then at most once a day; so "read since last written?" keeps
 * its answer without a metadata change per read.
 */
export const atimeAfterRead = (policy: AtimePolicy, t: Times, now: number): number => {
  switch (policy) {
    case "noatime":
      return t.atime
    case "strict":
      return now
    case "relatime":
      return t.atime <= t.mtime || t.atime <= t.ctime || now - t.atime >= DAY_MS ? now : t.atime
  }
}
